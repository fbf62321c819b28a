//! Temporal task priority and fairness in the workload mapping: `[[mapping.priority]]` maps the
//! effective priority key (the activity's own, else its workflow's) to a PriorityClass and
//! `[[mapping.fairness]]` the effective fairness key to a queue, below the history's Volcano
//! hints and above the matching rule; without them the mapping is unchanged. Uses the
//! hand-made `tests/fixtures/temporal-export/priority-fairness.json` and a dev-server export.

use std::path::{Path, PathBuf};

use volsim::workload::mapping::{effective_priority, map_activity, MappingTable};
use volsim::workload::temporal::import_bytes;
use volsim::workload::workflow::{NodeKind, Workflow};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn one(rel: &str) -> Workflow {
    let p = fixture(rel);
    let bytes = std::fs::read(&p).unwrap();
    import_bytes(&p, &bytes, &mut Vec::new()).unwrap().unwrap()
}

const RULE: &str = "[[rule]]\nactivity_type = \"*\"\nqueue = \"batch\"\ncpu = \"1\"\n\
                    priority_class = \"rule-class\"\n";
const PRIORITY_AND_FAIRNESS: &str = "[[priority]]\npriority_key = 1\npriority_class = \"high\"\n\
     [[priority]]\npriority_key = 2\npriority_class = \"normal\"\n\
     [[fairness]]\nfairness_key = \"globex\"\nqueue = \"tenant-globex\"\n\
     [[fairness]]\nfairness_key = \"ac*\"\nqueue = \"tenant-acme\"\n";

/// (activity type, queue, priority class) of every mapped activity.
fn mapped(t: &MappingTable, w: &Workflow) -> Vec<(String, String, Option<String>)> {
    w.activities()
        .filter_map(|(_, a)| {
            map_activity(t, w, a).map(|j| (a.activity_type.clone(), j.queue, j.priority_class))
        })
        .collect()
}

fn s(v: &str) -> String {
    v.to_string()
}

#[test]
fn priority_key_and_fairness_key_choose_class_and_queue() {
    let w = one("temporal-export/priority-fairness.json");
    // Inheritance: score-batch sets only a weight, write-report nothing.
    let eff: Vec<_> = w
        .activities()
        .map(|(_, a)| effective_priority(&w, a))
        .map(|p| (p.priority_key, p.fairness_key, p.fairness_weight))
        .collect();
    assert_eq!(
        eff,
        vec![
            (Some(1), Some(s("globex")), Some(2.5)),
            (Some(2), Some(s("acme")), Some(0.1)),
            (Some(2), Some(s("acme")), None),
        ]
    );
    let plain: MappingTable = toml::from_str(RULE).unwrap();
    let with: MappingTable = toml::from_str(&format!("{RULE}{PRIORITY_AND_FAIRNESS}")).unwrap();
    // Without the tables: the rule alone, as before.
    assert_eq!(
        mapped(&plain, &w),
        vec![
            (s("train-model"), s("batch"), Some(s("rule-class"))),
            (s("score-batch"), s("batch"), Some(s("rule-class"))),
            (s("write-report"), s("batch"), Some(s("rule-class"))),
        ]
    );
    assert_eq!(
        mapped(&with, &w),
        vec![
            (s("train-model"), s("tenant-globex"), Some(s("high"))),
            (s("score-batch"), s("tenant-acme"), Some(s("normal"))),
            (s("write-report"), s("tenant-acme"), Some(s("normal"))),
        ]
    );
    // An unmatched key falls through to the rule.
    let other: MappingTable = toml::from_str(&format!(
        "{RULE}[[priority]]\npriority_key = 5\npriority_class = \"low\"\n\
         [[fairness]]\nfairness_key = \"initech\"\nqueue = \"x\"\n"
    ))
    .unwrap();
    assert_eq!(mapped(&other, &w), mapped(&plain, &w));
}

#[test]
fn history_hints_win_over_priority_and_fairness() {
    // session-000: `launch-volcano-session-job` carries priority {1, "umbrella"} and header
    // hints naming queue "interactive" and class "high".
    let w = one("temporal/session-000-100315.cli.json");
    let t: MappingTable = toml::from_str(
        "[[priority]]\npriority_key = 1\npriority_class = \"from-priority\"\n\
         [[fairness]]\nfairness_key = \"*\"\nqueue = \"from-fairness\"\n",
    )
    .unwrap();
    let launch = w
        .activities()
        .find(|(_, a)| a.activity_type == "launch-volcano-session-job")
        .unwrap()
        .1;
    let p = effective_priority(&w, launch);
    assert_eq!(
        (p.priority_key, p.fairness_key.as_deref()),
        (Some(1), Some("umbrella"))
    );
    let job = map_activity(&t, &w, launch).unwrap();
    let h = launch.hints.clone().unwrap();
    assert_eq!(Some(job.queue), h.queue);
    assert_eq!(job.priority_class, h.priority_class);
}

