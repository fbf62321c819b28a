//! The `kube` backend through `live run` against a fake API server (tiny_http on loopback):
//! creates with typed manifests, 409 → adopt on a second run, `dryRun=All` honoured, queues
//! applied, and the list/watch path observing PodGroups and pods into `observed.csv`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::*;

type Store = BTreeMap<String, BTreeMap<String, (Value, Instant)>>;

struct Fake {
    addr: String,
    store: Arc<Mutex<Store>>,
    posts: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

const JOBS: &str = "/apis/batch.volcano.sh/v1alpha1/namespaces/ns/jobs";
const QUEUES: &str = "/apis/scheduling.volcano.sh/v1beta1/queues";

fn node(name: &str) -> Value {
    json!({"metadata": {"name": name}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
}

/// PodGroups and pods as Volcano's controller would show them: Running, then Completed
/// 1.5 s (real time) after the job was created.
fn derived(store: &Store, kind: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, (job, born)) in store.get(JOBS).into_iter().flatten() {
        let done = born.elapsed() > Duration::from_millis(1500);
        if kind == "podgroups" {
            out.push(json!({
                "metadata": {"name": format!("{name}-uid"), "resourceVersion": "7",
                             "ownerReferences": [{"kind": "Job", "name": name}]},
                "status": {"phase": if done { "Completed" } else { "Running" }}
            }));
        } else if kind == "pods" {
            let replicas = job["spec"]["tasks"][0]["replicas"].as_u64().unwrap_or(1);
            let containers = job["spec"]["tasks"][0]["template"]["spec"]["containers"].clone();
            for i in 0..replicas {
                out.push(json!({
                    "metadata": {"name": format!("{name}-main-{i}"), "namespace": "ns", "resourceVersion": "8",
                                 "labels": {"volcano.sh/job-name": name}},
                    "spec": {"nodeName": "n1", "containers": containers},
                    "status": {"phase": if done { "Succeeded" } else { "Running" }}
                }));
            }
        }
    }
    out
}

fn respond(
    req: &mut tiny_http::Request,
    store: &Mutex<Store>,
    posts: &AtomicUsize,
) -> (u16, String) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut store = store.lock().unwrap();
    if *req.method() == tiny_http::Method::Post {
        posts.fetch_add(1, Ordering::SeqCst);
        let mut body = String::new();
        req.as_reader().read_to_string(&mut body).unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(
            volsim::live::validate::check_value(&v).is_empty(),
            "invalid object posted: {v}"
        );
        let name = v["metadata"]["name"].as_str().unwrap().to_string();
        let coll = store.entry(path.to_string()).or_default();
        if coll.contains_key(&name) {
            return (
                409,
                json!({"kind": "Status", "code": 409, "message": format!("{name} already exists")})
                    .to_string(),
            );
        }
        if !query.contains("dryRun=All") {
            coll.insert(name, (v.clone(), Instant::now()));
        }
        return (201, body);
    }
    let items: Vec<Value> = match path {
        "/api/v1/nodes" => vec![node("n1"), node("n2")],
        QUEUES => store
            .get(QUEUES)
            .into_iter()
            .flatten()
            .map(|(_, (v, _))| v.clone())
            .collect(),
        "/apis/scheduling.volcano.sh/v1beta1/namespaces/ns/podgroups" => {
            derived(&store, "podgroups")
        }
        "/api/v1/pods" | "/api/v1/namespaces/ns/pods" => derived(&store, "pods"),
        "/api/v1/namespaces/ns/events" => vec![],
        _ => {
            return (
                404,
                json!({"kind": "Status", "code": 404, "message": "not found"}).to_string(),
            )
        }
    };
    if query.contains("watch=1") {
        let lines: Vec<String> = items
            .iter()
            .map(|o| json!({"type": "MODIFIED", "object": o}).to_string())
            .collect();
        return (200, lines.join("\n"));
    }
    (
        200,
        json!({"items": items, "metadata": {"resourceVersion": "5"}}).to_string(),
    )
}

impl Fake {
    fn start() -> Fake {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", server.server_addr().to_ip().unwrap());
        let (store, posts, stop) = (
            Arc::new(Mutex::new(Store::new())),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (s2, p2, st2) = (store.clone(), posts.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st2.load(Ordering::SeqCst) {
                if let Ok(Some(mut req)) = server.recv_timeout(Duration::from_millis(50)) {
                    let (status, body) = respond(&mut req, &s2, &p2);
                    let _ = req
                        .respond(tiny_http::Response::from_string(body).with_status_code(status));
                }
            }
        });
        Fake {
            addr,
            store,
            posts,
            stop,
        }
    }
    fn count(&self, coll: &str) -> usize {
        self.store
            .lock()
            .unwrap()
            .get(coll)
            .map(BTreeMap::len)
            .unwrap_or(0)
    }
}

fn kube_run(
    fake: &Fake,
    out: &std::path::Path,
    drain: &str,
    extra: &[&str],
) -> (i32, String, String) {
    let sc = fixture("small.toml");
    let mut args = vec![
        "live",
        "run",
        "--scenario",
        sc.to_str().unwrap(),
        "--backend",
        "kube",
        "--api-server",
        &fake.addr,
        "--namespace",
        "ns",
        "--apply-queues",
        "--speed",
        "50",
        "--drain",
        drain,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn sent_outcomes(out: &std::path::Path) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in std::fs::read_to_string(out.join("journal.jsonl"))
        .unwrap()
        .lines()
    {
        let v: Value = serde_json::from_str(l).unwrap();
        if v["op"] == "sent" {
            *m.entry(v["outcome"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    m
}

#[test]
fn kube_backend_against_a_fake_api_server() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();

    let (code, out, err) = kube_run(&fake, &dir.path().join("dry"), "0s", &["--server-dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        (fake.count(JOBS), fake.count(QUEUES)),
        (0, 0),
        "dryRun=All persists nothing"
    );

    let first = dir.path().join("first");
    let started = Instant::now();
    let (code, out, err) = kube_run(&fake, &first, "20s", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("submitted 12") && out.contains("finished 12"),
        "{out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "drained once the jobs completed"
    );
    assert_eq!(
        (fake.count(JOBS), fake.count(QUEUES)),
        (12, 3),
        "12 jobs; interactive, batch and the implicit default queue"
    );
    assert_eq!(
        sent_outcomes(&first),
        BTreeMap::from([("created".to_string(), 12)])
    );
    let observed = std::fs::read_to_string(first.join("observed.csv")).unwrap();
    assert!(
        observed.lines().skip(1).all(|l| !l.ends_with(',')),
        "every job observed running:\n{observed}"
    );
    assert_eq!(
        volsim::workload::read_csv_trace(&first.join("observed-trace.csv"))
            .unwrap()
            .len(),
        12
    );

    // a fresh journal over existing objects: every create is a 409 and is adopted
    let posts = fake.posts.load(Ordering::SeqCst);
    let again = dir.path().join("again");
    let (code, out, err) = kube_run(&fake, &again, "0s", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        sent_outcomes(&again),
        BTreeMap::from([("adopted".to_string(), 12)])
    );
    assert_eq!(fake.count(JOBS), 12, "no duplicates");
    assert_eq!(
        fake.posts.load(Ordering::SeqCst) - posts,
        15,
        "12 jobs + 3 queues, each once"
    );
}
