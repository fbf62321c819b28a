//! The `kube` backend through `live run` against a fake API server (`fake_http` on loopback)
//! that behaves like the realvolcano control plane: namespace and PriorityClasses created
//! (409 → adopt), creates with typed manifests, 409 → adopt on a second run, `dryRun=All`
//! honoured, queues applied; pods run for their `volsim.dev/duration-ms` (wall ms); the
//! PodGroup disappears once the Job is Completed (as Volcano's job controller deletes it);
//! observations stamped when they arrive; refused pods (403 `FailedCreate` events) are an
//! error of the run; `--kubeconfig` supplies server and token.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::fake_http;
use super::*;

type Store = BTreeMap<String, BTreeMap<String, (Value, Instant)>>;

/// How the fake cluster behaves.
#[derive(Clone, Copy, Default)]
struct Opts {
    /// Every job's pods are refused (403: no PriorityClass), as a cluster without them does.
    refuse_pods: bool,
}

struct Fake {
    addr: String,
    store: Arc<Mutex<Store>>,
    posts: Arc<AtomicUsize>,
    auth: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

const JOBS: &str = "/apis/batch.volcano.sh/v1alpha1/namespaces/ns/jobs";
const QUEUES: &str = "/apis/scheduling.volcano.sh/v1beta1/queues";
const NAMESPACES: &str = "/api/v1/namespaces";
const PCS: &str = "/apis/scheduling.k8s.io/v1/priorityclasses";
/// Real time from a Job's creation until its pods run.
const START_MS: u64 = 100;

fn node(name: &str) -> Value {
    json!({"metadata": {"name": name}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
}

/// The wall run time a Job's pods carry (`volsim.dev/duration-ms`), else 1.5 s.
fn run_ms(job: &Value) -> u64 {
    job["spec"]["tasks"][0]["template"]["metadata"]["annotations"]["volsim.dev/duration-ms"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500)
}

/// Jobs, PodGroups, pods and events as Volcano's controllers and a fake kubelet would show
/// them: pods Running `START_MS` after the Job was created, Succeeded after their run time;
/// the Job Completed then, and its PodGroup deleted (never seen `Completed`).
fn derived(store: &Store, kind: &str, opts: Opts) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, (job, born)) in store.get(JOBS).into_iter().flatten() {
        let age = born.elapsed().as_millis() as u64;
        let running = age >= START_MS && !opts.refuse_pods;
        let done = running && age >= START_MS + run_ms(job);
        let replicas = job["spec"]["tasks"][0]["replicas"].as_u64().unwrap_or(1);
        match kind {
            "podgroups" if !done => out.push(json!({
                "metadata": {"name": format!("{name}-uid"), "resourceVersion": "7",
                             "ownerReferences": [{"kind": "Job", "name": name}]},
                "status": {"phase": if running { "Running" } else { "Inqueue" }}
            })),
            "jobs" => out.push(json!({
                "metadata": {"name": name, "namespace": "ns", "resourceVersion": "9"},
                "status": {"state": {"phase": if done { "Completed" } else if running { "Running" } else { "Pending" }}}
            })),
            "pods" if running => {
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
            "events" if opts.refuse_pods => out.push(json!({
                "metadata": {"name": format!("{name}.1"), "resourceVersion": "10"},
                "involvedObject": {"kind": "Job", "name": name},
                "reason": "FailedCreate", "type": "Warning",
                "message": format!("Error creating pods: [failed to create pod {name}-main-0, err: &errors.StatusError{{ErrStatus:v1.Status{{Status:\"Failure\", Message:\"pods \\\"{name}-main-0\\\" is forbidden: no PriorityClass with name high was found\", Reason:\"Forbidden\", Code:403}}}}]")
            })),
            _ => {}
        }
    }
    out
}

fn respond(
    req: &fake_http::Request,
    store: &Mutex<Store>,
    posts: &AtomicUsize,
    opts: Opts,
) -> (u16, String) {
    let url = req.url.clone();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut store = store.lock().unwrap();
    if req.method == "POST" {
        posts.fetch_add(1, Ordering::SeqCst);
        let body = req.body.clone();
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if (path.contains("/jobs") || path.contains("queues"))
            && !volsim::live::validate::check_value(&v).is_empty()
        {
            let message = format!("fake: invalid object posted: {v}");
            return (
                422,
                json!({"kind": "Status", "code": 422, "message": message}).to_string(),
            );
        }
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
    if path == "/api/v1/namespaces/ns"
        || path.starts_with("/apis/scheduling.k8s.io/v1/priorityclasses/")
    {
        let (coll, name) = path.rsplit_once('/').unwrap();
        return match store.get(coll).and_then(|c| c.get(name)) {
            Some((v, _)) => (200, v.to_string()),
            None => (
                404,
                json!({"kind": "Status", "code": 404, "message": "not found"}).to_string(),
            ),
        };
    }
    let items: Vec<Value> = match path {
        "/api/v1/nodes" => vec![node("n1"), node("n2")],
        JOBS => derived(&store, "jobs", opts),
        QUEUES => store
            .get(QUEUES)
            .into_iter()
            .flatten()
            .map(|(_, (v, _))| v.clone())
            .collect(),
        "/apis/scheduling.volcano.sh/v1beta1/namespaces/ns/podgroups" => {
            derived(&store, "podgroups", opts)
        }
        "/api/v1/pods" | "/api/v1/namespaces/ns/pods" => derived(&store, "pods", opts),
        "/api/v1/namespaces/ns/events" => derived(&store, "events", opts),
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
        Fake::with(Opts::default())
    }
    fn with(opts: Opts) -> Fake {
        let (store, posts, auth, stop) = (
            Arc::new(Mutex::new(Store::new())),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(AtomicBool::new(false)),
        );
        let (s2, p2, a2) = (store.clone(), posts.clone(), auth.clone());
        let handler: fake_http::Handler = Arc::new(move |req: &fake_http::Request| {
            a2.lock()
                .unwrap()
                .push(req.header("Authorization").to_string());
            respond(req, &s2, &p2, opts)
        });
        let addr = fake_http::serve(handler, stop.clone());
        Fake {
            addr,
            store,
            posts,
            auth,
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
    kube_run_at(fake, "small.toml", "50", out, drain, extra)
}

fn kube_run_at(
    fake: &Fake,
    scenario: &str,
    speed: &str,
    out: &std::path::Path,
    drain: &str,
    extra: &[&str],
) -> (i32, String, String) {
    let sc = fixture(scenario);
    let server = ["--api-server", fake.addr.as_str()];
    let mut args = vec![
        "live",
        "run",
        "--scenario",
        sc.to_str().unwrap(),
        "--backend",
        "kube",
    ];
    if !extra.contains(&"--kubeconfig") {
        args.extend_from_slice(&server);
    }
    args.extend_from_slice(&[
        "--namespace",
        "ns",
        "--apply-queues",
        "--speed",
        speed,
        "--drain",
        drain,
        "--out",
        out.to_str().unwrap(),
    ]);
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
        (
            fake.count(JOBS),
            fake.count(QUEUES),
            fake.count(NAMESPACES),
            fake.count(PCS)
        ),
        (0, 0, 0, 0),
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
        (fake.count(NAMESPACES), fake.count(PCS)),
        (1, 1),
        "the namespace and the scenario's PriorityClass `high` were created"
    );
    let store = fake.store.lock().unwrap();
    let pc = &store[PCS]["high"].0;
    assert_eq!(
        (pc["value"].as_i64(), pc["kind"].as_str()),
        (Some(1000), Some("PriorityClass"))
    );
    let mut runs: Vec<u64> = store[JOBS].values().map(|(j, _)| run_ms(j)).collect();
    runs.sort_unstable();
    runs.dedup();
    assert_eq!(
        runs,
        [400, 600],
        "20 s and 30 s of model time at --speed 50, in wall ms"
    );
    drop(store);
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
        17,
        "12 jobs + 3 queues + the namespace + 1 PriorityClass, each once (409 → adopted)"
    );
    assert_eq!((fake.count(NAMESPACES), fake.count(PCS)), (1, 1));
}

/// Observations are stamped with the model time they arrived, not folded in at the next
/// submission: two jobs 100 s (model) apart at --speed 20 are 5 s of wall time apart, while
/// the first one's pods run 0.1 s after its creation.
#[test]
fn kube_waits_are_stamped_when_observed_not_at_the_next_submission() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gap");
    let (code, stdout, err) = kube_run_at(&fake, "gap.toml", "20", &out, "20s", &[]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("finished 2"), "{stdout}");
    let waits = volsim::live::compare::read_waits(&out.join("observed.csv")).unwrap();
    assert_eq!(waits.len(), 2);
    for w in &waits {
        let ms = w.wait_ms.expect("observed gang-ready");
        assert!(
            ms < 40_000,
            "{}: wait {ms} ms; the gap to the next job is 100 000 ms",
            w.job
        );
    }
}

/// A cluster that refuses every pod (no PriorityClass): the run ends without waiting out the
/// drain, exits 2 naming the job and the API server's reason, and `compare` of its outputs
/// fails loudly instead of comparing 0 jobs. The server and token come from `--kubeconfig`.
#[test]
fn refused_pods_are_an_error_of_the_run_and_compare_refuses_nothing() {
    let fake = Fake::with(Opts { refuse_pods: true });
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let text = json!({"apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": fake.addr}}],
        "users": [{"name": "u", "user": {"tokenFile": "token"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}}]});
    std::fs::write(&kc, text.to_string()).unwrap();
    std::fs::write(dir.path().join("token"), "tok-123\n").unwrap();
    let out = dir.path().join("refused");
    let started = Instant::now();
    let (code, stdout, err) = kube_run(&fake, &out, "60s", &["--kubeconfig", kc.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{err}");
    assert!(
        err.contains("12 job(s) rejected by the cluster")
            && err.contains("is forbidden: no PriorityClass with name high was found"),
        "{err}"
    );
    // Below the 60 s drain with room for a loaded 2-core CI machine.
    assert!(
        started.elapsed() < Duration::from_secs(55),
        "did not wait out the 60 s drain"
    );
    let auth = fake.auth.lock().unwrap().clone();
    assert!(
        !auth.is_empty() && auth.iter().all(|a| a == "Bearer tok-123"),
        "{auth:?}"
    );
    let (code, report, err) = run(&[
        "compare",
        out.join("predictions.csv").to_str().unwrap(),
        out.join("observed.csv").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{report}{err}");
    assert!(report.contains("jobs compared: 0"), "{report}");
    assert!(
        err.contains("no job has both a predicted and an observed wait"),
        "{err}"
    );
}

/// `volsim reality` end to end against the fake cluster: live run, simulator replay of the
/// observed submissions, the report comparing every job, and `simulated.csv` for `compare`.
#[test]
fn reality_compares_the_simulator_replay_with_the_observed_run() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reality");
    let sc = fixture("small.toml");
    let (code, stdout, err) = run(&[
        "reality",
        sc.to_str().unwrap(),
        "--api-server",
        &fake.addr,
        "--namespace",
        "ns",
        "--speed",
        "50",
        "--drain",
        "20s",
        "--top",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("live run: submitted 12"), "{stdout}");
    assert!(stdout.contains("jobs compared: 12"), "{stdout}");
    assert!(
        stdout.contains("mean_pred") && stdout.contains("queue   batch"),
        "{stdout}"
    );
    assert!(
        stdout.contains("jobs that differ most (3 of 12)"),
        "{stdout}"
    );
    assert_eq!(fake.count(QUEUES), 3, "queues applied");
    let sim = volsim::live::compare::read_waits(&out.join("simulated.csv")).unwrap();
    assert_eq!(sim.len(), 12);
    assert!(
        sim.iter().all(|r| r.wait_ms.is_some()),
        "the simulator admits every job"
    );
    let (code, report, _) = run(&[
        "compare",
        out.join("simulated.csv").to_str().unwrap(),
        out.join("observed.csv").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(report.contains("jobs compared: 12"), "{report}");
    assert_eq!(
        std::fs::read_to_string(out.join("reality.txt")).unwrap(),
        stdout[stdout.find("reality: ").unwrap()..]
    );
    assert!(stdout.contains("targets (mean within 5 %"), "{stdout}");

    // the same comparison again without a cluster, from the run's files, with the cluster's
    // timing given in wall time (× --speed 50 in the replay)
    let again = dir.path().join("again");
    let observed = out.join("observed.csv");
    let (code, stdout, err) = run(&[
        "reality",
        sc.to_str().unwrap(),
        "--observed",
        observed.to_str().unwrap(),
        "--speed",
        "50",
        "--schedule-period",
        "20ms",
        "--controller-delay",
        "2ms",
        "--bind-latency",
        "4ms",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(
        stdout.contains(
            "schedule_period 1000 (20.0), controller_delay 100 (2.0), bind_latency 200 (4.0)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("jobs compared: 12"), "{stdout}");
    assert_eq!(fake.count(QUEUES), 3, "nothing sent to the cluster");

    // a row naming a job the run never submitted: exit 2, naming the file and line
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::copy(out.join("journal.jsonl"), bad.join("journal.jsonl")).unwrap();
    std::fs::write(
        bad.join("observed.csv"),
        "job,key,queue,class,submit_ms,wait_ms\nnot-a-job,k,batch,c,0,10\n",
    )
    .unwrap();
    let (code, _, err) = run(&[
        "reality",
        sc.to_str().unwrap(),
        "--observed",
        bad.join("observed.csv").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("observed.csv: line 2: job \"not-a-job\" was not submitted"),
        "{err}"
    );
}
