//! The files the binary carries: the conversation model (`intents/`) and the prompts
//! (`prompts/<locale>/`), found by directory at build time (`build.rs`), and the verbs of
//! an order read from them. A leaf.

use serde::Deserialize;

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The intent file that holds the verbs of an order ([`Orders`]).
pub const ORDERS_FILE: &str = "UnsupportedAction.toml";

/// The verbs of an order, the `[orders]` table of `intents/UnsupportedAction.toml`: the one
/// list the local matcher tells orders from questions by and the UnsupportedAction answer
/// names the action by. They sit this low because both read them, and the dialog is below
/// the matcher.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Orders {
    /// Verbs that order only when they act on something of ours ("create a ticket", not
    /// "open the garage").
    #[serde(default)]
    pub acting_verbs: Vec<String>,
    /// The kinds of action, in the order the answer looks for them.
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// One kind of action opsvoice is asked for: one it cannot take at all, or one it takes on
/// one thing at a time (restart one service, silence one alarm).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// The message the answer names it by (`action-*`) when it cannot be done.
    pub answer: String,
    /// The intent that takes this action on one service or alarm (`RestartService`), if
    /// opsvoice can take it: an order led by one of its `verbs` is that intent, unless it is
    /// about more than one thing ("restart everything in prod").
    #[serde(default)]
    pub intent: Option<String>,
    /// Verbs that make a request an order when it is led by one, as a whole word; the
    /// answer knows the action by them too.
    #[serde(default)]
    pub verbs: Vec<String>,
    /// Other words the answer knows the action by, anywhere in what was said.
    #[serde(default)]
    pub phrases: Vec<String>,
}

/// The embedded [`Orders`], parsed once; empty when [`ORDERS_FILE`] has none.
///
/// # Errors
/// When the file does not parse (`opsvoice check` and the tests report it, through the
/// matcher's model).
pub fn orders() -> Result<&'static Orders, toml::de::Error> {
    /// The one key read here; the intent's other keys are the matcher's.
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        orders: Orders,
    }
    static PARSED: std::sync::OnceLock<Result<Orders, toml::de::Error>> =
        std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            let source = INTENT_FILES
                .iter()
                .find(|(name, _)| *name == ORDERS_FILE)
                .map_or("", |(_, source)| source);
            toml::from_str::<File>(source).map(|f| f.orders)
        })
        .as_ref()
        .map_err(Clone::clone)
}
