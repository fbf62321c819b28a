//! Unit tests of the kube backend: request building, response classification, status parsing,
//! and create/adopt against a fake API server (tiny_http on a loopback port).

use super::*;
use crate::live::kube_watch::{parse_watch_line, Observation};
use crate::live::manifest::{build, Meta};
use crate::model::Resources;
use serde_json::json;

fn cfg(base: &str, dry: bool, mode: ObjectMode) -> KubeConfig {
    KubeConfig {
        access: ApiAccess {
            server: base.into(),
            token: Some("s3cret".into()),
            ..Default::default()
        },
        namespace: "ns1".into(),
        mode,
        server_dry_run: dry,
        speed: 1.0,
    }
}

fn job() -> TraceJob {
    TraceJob {
        id: "k-0123456789ab".into(),
        submit_ms: 0,
        duration_ms: 1000,
        replicas: 2,
        min_member: 2,
        requests: Resources::cpu_mem(500, 1 << 28),
        queue: "q".into(),
        priority_class: None,
        priority: 0,
        class: String::new(),
    }
}

fn meta() -> Meta {
    Meta {
        namespace: "ns1".into(),
        key: "k".into(),
        workflow_id: "wf".into(),
        predicted_wait_ms: Some(3),
        image: "busybox".into(),
    }
}

#[test]
fn request_urls_and_bodies() {
    let c = cfg("https://api:6443/", true, ObjectMode::PodGroup);
    let ms = build(&job(), ObjectMode::PodGroup, &meta());
    let r0 = create_request(&c, &ms[0]).unwrap();
    assert_eq!(r0.url, "https://api:6443/apis/scheduling.volcano.sh/v1beta1/namespaces/ns1/podgroups?fieldManager=volsim&dryRun=All");
    let r1 = create_request(&c, &ms[1]).unwrap();
    assert!(
        r1.url
            .starts_with("https://api:6443/apis/batch/v1/namespaces/ns1/jobs?"),
        "{}",
        r1.url
    );
    let body: Value = serde_json::from_str(&r1.body).unwrap();
    assert_eq!(body["kind"], "Job");
    assert!(!r1.body.contains("s3cret"));
    let vc = &build(&job(), ObjectMode::VcJob, &meta())[0];
    let c2 = cfg("http://p", false, ObjectMode::VcJob);
    assert_eq!(
        create_request(&c2, vc).unwrap().url,
        "http://p/apis/batch.volcano.sh/v1alpha1/namespaces/ns1/jobs?fieldManager=volsim"
    );
    let q = queue(&QueueSpec::new("gold", 3));
    assert_eq!(
        collection_path(&q, "x"),
        "/apis/scheduling.volcano.sh/v1beta1/queues"
    );
}

#[test]
fn debug_output_redacts_the_token() {
    let c = cfg("http://x", false, ObjectMode::VcJob);
    let d = format!("{c:?}");
    assert!(!d.contains("s3cret") && d.contains("<redacted>"), "{d}");
}

#[test]
fn status_classification() {
    assert_eq!(classify(201), CreateResult::Created);
    assert_eq!(classify(409), CreateResult::Exists);
    assert_eq!(classify(503), CreateResult::Retryable);
    assert_eq!(classify(429), CreateResult::Retryable);
    assert_eq!(classify(422), CreateResult::Permanent);
    let st =
        r#"{"kind":"Status","status":"Failure","message":"namespaces \"x\" not found","code":404}"#;
    assert_eq!(status_message(st), "namespaces \"x\" not found");
    assert_eq!(status_message("plain"), "plain");
}

