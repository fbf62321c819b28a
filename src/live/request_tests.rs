//! Unit tests of request parsing and mapping.

use super::*;
use crate::model::{ResourceName, Resources};

fn catalog() -> (BTreeMap<String, TraceJob>, MappingTable) {
    let mut classes = BTreeMap::new();
    classes.insert(
        "etl".to_string(),
        TraceJob {
            id: "etl-0".into(),
            submit_ms: 5,
            duration_ms: 120_000,
            replicas: 3,
            min_member: 3,
            requests: Resources::cpu_mem(2000, 2 << 30),
            queue: "batch".into(),
            priority_class: Some("low".into()),
            priority: 0,
            class: "etl".into(),
        },
    );
    let mapping: MappingTable = toml::from_str(
        "default_queue = \"default\"\n[[rule]]\nactivity_type = \"run-slm-*\"\nqueue = \"inference\"\ncpu = \"2\"\nmemory = \"6Gi\"\ngpu = 1\nmin_member = 2\n",
    )
    .unwrap();
    (classes, mapping)
}

fn parse(body: &str) -> Result<Submission, LiveError> {
    let (classes, mapping) = catalog();
    let cat = Catalog {
        classes: &classes,
        mapping: &mapping,
        priority_classes: &[],
    };
    parse_submission(body.as_bytes(), None, &cat)
}

fn field_of(e: LiveError) -> String {
    match e {
        LiveError::BadRequest { field, .. } => field,
        other => panic!("not a bad request: {other}"),
    }
}

#[test]
fn maps_class_and_activity() {
    let s = parse(r#"{"idempotency_key":"k1","workflow_id":"wf","class":"etl"}"#).unwrap();
    assert_eq!(s.job.queue, "batch");
    assert_eq!((s.job.replicas, s.job.min_member), (3, 3));
    assert_eq!(s.job.id, object_name("k1"));
    assert_eq!(s.source, "class:etl");
    let s = parse(r#"{"idempotency_key":"k2","workflow_id":"wf","activity_type":"run-slm-7"}"#)
        .unwrap();
    assert_eq!(s.job.queue, "inference");
    assert_eq!(s.job.requests.get(ResourceName::GPU), 1000);
    assert_eq!((s.job.replicas, s.job.min_member), (2, 2));
    assert_eq!(s.job.duration_ms, DEFAULT_DURATION_MS);
}

#[test]
fn overrides_apply() {
    let s = parse(
        r#"{"idempotency_key":"k","workflow_id":"wf","class":"etl",
            "overrides":{"cpu":"500m","replicas":4,"min_member":2,"queue":"q2","duration":"90s","priority":7}}"#,
    )
    .unwrap();
    assert_eq!(s.job.requests.cpu(), 500);
    assert_eq!((s.job.replicas, s.job.min_member), (4, 2));
    assert_eq!(s.job.queue, "q2");
    assert_eq!(s.job.duration_ms, 90_000);
    assert_eq!(s.job.priority, 7);
}

#[test]
fn errors_name_the_field() {
    let cases = [
        ("not json", "body"),
        ("[]", "body"),
        (r#"{"workflow_id":"wf","class":"etl"}"#, "idempotency_key"),
        (r#"{"idempotency_key":"k","class":"etl"}"#, "workflow_id"),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf"}"#,
            "activity_type",
        ),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf","class":"nope"}"#,
            "class",
        ),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf","activity_type":"other"}"#,
            "activity_type",
        ),
        (
            r#"{"idempotency_key":7,"workflow_id":"wf","class":"etl"}"#,
            "idempotency_key",
        ),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf","class":"etl","extra":1}"#,
            "extra",
        ),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf","class":"etl","overrides":{"cpu":"lots"}}"#,
            "overrides.cpu",
        ),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf","class":"etl","overrides":{"replicas":0}}"#,
            "overrides.replicas",
        ),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf","class":"etl","overrides":{"min_member":9}}"#,
            "overrides.min_member",
        ),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf","class":"etl","overrides":{"duration":"soon"}}"#,
            "overrides.duration",
        ),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf","class":"etl","overrides":{"gpus":1}}"#,
            "overrides.gpus",
        ),
        (
            r#"{"idempotency_key":"k","workflow_id":"wf","class":"etl","overrides":[]}"#,
            "overrides",
        ),
        (
            r#"{"idempotency_key":"","workflow_id":"wf","class":"etl"}"#,
            "idempotency_key",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(field_of(parse(body).unwrap_err()), field, "{body}");
    }
}

proptest::proptest! {
    /// Arbitrary bytes and arbitrary JSON objects are answered with a value or a field error,
    /// never a panic.
    #[test]
    fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
                    key in "\\PC{0,20}", class in "[a-z]{0,4}", cpu in "\\PC{0,6}", reps in 0u64..3000) {
        let (classes, mapping) = catalog();
        let cat = Catalog { classes: &classes, mapping: &mapping, priority_classes: &[] };
        let _ = parse_submission(&bytes, None, &cat);
        let body = serde_json::json!({"idempotency_key": key, "workflow_id": "w", "class": class,
                                      "overrides": {"cpu": cpu, "replicas": reps, "min_member": reps / 2}});
        if let Err(e) = parse_submission(body.to_string().as_bytes(), Some(&key), &cat) {
            proptest::prop_assert!(matches!(e, LiveError::BadRequest { .. }), "{}", e);
        }
    }
}

#[test]
fn header_key_and_fingerprint() {
    let (classes, mapping) = catalog();
    let cat = Catalog {
        classes: &classes,
        mapping: &mapping,
        priority_classes: &[],
    };
    let s = parse_submission(br#"{"workflow_id":"wf","class":"etl"}"#, Some("hk"), &cat).unwrap();
    assert_eq!(s.key, "hk");
    let e = parse_submission(
        br#"{"idempotency_key":"x","workflow_id":"wf","class":"etl"}"#,
        Some("hk"),
        &cat,
    );
    assert_eq!(field_of(e.unwrap_err()), "idempotency_key");
    let a = parse(r#"{"idempotency_key":"k","workflow_id":"wf","class":"etl"}"#).unwrap();
    let b = parse(r#"{"workflow_id":"wf","class":"etl","idempotency_key":"k"}"#).unwrap();
    assert_eq!(a.fingerprint, b.fingerprint, "key order does not matter");
}
