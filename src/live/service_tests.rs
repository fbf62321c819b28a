//! Service behaviour without HTTP: hold-above, idempotent replays and conflicts, journal
//! replay after a restart.

use super::*;
use crate::live::backend::{DryRunBackend, TwinBackend};
use crate::live::manifest::ObjectMode;
use crate::model::{EngineParams, NodeSpec, QueueSpec, ResourceName, Resources};
use crate::policy::SchedulerConf;

fn setup() -> Arc<LiveSetup> {
    let mut alloc = Resources::cpu_mem(4000, 8 << 30);
    alloc.set(ResourceName::PODS, 110);
    let mut classes = BTreeMap::new();
    classes.insert(
        "c".to_string(),
        TraceJob {
            id: "c-0".into(),
            submit_ms: 0,
            duration_ms: 600_000,
            replicas: 1,
            min_member: 1,
            requests: Resources::cpu_mem(3000, 1 << 30),
            queue: "q".into(),
            priority_class: None,
            priority: 0,
            class: "c".into(),
        },
    );
    Arc::new(LiveSetup {
        nodes: vec![NodeSpec {
            name: "n".into(),
            allocatable: alloc,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        }],
        queues: vec![QueueSpec::new("q", 1)],
        priority_classes: vec![],
        conf: SchedulerConf::helm_default(),
        params: EngineParams::default(),
        seed: 1,
        classes,
        mapping: Default::default(),
        jobs: vec![],
    })
}

fn cfg(dir: &Path, hold: Option<u64>) -> ServiceConfig {
    ServiceConfig {
        out_dir: dir.to_path_buf(),
        namespace: "ns".into(),
        image: "busybox".into(),
        hold_above_ms: hold,
        speed: 1.0,
        retry: Retry {
            attempts: 1,
            base_ms: 1,
            max_ms: 1,
        },
        object_mode: crate::live::manifest::ObjectMode::VcJob,
    }
}

fn body(k: &str) -> Vec<u8> {
    format!(r#"{{"idempotency_key":"{k}","workflow_id":"w","class":"c"}}"#).into_bytes()
}

#[test]
fn hold_above_keeps_jobs_out_of_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        Service::open(
            setup(),
            cfg(dir.path(), Some(5 * 60_000)),
            Box::new(DryRunBackend::new(dir.path(), ObjectMode::VcJob).unwrap()),
        )
        .unwrap()
    };
    let mut s = open();
    let first = s.submit_body(&body("a"), None).unwrap().record;
    assert!(!first.held && first.sent.as_deref() == Some("created"));
    // the node fits one job; the second would wait ~10 minutes > 5m
    let second = s.submit_body(&body("b"), None).unwrap().record;
    assert!(second.held, "{second:?}");
    assert!(second.predicted_wait_ms.unwrap() > 5 * 60_000);
    assert!(second.sent.is_none());
    assert!(!dir
        .path()
        .join("manifests")
        .join(format!("{}.yaml", second.job.id))
        .exists());
    assert_eq!(s.counters.held, 1);
    drop(s);
    let s = open();
    assert_eq!(s.records.len(), 2);
    assert!(
        s.records[1].held && s.records[1].sent.is_none(),
        "held stays held after a restart"
    );
}

#[test]
fn replays_conflicts_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let open = || Service::open(setup(), cfg(dir.path(), None), Box::new(TwinBackend)).unwrap();
    let mut s = open();
    let a = s.submit_body(&body("a"), None).unwrap();
    assert!(a.created);
    let again = s.submit_body(&body("a"), None).unwrap();
    assert!(!again.created);
    assert_eq!(again.record.job.id, a.record.job.id);
    let other = br#"{"idempotency_key":"a","workflow_id":"w2","class":"c"}"#;
    assert!(matches!(
        s.submit_body(other, None),
        Err(LiveError::KeyConflict { .. })
    ));
    let lost =
        br#"{"idempotency_key":"z","workflow_id":"w","class":"c","overrides":{"queue":"nope"}}"#;
    assert!(
        matches!(s.submit_body(lost, None), Err(LiveError::BadRequest { field, .. }) if field == "queue")
    );
    s.submit_body(&body("b"), None).unwrap();
    s.delete(&a.record.job.id).unwrap();
    assert!(matches!(s.delete("nope"), Err(LiveError::NotFound(_))));
    assert_eq!(s.counters.replays, 1);
    assert_eq!(s.counters.rejected, 2);
    drop(s);
    let mut s = open();
    assert_eq!(s.records.len(), 2);
    assert!(s.records[0].deleted);
    let (_, v) = s.get(&s.records[1].job.id.clone()).unwrap();
    assert!(v.is_some(), "the twin was rebuilt from the journal");
    assert_eq!(s.model.view(&a.record.job.id).unwrap().phase, "Deleted");
}

#[test]
fn held_jobs_are_released_when_the_forecast_drops() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path(), Some(5 * 60_000));
    c.speed = 2000.0; // the first job's 10 minutes pass in 0.3 s; rechecks every 0.2 s
    let open =
        |c: &ServiceConfig| Service::open(setup(), c.clone(), Box::new(TwinBackend)).unwrap();
    let mut s = open(&c);
    s.submit_body(&body("a"), None).unwrap();
    let b = s.submit_body(&body("b"), None).unwrap().record;
    assert!(b.held);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.records[1].held && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        s.tick();
    }
    let r = &s.records[1];
    assert!(
        !r.held && r.released_ms.is_some() && r.sent.as_deref() == Some("created"),
        "{r:?}"
    );
    assert_eq!(s.counters.released, 1);
    assert!(s.model.contains(&b.job.id));
    drop(s);
    let s = open(&c);
    let r = &s.records[1];
    assert!(
        !r.held && r.released_ms.is_some(),
        "release survives a restart: {r:?}"
    );
    assert!(s.model.contains(&b.job.id));
}