#[test]
fn parses_podgroups_pods_events_and_watch_lines() {
    let pg = json!({"metadata": {"name": "j-1-uid", "ownerReferences": [{"kind": "Job", "name": "j-1"}]}, "status": {"phase": "Inqueue"}});
    assert_eq!(
        parse_podgroup(&pg),
        Some(Observation::Phase {
            job: "j-1".into(),
            phase: "Inqueue".into()
        })
    );
    let pg2 = json!({"metadata": {"name": "pg"}});
    assert_eq!(
        parse_podgroup(&pg2),
        Some(Observation::Phase {
            job: "pg".into(),
            phase: "Pending".into()
        })
    );
    let pod = json!({"metadata": {"name": "j-1-main-0", "labels": {"volcano.sh/job-name": "j-1"}}, "status": {"phase": "Running"}});
    assert_eq!(
        parse_pod(&pod),
        Some(Observation::Pod {
            job: "j-1".into(),
            pod: "j-1-main-0".into(),
            phase: "Running".into()
        })
    );
    let pod2 =
        json!({"metadata": {"name": "x", "annotations": {"scheduling.k8s.io/group-name": "g"}}});
    assert!(matches!(parse_pod(&pod2), Some(Observation::Pod { ref job, .. }) if job == "g"));
    assert_eq!(parse_pod(&json!({"metadata": {"name": "x"}})), None);
    let ev = json!({"reason": "Evict", "involvedObject": {"kind": "Pod", "name": "j-1-main-0"}});
    assert_eq!(
        parse_event(&ev),
        Some(Observation::Evicted {
            pod: "j-1-main-0".into(),
            reason: "Evict".into()
        })
    );
    assert_eq!(
        parse_event(
            &json!({"reason": "Scheduled", "involvedObject": {"kind": "Pod", "name": "p"}})
        ),
        None
    );
    let (ty, obj) = parse_watch_line(
        r#"{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"42"}}}"#,
    )
    .unwrap();
    assert_eq!(ty, "MODIFIED");
    assert_eq!(obj["metadata"]["resourceVersion"], "42");
    assert!(parse_watch_line("not json").is_none());
}

fn model() -> Model {
    Model::new(
        &[],
        &[],
        &[],
        crate::policy::Scheduler::new(&crate::policy::SchedulerConf::helm_default()).unwrap(),
        Default::default(),
        1,
    )
}

fn pod(job: &str, pod: &str, phase: &str) -> Observation {
    Observation::Pod {
        job: job.into(),
        pod: pod.into(),
        phase: phase.into(),
    }
}

#[test]
fn observations_fold_into_job_times() {
    let mut kb = KubeBackend::new(cfg("http://127.0.0.1:1", false, ObjectMode::VcJob)).unwrap();
    let mut j = job();
    j.id = "j".into();
    j.submit_ms = 100;
    kb.seen.submitted(&j, 100);
    let phase = |p: &str| Observation::Phase {
        job: "j".into(),
        phase: p.into(),
    };
    kb.fold(phase("Inqueue"), 500);
    kb.fold(pod("j", "p0", "Running"), 700);
    kb.fold(pod("j", "p1", "Running"), 900);
    let ev = Observation::Evicted {
        pod: "p1".into(),
        reason: "Evict".into(),
    };
    kb.fold(ev, 950);
    kb.fold(pod("j", "p0", "Succeeded"), 1500);
    kb.fold(pod("j", "p1", "Succeeded"), 1600);
    let v = kb.observe("j", &model()).unwrap();
    assert_eq!(
        (v.inqueue_ms, v.gang_ready_ms, v.finish_ms, v.evictions),
        (Some(500), Some(900), Some(1600), 1)
    );
    assert_eq!(v.phase, "Completed");
    let ev = kb.evictions(&model());
    assert_eq!((ev.len(), ev[0].job.as_str(), ev[0].time_ms), (1, "j", 950));
}

#[test]
fn completion_comes_from_the_vcjob_when_the_podgroup_is_deleted_running() {
    // Volcano's job controller deletes the PodGroup (still Running) as soon as the Job is
    // Completed, and the pods may be seen only as Running: the vcjob phase decides.
    let mut kb = KubeBackend::new(cfg("http://127.0.0.1:1", false, ObjectMode::VcJob)).unwrap();
    let mut j = job();
    j.id = "j".into();
    kb.seen.submitted(&j, 0);
    let vc = |p: &str| Observation::JobPhase {
        job: "j".into(),
        phase: p.into(),
    };
    kb.fold(vc("Pending"), 10);
    kb.fold(vc("Running"), 300);
    kb.fold(pod("j", "p0", "Running"), 320);
    kb.fold(vc("Completed"), 2000);
    let v = kb.observe("j", &model()).unwrap();
    assert_eq!(
        (v.phase, v.inqueue_ms, v.gang_ready_ms, v.finish_ms),
        ("Completed", Some(300), Some(300), Some(2000))
    );
    kb.fold(vc("Failed"), 2100);
    assert_eq!(kb.observe("j", &model()).unwrap().phase, "Failed");
}

#[test]
fn facts_about_a_job_seen_before_its_submission_apply_once_submitted() {
    // an adopted object of an earlier run: listed (Completed) before this run submits it
    let mut kb = KubeBackend::new(cfg("http://127.0.0.1:1", false, ObjectMode::VcJob)).unwrap();
    kb.fold(
        Observation::JobPhase {
            job: "j".into(),
            phase: "Completed".into(),
        },
        5,
    );
    assert!(kb.observe("j", &model()).is_none(), "not ours (yet)");
    let mut j = job();
    j.id = "j".into();
    j.submit_ms = 40;
    kb.seen.submitted(&j, 40);
    let v = kb.observe("j", &model()).unwrap();
    assert_eq!(
        (v.phase, v.gang_ready_ms, v.finish_ms),
        ("Completed", Some(40), Some(40))
    );
}

