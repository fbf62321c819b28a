//! Unit tests of the `kube` loader on broken inputs: every message must name the file, the
//! document, the field and the bad value; nothing may panic.

use super::tests::{assert_has, err, ok, CONFIGMAP, NODES, PODGROUP, PRIORITY, QUEUES, TF_JOB};
use super::*;

const Q: &str = "apiVersion: scheduling.volcano.sh/v1beta1\nkind: Queue\nmetadata:\n  name: q2\n";

#[test]
fn bad_quantity_names_file_document_line_field_and_value() {
    let text = format!("{QUEUES}---\n{Q}spec:\n  capability:\n    cpu: 12x\n");
    let e = parse_objects(&text, "bad.yaml").unwrap_err();
    assert_eq!(
        (e.document, e.field.as_deref()),
        (Some(3), Some("spec.capability.cpu"))
    );
    assert_eq!(
        e.line,
        Some(text.lines().position(|l| l.contains("12x")).unwrap() as u32 + 1)
    );
    assert_has(
        &e.to_string(),
        &[
            "bad.yaml:",
            "document 3 (Queue q2)",
            "spec.capability.cpu",
            "\"12x\"",
            "expected",
        ],
    );
}

#[test]
fn bad_weights_are_rejected() {
    for (w, shown) in [("0", "0"), ("-3", "-3"), ("1.5", "1.5"), ("abc", "abc")] {
        let e = err(&format!("{Q}spec:\n  weight: {w}\n"));
        assert_has(
            &e,
            &[
                "bad.yaml:6:",
                "document 1",
                "spec.weight",
                shown,
                "integer ≥ 1",
            ],
        );
    }
}

#[test]
fn bad_values_name_their_field() {
    let e = err(&format!("{Q}status:\n  state: Opened\n"));
    assert_has(&e, &["document 1", "status.state", "Opened", "Closed"]);
    let e = err(
        &format!("{Q}  annotations:\n    volcano.sh/sla-waiting-time: soon\n")
            .replace("kind: Queue", "kind: PodGroup"),
    );
    assert_has(
        &e,
        &[
            "bad.yaml:6:",
            "metadata.annotations[\"volcano.sh/sla-waiting-time\"]",
            "soon",
            "duration",
        ],
    );
    let e = err("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: p}\n");
    assert_has(
        &e,
        &["document 1 (PriorityClass p)", "missing field `value`"],
    );
    let e = err(&format!("{Q}spec:\n  reclaimable: maybe\n"));
    assert_has(&e, &["spec.reclaimable", "maybe", "boolean"]);
}

#[test]
fn vcjob_webhook_checks() {
    let job = |tasks: &str| {
        format!("apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata: {{name: j}}\nspec:\n  tasks:\n{tasks}")
    };
    let e = err(&job("  - {name: a, replicas: 1, minAvailable: 2}\n"));
    assert_has(
        &e,
        &[
            "bad.yaml:6:",
            "document 1 (Job j)",
            "spec.tasks[0].minAvailable",
            "must not exceed replicas",
        ],
    );
    let e = err(&job(
        "  - {name: a, replicas: 1}\n  - {name: a, replicas: 1}\n",
    ));
    assert_has(&e, &["spec.tasks[1].name", "duplicated"]);
    let e = err(&job(
        "  - name: a\n    replicas: 1\n    policies: [{event: PodRunning, action: RestartJob}]\n",
    ));
    assert_has(
        &e,
        &[
            "spec.tasks[0].policies[0].event",
            "PodRunning",
            "PodEvicted",
        ],
    );
    let e = err(&job("  - {name: a, replicas: 2, template: {spec: {containers: [{resources: {requests: {cpu: lots}}}]}}}\n"));
    assert_has(
        &e,
        &[
            "spec.tasks[0].template.spec.containers[0].resources.requests.cpu",
            "lots",
        ],
    );
    let e = err(&job("  - {replicas: 2}\n").replace("spec:\n", "spec:\n  minAvailable: 3\n"));
    assert_has(&e, &["spec.minAvailable", "invalid value 3", "(2)"]);
    let o = ok(&job(
        "  - {replicas: 2}\n  - {replicas: 3, minAvailable: 1}\n",
    ));
    let j = &o.vcjobs[0];
    assert_eq!(
        (
            j.tasks[0].name.as_str(),
            j.tasks[1].name.as_str(),
            j.min_available
        ),
        ("default0", "default1", 3)
    );
}

