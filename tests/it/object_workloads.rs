//! Volcano objects as a scenario's workload and cluster, through the real `volsim` binary:
//! Volcano's own `example/job.yaml` (a `batch/v1` Job in a kube-batch PodGroup) as the only
//! workload, and a folder of vcjobs with creationTimestamps replayed in arrival order.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn volsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_volsim"))
}

fn kube_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kube")
        .join(name)
}

fn scenario(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(args: &[&std::ffi::OsStr]) -> (Output, String) {
    let out = volsim().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (out, err)
}

#[test]
fn volcano_example_job_is_the_whole_workload() {
    let dir = tempfile::tempdir().unwrap();
    let job = kube_fixture("volcano-example-job.yaml");
    let p = scenario(
        dir.path(),
        &format!(
            "[[nodes]]\nname = \"n\"\ncount = 2\ncpu = \"4\"\nmemory = \"8Gi\"\n\
             [workload]\nobjects = [{:?}]\ndefault_duration = \"5m\"\n",
            job.display().to_string()
        ),
    );
    let out_dir = dir.path().join("out");
    let (out, err) = run(&[
        "run".as_ref(),
        p.as_os_str(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // The rules used, the legacy PodGroup apiVersion and kube-batch are all said out loud.
    assert!(err.contains("workload.objects: 1 jobs"), "{err}");
    assert!(
        err.contains("qj-1: arrives 0 ms (none (0)), runs 300000 ms (workload.default_duration)"),
        "{err}"
    );
    assert!(
        err.contains("scheduling.incubator.k8s.io/v1alpha1"),
        "{err}"
    );
    assert!(err.contains("\"kube-batch\" is not volcano"), "{err}");
    let jobs = std::fs::read_to_string(out_dir.join("jobs.csv")).unwrap();
    let row = jobs.lines().nth(1).unwrap();
    // One gang of 6 one-cpu pods on 2 × 4 cpus, in the implicit default queue.
    assert!(row.starts_with("qj-1,default,,0,"), "{jobs}");
    let finish: u64 = row.split(',').nth(7).unwrap().parse().unwrap();
    assert!(finish >= 300_000, "{jobs}");

    // Without a run-time rule the job cannot be simulated: exit 2 naming file and document.
    let p = scenario(
        dir.path(),
        &format!(
            "[[nodes]]\nname = \"n\"\ncount = 2\ncpu = \"4\"\nmemory = \"8Gi\"\n\
             [workload]\nobjects = [{:?}]\n",
            job.display().to_string()
        ),
    );
    let (out, err) = run(&["run".as_ref(), p.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("volcano-example-job.yaml: document 2 (PodGroup default/qj-1): no run time"),
        "{err}"
    );
}

#[test]
fn folder_of_vcjobs_replays_in_creation_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = scenario(
        dir.path(),
        &format!(
            "[cluster]\nobjects = [{:?}]\n[workload]\nobjects = [{:?}]\ndefault_duration = \"1m\"\n",
            kube_fixture("replay-cluster.yaml").display().to_string(),
            kube_fixture("replay").display().to_string()
        ),
    );
    let out_dir = dir.path().join("out");
    let (out, err) = run(&[
        "run".as_ref(),
        p.as_os_str(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for want in [
        "ml/etl: arrives 0 ms (creationTimestamp), runs 45000 ms (volsim.dev/duration)",
        "ml/train: arrives 30000 ms (creationTimestamp), runs 120000 ms (sleep in its container)",
        "ml/eval: arrives 90000 ms (creationTimestamp), runs 60000 ms (workload.default_duration)",
        "b-etl.yaml: document 2 (Queue research): not a workload object, ignored",
        "b-etl.yaml:29: document 3 (Service etl-svc): kind: unknown kind",
    ] {
        assert!(err.contains(want), "expected {want:?} in {err}");
    }
    let jobs = std::fs::read_to_string(out_dir.join("jobs.csv")).unwrap();
    let rows: Vec<Vec<&str>> = jobs
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let ids: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0], r[1], r[3])).collect();
    assert_eq!(
        ids,
        [
            ("ml/etl", "default", "0"),
            ("ml/train", "research", "30000"),
            ("ml/eval", "research", "90000")
        ],
        "{jobs}"
    );
    // All three fit on the two Node objects at once: each starts right after it arrives.
    for r in &rows {
        let wait: u64 = r[8].parse().unwrap();
        assert!(wait < 5_000, "{jobs}");
    }

    // strict: the ignored Queue in a workload file is still only a warning, but a vcjob
    // PodGroup without pods is a skip and so an error.
    let extra = dir.path().join("lonely.yaml");
    std::fs::write(
        &extra,
        "apiVersion: scheduling.volcano.sh/v1beta1\nkind: PodGroup\nmetadata:\n  name: lonely\nspec:\n  minMember: 2\n",
    )
    .unwrap();
    let p = scenario(
        dir.path(),
        &format!(
            "[cluster]\nobjects = [{:?}]\n[workload]\nobjects = [{:?}, \"lonely.yaml\"]\ndefault_duration = \"1m\"\nstrict = true\n",
            kube_fixture("replay-cluster.yaml").display().to_string(),
            kube_fixture("replay").display().to_string()
        ),
    );
    let (out, err) = run(&["run".as_ref(), p.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("lonely.yaml: document 1 (PodGroup default/lonely): no pods"),
        "{err}"
    );
}

#[test]
fn workload_objects_in_the_queue_slot_are_named_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let p = scenario(
        dir.path(),
        &format!(
            "horizon = \"10m\"\n[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"4\"\nmemory = \"8Gi\"\n\
             [queues]\nfiles = [{:?}]\n\
             [[workload.classes]]\nname = \"c\"\nqueue = \"default\"\ninterval = \"1m\"\n\
             duration = {{ dist = \"fixed\", value = \"1m\" }}\ncpu = \"1\"\nmemory = \"1Gi\"\n",
            kube_fixture("volcano-example-job.yaml").display().to_string()
        ),
    );
    let (out, err) = run(&["run".as_ref(), p.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("document 1 (batch/v1 Job default/qj-1): a workload object in queues.files, ignored (list it in workload.objects)"),
        "{err}"
    );
}

#[test]
fn kubectl_dump_imports_to_a_scenario_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("snap");
    let dump = kube_fixture("snapshot/cluster-dump.yaml");
    let (out, err) = run(&[
        "trace".as_ref(),
        "import".as_ref(),
        "--format".as_ref(),
        "kube".as_ref(),
        dump.as_os_str(),
        "--out".as_ref(),
        out_dir.as_os_str(),
        "--default-duration".as_ref(),
        "1h".as_ref(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        stdout.contains("imported 3 nodes, 3 queues, 2 running and 1 pending jobs")
            && stdout.contains("finished (Completed): 1"),
        "{stdout}"
    );
    assert!(err.contains("items[9] (Job ml/etl-1)"), "{err}");
    let jobs = std::fs::read_to_string(out_dir.join("jobs.csv")).unwrap();
    // session-7 started at 10:00:05, the snapshot is at 10:10:00: 30m − 9m55s left.
    assert!(
        jobs.contains("agents/session-7,0,1205,2,4000,8192,interactive,0,high,snapshot-running"),
        "{jobs}"
    );
    // train-3 is pending; its sidecar's `sleep 2h` gives the run time.
    assert!(
        jobs.contains("ml/train-3,10,7200,4,8000,16384,batch,0,,snapshot-pending"),
        "{jobs}"
    );
    let toml = std::fs::read_to_string(out_dir.join("scenario.toml")).unwrap();
    assert!(toml.contains("# Assumptions:"), "{toml}");

    let run_out = out_dir.join("run");
    let (out, err) = run(&[
        "run".as_ref(),
        out_dir.join("scenario.toml").as_os_str(),
        "--out".as_ref(),
        run_out.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let res = std::fs::read_to_string(run_out.join("jobs.csv")).unwrap();
    // The running session is placed again at once, before the pending gang arrives.
    let session = res
        .lines()
        .find(|l| l.starts_with("agents/session-7,"))
        .unwrap();
    let wait: u64 = session.split(',').nth(8).unwrap().parse().unwrap();
    assert!(wait < 10_000, "{res}");
}
