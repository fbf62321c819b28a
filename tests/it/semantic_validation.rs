//! Semantic validation with Volcano's and Kubernetes' own rules as the anchor: what the real
//! control plane refuses is an error (exit 2, naming the file and field); what it accepts but
//! is surely unintended is a warning. Runs the `volsim` binary on small scenarios.

use std::path::PathBuf;
use std::process::Command;

const NODES: &str =
    "horizon = \"10m\"\n[[nodes]]\nname = \"n\"\ncount = 2\ncpu = \"4\"\nmemory = \"8Gi\"\n";
const CLASS: &str = "[[workload.classes]]\nname = \"c\"\nqueue = \"a\"\nrate_per_min = 1\nduration = { dist = \"fixed\", value = \"1m\" }\ncpu = \"1\"\nmemory = \"1Gi\"\n";

fn run(dir: &tempfile::TempDir, name: &str, text: &str) -> (i32, String) {
    let p: PathBuf = dir.path().join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .args(["run", p.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code().unwrap_or(-1), err)
}

fn queue(name: &str, extra: &str) -> String {
    format!("[[queues.inline]]\nname = \"{name}\"\nweight = 1\n{extra}\n")
}

#[test]
fn what_volcano_refuses_is_an_error_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "self-parent",
            format!("{NODES}{}{CLASS}", queue("a", "parent = \"a\"")),
            &["queue a.parent", "its own parent"],
        ),
        (
            "missing-parent",
            format!("{NODES}{}{CLASS}", queue("a", "parent = \"nope\"")),
            &["queue a.parent", "\"nope\" does not exist"],
        ),
        (
            "parent-cycle",
            format!(
                "{NODES}{}{}{CLASS}",
                queue("a", "parent = \"b\""),
                queue("b", "parent = \"a\"")
            ),
            &["parent", "loops back"],
        ),
        (
            "guarantee-above-capability",
            format!(
                "{NODES}{}{CLASS}",
                queue("a", "capability = { cpu = \"2\" }\nguarantee = { cpu = \"3\" }")
            ),
            &["queue a.guarantee.cpu", "above the capability"],
        ),
        (
            "duplicate-priority-class",
            format!(
                "{NODES}{}[[priority_classes]]\nname = \"p\"\nvalue = 1\n[[priority_classes]]\nname = \"p\"\nvalue = 2\n{CLASS}",
                queue("a", "")
            ),
            &["priority_classes p", "defined twice"],
        ),
        (
            "two-global-defaults",
            format!(
                "{NODES}{}[[priority_classes]]\nname = \"p\"\nvalue = 1\nglobal_default = true\n[[priority_classes]]\nname = \"q\"\nvalue = 2\nglobal_default = true\n{CLASS}",
                queue("a", "")
            ),
            &["priority_classes q.global_default", "global default already"],
        ),
        (
            "slo-on-nothing",
            format!(
                "slo = [\"ghost.p95_wait <= 1m\"]\n{NODES}{}{CLASS}",
                queue("a", "")
            ),
            &["slo[0]", "\"ghost\""],
        ),
        (
            "zero-period",
            format!(
                "{NODES}{}{CLASS}[sim]\nschedule_period = \"0s\"\n",
                queue("a", "")
            ),
            &["sim.schedule_period", "longer than 0"],
        ),
        (
            "zero-horizon",
            format!("{}{CLASS}", NODES.replace("\"10m\"", "\"0s\"") + &queue("a", "")),
            &["horizon", "longer than 0"],
        ),
    ];
    for (name, text, want) in cases {
        let (code, err) = run(&dir, name, &text);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(
            err.contains(&format!("{name}.toml")),
            "{name}: no file in {err}"
        );
        for w in want {
            assert!(err.contains(w), "{name}: expected {w:?} in {err}");
        }
    }
}

#[test]
fn surely_unintended_inputs_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let huge = CLASS.replace("cpu = \"1\"", "cpu = \"64\"");
    let (code, err) = run(&dir, "huge", &format!("{NODES}{}{huge}", queue("a", "")));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("fit no node and will never run") && err.contains("largest node is n-"),
        "{err}"
    );
    let no_pods = NODES.replace("memory = \"8Gi\"\n", "memory = \"8Gi\"\npods = 0\n");
    let (code, err) = run(
        &dir,
        "no-pods",
        &format!("{no_pods}{}{CLASS}", queue("a", "")),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("takes no pods"), "{err}");
    let (code, err) = run(
        &dir,
        "children",
        &format!(
            "{NODES}{}{}{CLASS}",
            queue("p", "guarantee = { cpu = \"1\" }"),
            queue("a", "parent = \"p\"\nguarantee = { cpu = \"2\" }")
        ),
    );
    assert!(err.contains("children's guarantees"), "exit {code}: {err}");
}
