//! Finds the conversation model and the prompts by directory, so adding an intent or a
//! prompt file needs no list edited in Rust: every `intents/*.toml` (but `builtins.toml`,
//! read on its own; `out-of-domain.txt` is the matcher's negative examples) and every `prompts/<locale>/*.ftl` is embedded, in name order, through
//! `src/embedded.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn sorted(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    found
}

fn name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("a UTF-8 file name")
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let intents = root.join("intents");
    let prompts = root.join("prompts");
    // A directory makes cargo rerun this on any change beneath it, new files included.
    println!("cargo:rerun-if-changed={}", intents.display());
    println!("cargo:rerun-if-changed={}", prompts.display());

    let mut out = String::from("/// The intent files, in name order (`builtins.toml` apart).\n");
    out.push_str("pub const INTENT_FILES: &[(&str, &str)] = &[\n");
    for file in sorted(&intents, "toml") {
        if name(&file) == "builtins.toml" {
            continue;
        }
        let _ = writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            name(&file),
            file.display().to_string()
        );
    }
    out.push_str("];\n\n/// The built-in intents' samples, for the local matcher only.\n");
    let _ = writeln!(
        out,
        "pub const BUILTINS_FILE: &str = include_str!({:?});\n",
        intents.join("builtins.toml").display().to_string()
    );
    out.push_str("/// Requests opsvoice cannot answer, for the local matcher only.\n");
    let _ = writeln!(
        out,
        "pub const OUT_OF_DOMAIN_FILE: &str = include_str!({:?});\n",
        intents.join("out-of-domain.txt").display().to_string()
    );
    out.push_str("/// The prompt files: (locale, file, source), by locale and name.\n");
    out.push_str("pub const PROMPTS: &[(&str, &str, &str)] = &[\n");
    let mut locales: Vec<PathBuf> = std::fs::read_dir(&prompts)
        .expect("prompts/ is readable")
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    locales.sort();
    for locale in locales {
        for file in sorted(&locale, "ftl") {
            let _ = writeln!(
                out,
                "    ({:?}, {:?}, include_str!({:?})),",
                name(&locale),
                name(&file),
                file.display().to_string()
            );
        }
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("embedded.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}