#[test]
fn refused_pods_make_the_job_rejected_and_are_reported_once() {
    let mut kb = KubeBackend::new(cfg("http://127.0.0.1:1", false, ObjectMode::VcJob)).unwrap();
    let refusals = kb.refusals();
    let mut j = job();
    j.id = "j".into();
    kb.seen.submitted(&j, 0);
    let ev = json!({"reason": "FailedCreate", "involvedObject": {"kind": "Job", "name": "j"},
        "message": "Error creating pods: [failed to create pod j-main-0, err: &errors.StatusError{ErrStatus:v1.Status{Status:\"Failure\", Message:\"pods \\\"j-main-0\\\" is forbidden: no PriorityClass with name hi was found\", Reason:\"Forbidden\", Code:403}}]"});
    let o = parse_event(&ev).expect("a refusal");
    assert_eq!(
        o,
        Observation::Rejected {
            job: "j".into(),
            message: "pods \"j-main-0\" is forbidden: no PriorityClass with name hi was found"
                .into()
        }
    );
    kb.fold(o.clone(), 100);
    kb.fold(o, 200);
    assert_eq!(kb.observe("j", &model()).unwrap().phase, "Rejected");
    let r = refusals.lock().unwrap().clone();
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        r[0].starts_with("job j: pods") && r[0].contains("PriorityClass"),
        "{r:?}"
    );
    // a transient failure is not a refusal
    let transient = json!({"reason": "FailedCreate", "involvedObject": {"kind": "Job", "name": "j"},
        "message": "Error creating pods: etcdserver: request timed out"});
    assert_eq!(parse_event(&transient), None);
}

#[test]
fn pods_run_for_the_wall_time_of_their_model_duration() {
    let mut j = job();
    j.duration_ms = 25_000;
    for (speed, ann, sleep) in [
        (1.0, "25000", "25"),
        (10.0, "2500", "2.5"),
        (3.0, "8333", "8.333"),
    ] {
        let m = crate::live::manifest::build_at_speed(&j, ObjectMode::VcJob, &meta(), speed);
        let v = serde_json::to_value(&m[0]).unwrap();
        let t = &v["spec"]["tasks"][0]["template"];
        assert_eq!(t["metadata"]["annotations"]["volsim.dev/duration-ms"], ann);
        assert_eq!(
            t["spec"]["containers"][0]["command"],
            json!(["sleep", sleep])
        );
    }
}

#[test]
fn creates_then_adopts_against_a_fake_api_server() {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for status in [201u16, 409, 503, 201] {
            let mut req = server.recv().unwrap();
            let auth = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Authorization"))
                .map(|h| h.value.to_string());
            let mut body = String::new();
            req.as_reader().read_to_string(&mut body).unwrap();
            seen.push((req.url().to_string(), auth, body.len() > 10));
            req.respond(tiny_http::Response::empty(status)).unwrap();
        }
        seen
    });
    let mut kb = KubeBackend::new(cfg(&format!("http://{addr}"), true, ObjectMode::VcJob)).unwrap();
    let mut model = model();
    assert_eq!(
        kb.submit(&job(), &meta(), &mut model).unwrap(),
        SendOutcome::Created
    );
    assert_eq!(
        kb.submit(&job(), &meta(), &mut model).unwrap(),
        SendOutcome::Adopted
    );
    assert!(
        matches!(
            kb.submit(&job(), &meta(), &mut model),
            Err(LiveError::Backend(_))
        ),
        "503 is retryable"
    );
    assert_eq!(
        kb.submit(&job(), &meta(), &mut model).unwrap(),
        SendOutcome::Created
    );
    let seen = handle.join().unwrap();
    for (url, auth, has_body) in seen {
        assert!(
            url.ends_with("/jobs?fieldManager=volsim&dryRun=All"),
            "{url}"
        );
        assert_eq!(auth.as_deref(), Some("Bearer s3cret"));
        assert!(has_body);
    }
}

/// A one-shot fake API server answering each request in turn with `(status, body)`; returns
/// the `METHOD path` of every request.
fn scripted(answers: Vec<(u16, &'static str)>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", server.server_addr().to_ip().unwrap());
    let h = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for (status, body) in answers {
            let mut req = server.recv().unwrap();
            let mut b = String::new();
            req.as_reader().read_to_string(&mut b).unwrap();
            seen.push(format!("{} {}", req.method(), req.url()));
            req.respond(tiny_http::Response::from_string(body).with_status_code(status))
                .unwrap();
        }
        seen
    });
    (addr, h)
}