#[test]
fn syntax_errors_name_file_and_line() {
    let e = parse_objects(
        &format!("{QUEUES}---\n{Q}spec:\n  weight: [1\n"),
        "bad.yaml",
    )
    .unwrap_err();
    assert_eq!(e.document, Some(3));
    assert!(e.line.is_some_and(|l| l >= 33), "{e:?}");
    assert_has(
        &e.to_string(),
        &["bad.yaml:", "document 3", "YAML syntax error"],
    );
    let e = err("a: 1\n b: 2\n");
    assert_has(&e, &["bad.yaml:", "YAML syntax error"]);
}

#[test]
fn unknown_kinds_and_fields_are_warnings() {
    let text = format!("{Q}spec:\n  capabilty:\n    cpu: 2\n  weight: 2\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\n");
    let o = ok(&text);
    assert_eq!(o.queues[0].weight, 2);
    assert_eq!(o.warnings.len(), 2, "{:?}", o.warnings);
    assert_has(
        &o.warnings[0],
        &[
            "t.yaml:6:",
            "document 1 (Queue q2)",
            "spec.capabilty",
            "unknown field",
            "did you mean `capability`?",
        ],
    );
    assert_has(
        &o.warnings[1],
        &["t.yaml:", "document 2", "Deployment", "unknown kind"],
    );
    let o = ok(&TF_JOB.replace("nodeSelector:", "affinity: {}\n          nodeSelectr:"));
    assert_eq!(o.warnings.len(), 2, "{:?}", o.warnings);
    assert_has(
        &o.warnings[0],
        &["spec.tasks[1].template.spec.affinity", "not modelled"],
    );
    assert_has(
        &o.warnings[1],
        &["spec.tasks[1].template.spec.nodeSelectr", "unknown field"],
    );
    let o = ok(&format!("{Q}spec: {{}}\n").replace(
        "scheduling.volcano.sh/v1beta1",
        "scheduling.volcano.sh/v1alpha1",
    ));
    assert!(o.queues.is_empty());
    assert_has(&o.warnings[0], &["document 1", "apiVersion", "unsupported"]);
}

#[test]
fn duplicates_are_errors() {
    let e = err(&format!("{Q}---\n{Q}"));
    assert_has(
        &e,
        &[
            "document 2 (Queue q2)",
            "duplicate Queue \"q2\" (first defined in document 1)",
        ],
    );
    let e = err(&format!(
        "{PRIORITY}---\n{}",
        PRIORITY
            .split("---")
            .nth(1)
            .unwrap()
            .replace("low-priority-nonpreempting", "other")
    ));
    assert_has(
        &e,
        &["document 3", "globalDefault", "already the global default"],
    );
}

/// No input may panic: every prefix of every fixture, and byte-level corruptions.
#[test]
fn never_panics() {
    let all = [QUEUES, TF_JOB, PODGROUP, PRIORITY, CONFIGMAP, NODES].join("---\n");
    for end in (0..all.len())
        .step_by(9)
        .filter(|&i| all.is_char_boundary(i))
    {
        let _ = parse_objects(&all[..end], "p.yaml");
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let junk = [
        ":", "-", "[", "{", "\"", "'", "|", ">", "&a", "*a", "!!int", "\t", " ", "\n", "---\n",
        "0", "~",
    ];
    for _ in 0..150 {
        let mut s = all.clone();
        for _ in 0..3 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let mut at = (seed >> 33) as usize % s.len();
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            s.insert_str(at, junk[(seed >> 20) as usize % junk.len()]);
        }
        let _ = parse_objects(&s, "p.yaml");
    }
}

/// Huge but syntactically valid quantities saturate instead of overflowing.
#[test]
fn huge_requests_do_not_overflow() {
    let c = "{resources: {requests: {cpu: 9e15, memory: 7Ei}}}";
    let text = format!(
        "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata: {{name: j}}\nspec:\n  tasks:\n  - replicas: 4294967295\n    template: {{spec: {{containers: [{c}, {c}, {c}], initContainers: [{c}]}}}}\n"
    );
    let (pg, pods) = ok(&text).vcjobs[0].to_podgroup_and_pods(&[]);
    assert_eq!(pods[0].2.requests.cpu(), i64::MAX);
    assert_eq!(pg.min_resources.unwrap().memory(), i64::MAX);
}
