//! The layering rule of design/architecture.md, checked on the sources: the policy core imports
//! nothing of the crate but `model`; `sim` and `live` never import each other; `model` imports
//! nothing; `scenario`, `workload` and `kube` never import the engine.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::<module>` paths used by the files under `src/<module>`.
fn violations(module: &str, allowed: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(module);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let single = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(format!("{module}.rs"));
    if single.exists() {
        files.push(single);
    }
    let mut bad = Vec::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(pos) = rest.find("crate::") {
                let after = &rest[pos + 7..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module && !allowed.contains(&name.as_str()) {
                    bad.push(format!("{}:{}: uses crate::{name}", f.display(), i + 1));
                }
                rest = &after[name.len()..];
            }
        }
    }
    bad
}

/// The module map of `docs/architecture.md`: each module and the crate modules it may import
/// (its own unit tests included). Every module under `src/` must be listed.
const RULES: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("policy", &["model"]),
    ("kube", &["model"]),
    ("workload", &["model"]),
    ("conformance", &["model", "policy"]),
    ("scenario", &["model", "kube", "workload", "policy"]),
    ("cluster", &["model", "policy", "workload"]),
    ("engine", &["model", "policy", "cluster", "workload"]),
    ("sim", &["model", "policy", "cluster", "engine", "workload"]),
    // `policy` and `workload` only in the report's unit tests (building a small run).
    (
        "report",
        &["model", "sim", "scenario", "policy", "workload"],
    ),
    ("run", &["scenario", "sim", "report"]),
    ("sweep", &["model", "run", "scenario", "report"]),
    ("check", &["report"]),
    (
        "live",
        &["model", "policy", "kube", "workload", "cluster", "engine"],
    ),
];

#[test]
fn every_module_keeps_its_layer() {
    let mut bad = Vec::new();
    for (module, allowed) in RULES {
        bad.extend(violations(module, allowed));
    }
    assert_eq!(bad, Vec::<String>::new());
}

#[test]
fn every_module_has_a_rule() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(m) = line
            .strip_prefix("pub mod ")
            .and_then(|l| l.strip_suffix(';'))
        {
            assert!(
                RULES.iter().any(|(r, _)| *r == m),
                "module {m} has no layering rule in tests/layering.rs"
            );
        }
    }
}

#[test]
fn sim_and_live_never_import_each_other() {
    for (module, allowed) in RULES {
        if *module == "sim" {
            assert!(!allowed.contains(&"live"));
        }
        if *module == "live" {
            assert!(!allowed.contains(&"sim") && !allowed.contains(&"scenario"));
        }
    }
}