#[test]
fn prepare_creates_or_adopts_namespace_priority_classes_and_queues() {
    let pc = |name: &str, value: i32| crate::model::PriorityClassSpec {
        name: name.into(),
        value,
        global_default: false,
        preemption_never: false,
    };
    let (addr, h) = scripted(vec![
        (
            403,
            r#"{"kind":"Status","message":"namespaces is forbidden: cannot create"}"#,
        ),
        (200, r#"{"metadata":{"name":"ns1"}}"#),
        (201, "{}"),
        (409, r#"{"kind":"Status","message":"exists"}"#),
        (200, r#"{"value": 5}"#),
        (201, "{}"),
    ]);
    let mut kb = KubeBackend::new(cfg(&addr, true, ObjectMode::VcJob)).unwrap();
    let notes = kb
        .prepare(
            &[pc("hi", 1000), pc("lo", 10)],
            Some(&[QueueSpec::new("q", 1)]),
        )
        .unwrap();
    let seen = h.join().unwrap();
    let paths: Vec<&str> = seen.iter().map(|s| s.split('?').next().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "POST /api/v1/namespaces",
            "GET /api/v1/namespaces/ns1",
            "POST /apis/scheduling.k8s.io/v1/priorityclasses",
            "POST /apis/scheduling.k8s.io/v1/priorityclasses",
            "GET /apis/scheduling.k8s.io/v1/priorityclasses/lo",
            "POST /apis/scheduling.volcano.sh/v1beta1/queues",
        ]
    );
    assert!(seen[0].contains("dryRun=All"), "{seen:?}");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("namespace ns1 exists"), "{notes:?}");
    assert!(
        notes[1].contains("PriorityClass lo exists with value 5"),
        "{notes:?}"
    );
}

#[test]
fn prepare_fails_loudly_when_a_priority_class_is_refused() {
    let (addr, h) = scripted(vec![
        (201, "{}"),
        (
            422,
            r#"{"kind":"Status","message":"PriorityClass.scheduling.k8s.io \"x\" is invalid: value: must be at most 1000000000"}"#,
        ),
    ]);
    let mut kb = KubeBackend::new(cfg(&addr, false, ObjectMode::VcJob)).unwrap();
    let pc = crate::model::PriorityClassSpec {
        name: "x".into(),
        value: i32::MAX,
        global_default: false,
        preemption_never: true,
    };
    let e = kb.prepare(&[pc], None).unwrap_err().to_string();
    h.join().unwrap();
    assert!(
        e.contains("PriorityClass x: rejected by the API server: HTTP 422")
            && e.contains("is invalid"),
        "{e}"
    );
    // a missing namespace that cannot be created is an error too
    let (addr, h) = scripted(vec![
        (403, r#"{"message":"forbidden"}"#),
        (404, r#"{"message":"nope"}"#),
    ]);
    let mut kb = KubeBackend::new(cfg(&addr, false, ObjectMode::VcJob)).unwrap();
    let e = kb.prepare(&[], None).unwrap_err().to_string();
    h.join().unwrap();
    assert!(e.contains("Namespace ns1") && e.contains("HTTP 403"), "{e}");
}

#[test]
fn delete_removes_every_object_of_the_job_and_reports_errors() {
    let (addr, h) = scripted(vec![(200, "{}"), (404, "{}")]);
    let mut kb = KubeBackend::new(cfg(&addr, true, ObjectMode::PodGroup)).unwrap();
    assert!(
        kb.delete("j", &mut model()).unwrap(),
        "the batch Job existed"
    );
    let seen = h.join().unwrap();
    assert_eq!(
        seen,
        [
            "DELETE /apis/batch/v1/namespaces/ns1/jobs/j?propagationPolicy=Background",
            "DELETE /apis/scheduling.volcano.sh/v1beta1/namespaces/ns1/podgroups/j?propagationPolicy=Background",
        ]
    );
    let (addr, h) = scripted(vec![(403, r#"{"message":"jobs is forbidden"}"#)]);
    let mut kb = KubeBackend::new(cfg(&addr, true, ObjectMode::VcJob)).unwrap();
    let e = kb.delete("j", &mut model()).unwrap_err().to_string();
    h.join().unwrap();
    assert!(
        e.contains("HTTP 403") && e.contains("jobs is forbidden"),
        "{e}"
    );
}
