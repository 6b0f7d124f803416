//! The files the binary carries: the conversation model (`intents/`) and the prompts
//! (`prompts/<locale>/`), found by directory at build time (`build.rs`). A leaf.

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