#[test]
fn bad_priority_and_fairness_entries_name_the_field() {
    for (toml_text, want) in [
        (
            "[[priority]]\npriority_key = 0\npriority_class = \"x\"\n",
            "priority_key 0",
        ),
        (
            "[[priority]]\npriority_key = 1\npriority_class = \"\"\n",
            "priority_class must not be empty",
        ),
        ("[[priority]]\npriority_key = 1\n", "priority_class"),
        (
            "[[fairness]]\nfairness_key = \"\"\nqueue = \"q\"\n",
            "fairness_key must not be empty",
        ),
        (
            "[[fairness]]\nfairness_key = \"a\"\nqueue = \"q\"\nweight = 2\n",
            "weight",
        ),
    ] {
        let e = toml::from_str::<MappingTable>(toml_text).unwrap_err();
        assert!(e.to_string().contains(want), "{toml_text}: {e}");
    }
}

#[test]
fn scenario_checks_the_mapped_queue_and_class_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let p = fixture("temporal-export/priority-fairness.json");
    let imported = volsim::workload::temporal::import_paths(&[p], true).unwrap();
    let jsonl = dir.path().join("w.jsonl");
    volsim::workload::workflow::write_jsonl(&jsonl, &imported.workflows).unwrap();
    let scenario = |queues: &str, extra: &str| {
        format!(
            "seed = 1\n[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"8\"\nmemory = \"32Gi\"\n\
             {queues}\
             [[priority_classes]]\nname = \"high\"\nvalue = 1000\n\
             [[priority_classes]]\nname = \"normal\"\nvalue = 100\n\
             [workload]\nworkflows = {:?}\n[mapping]\nhints = false\n\
             [[mapping.rule]]\nactivity_type = \"*\"\nqueue = \"batch\"\ncpu = \"1\"\n{extra}",
            jsonl.display().to_string()
        )
    };
    let queues =
        "[[queues.inline]]\nname = \"batch\"\n[[queues.inline]]\nname = \"tenant-globex\"\n\
                  [[queues.inline]]\nname = \"tenant-acme\"\n";
    let extra = "[[mapping.priority]]\npriority_key = 1\npriority_class = \"high\"\n\
                 [[mapping.priority]]\npriority_key = 2\npriority_class = \"normal\"\n\
                 [[mapping.fairness]]\nfairness_key = \"globex\"\nqueue = \"tenant-globex\"\n\
                 [[mapping.fairness]]\nfairness_key = \"acme\"\nqueue = \"tenant-acme\"\n";
    let path = dir.path().join("s.toml");
    let sc = volsim::scenario::load_str(&scenario(queues, extra), &path).unwrap();
    let r = volsim::run::run(&volsim::run::RunSpec { scenario: sc });
    assert_eq!(r.workflows.len(), 1);
    assert!(r.workflows[0].simulated_e2e_ms.is_some());
    // A fairness entry naming a queue the scenario lacks is a scenario error naming it.
    let only_batch = "[[queues.inline]]\nname = \"batch\"\n";
    let e = volsim::scenario::load_str(&scenario(only_batch, extra), &path).unwrap_err();
    assert!(e.to_string().contains("tenant-globex"), "{e}");
    // A priority entry naming an undefined class, likewise.
    let bad_class = "[[mapping.priority]]\npriority_key = 1\npriority_class = \"urgent\"\n";
    let e = volsim::scenario::load_str(&scenario(queues, bad_class), &path).unwrap_err();
    assert!(e.to_string().contains("urgent"), "{e}");
    // Without workflows, the tables are an error like rules.
    let text = "seed = 1\n[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"8\"\nmemory = \"32Gi\"\n\
                [[mapping.fairness]]\nfairness_key = \"a\"\nqueue = \"default\"\n";
    assert!(volsim::scenario::load_str(text, &path).is_err());
}

#[test]
fn activity_nodes_carry_the_recorded_priority() {
    let w = one("temporal-export/priority-fairness.json");
    let n = w.node(5).unwrap();
    let NodeKind::Activity(a) = &n.kind else {
        panic!()
    };
    let p = a.priority.as_ref().unwrap();
    assert_eq!(p.fairness_weight, Some(2.5));
}
