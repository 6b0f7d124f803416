//! The crate's layering, held mechanically: each module under `src/` may use only modules
//! of lower layers (data flows one way), and the crate map in `src/lib.rs`
//! names every module. A small scan of `crate::` paths and `use super::` is enough.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Lowest first; the same map as `src/lib.rs`'s header.
const LAYERS: &[&[&str]] = &[
    &["clock", "embedded", "error", "vocab"],
    &["config", "aws", "http"],
    &["telemetry", "ops", "store"],
    &["auth", "speech", "eventlog"],
    &["act", "chart"],
    &["dialog"],
    &["nlu"],
    &["assistant"],
    &["channel", "models"],
    &["notify"],
    &["server", "chat"],
    &["app"],
    &["lambda"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("readable").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file's code names with `crate::<module>`.
fn uses(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c}`: every first segment in the group.
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .map(|p| p.trim().split("::").next().unwrap_or("").trim())
                .collect()
        } else {
            vec![
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or(""),
            ]
        };
        found.extend(
            names
                .into_iter()
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        );
    }
    found
}

#[test]
fn no_module_imports_from_a_module_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let module = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a name")
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "main" {
            continue; // the root and the binary sit above everything
        }
        let own = layer(&module).unwrap_or_else(|| {
            panic!(
                "src/{} is in no layer: add `{module}` to LAYERS and to the crate map in lib.rs",
                rel.display()
            )
        });
        let text = std::fs::read_to_string(file).expect("readable");
        for used in uses(&text) {
            if used == module || used == "self" {
                continue;
            }
            seen += 1;
            match layer(&used) {
                Some(l) if l < own => {}
                Some(_) => wrong
                    .entry(format!("src/{}", rel.display()))
                    .or_default()
                    .push(used),
                // The crate root's re-exports (`crate::StartError`) point up too.
                None => wrong
                    .entry(format!("src/{}", rel.display()))
                    .or_default()
                    .push(format!("{used} (the crate root)")),
            }
        }
    }
    assert!(
        seen > 50,
        "the scan found only {seen} crate paths: it is not reading the code"
    );
    assert!(
        wrong.is_empty(),
        "imports from a module in the same or a higher layer (see LAYERS):\n{wrong:#?}"
    );
}

#[test]
fn the_crate_map_names_every_module() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    assert!(declared.len() >= 15, "{declared:?}");
    for module in declared {
        assert!(
            lib.contains(&format!("[`{module}`]")),
            "the crate map in lib.rs omits `{module}`"
        );
        assert!(layer(module).is_some(), "`{module}` is in no layer");
    }
}

#[test]
fn the_scan_sees_what_it_must_refuse() {
    assert_eq!(uses("use crate::dialog::Intent;"), ["dialog"]);
    assert_eq!(
        uses("use crate::{ops, speech::Renderer};"),
        ["ops", "speech"]
    );
    assert_eq!(uses("x = crate::ops::age(now, then)"), ["ops"]);
}
