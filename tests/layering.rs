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

#[test]
fn model_depends_on_nothing() {
    assert_eq!(violations("model", &[]), Vec::<String>::new());
}

#[test]
fn policy_depends_only_on_model() {
    assert_eq!(violations("policy", &["model"]), Vec::<String>::new());
}

#[test]
fn inputs_do_not_depend_on_the_engine() {
    assert_eq!(violations("kube", &["model"]), Vec::<String>::new());
    assert_eq!(violations("workload", &["model"]), Vec::<String>::new());
    assert_eq!(
        violations("scenario", &["model", "kube", "workload", "policy"]),
        Vec::<String>::new()
    );
}

#[test]
fn sim_and_live_never_import_each_other() {
    let sim: Vec<String> = violations("sim", &["model", "policy", "cluster", "workload"]);
    assert_eq!(sim, Vec::<String>::new());
    let live: Vec<String> = violations(
        "live",
        &[
            "model", "policy", "kube", "workload", "cluster", "scenario", "report",
        ],
    );
    assert_eq!(live, Vec::<String>::new());
}
