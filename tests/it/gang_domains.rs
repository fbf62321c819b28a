//! Gang eviction over HyperNodes end to end: a `[[cluster.topology]]` scenario where an urgent
//! gang with a hard rack topology preempts through `gangpreempt`, whose candidate domains are
//! the racks — its victims all sit in one rack and it starts there — while the same gang
//! without a topology takes the cluster as its domain and evicts across racks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use volsim::policy::snapshot::{Snapshot, TaskStatus};
use volsim::run::RunSpec;
use volsim::sim::{EvictionRecord, Outcome};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Two racks of four 8-cpu workers (no spine); four low- and four mid-priority one-node jobs
/// from t=0, then at 5 min an urgent 4-node gang (`ring`) that can only start by evicting.
/// HyperNode binpack for pods without a topology is off, so the fillers spread over both
/// racks; no proportion, so the ring is admitted on a full cluster.
fn preempt_demo(topology: &str) -> String {
    format!(
        "horizon = \"40m\"\nseed = 3\n[scheduler]\ninline = \"\"\"\n\
         actions: \"enqueue, allocate, gangpreempt, backfill\"\ntiers:\n\
         - plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n\
         - plugins:\n  - name: drf\n  - name: predicates\n\
         \x20 - name: nodeorder\n  - name: network-topology-aware\n    arguments:\n\
         \x20     hypernode.binpack.normal-pod.enable: false\n\"\"\"\n\
         [[nodes]]\nname = \"worker\"\ncount = 8\ncpu = \"8\"\nmemory = \"64Gi\"\n\
         [[cluster.topology]]\nname = \"rack\"\nsize = 4\n\
         [[priority_classes]]\nname = \"low\"\nvalue = 10\n\
         [[priority_classes]]\nname = \"mid\"\nvalue = 50\n\
         [[priority_classes]]\nname = \"urgent\"\nvalue = 100\n\
         [[queues.inline]]\nname = \"training\"\nweight = 1\n\
         [[workload.classes]]\nname = \"low\"\nqueue = \"training\"\npriority_class = \"low\"\n\
         times = [\"0s\", \"0s\", \"0s\", \"0s\"]\n\
         duration = {{ dist = \"fixed\", value = \"30m\" }}\ncpu = \"8\"\nmemory = \"8Gi\"\n\
         replicas = 1\n\
         [[workload.classes]]\nname = \"mid\"\nqueue = \"training\"\npriority_class = \"mid\"\n\
         times = [\"0s\", \"0s\", \"0s\", \"0s\"]\n\
         duration = {{ dist = \"fixed\", value = \"30m\" }}\ncpu = \"8\"\nmemory = \"8Gi\"\n\
         replicas = 1\n\
         [[workload.classes]]\nname = \"ring\"\nqueue = \"training\"\n\
         priority_class = \"urgent\"\ntimes = [\"5m\"]\n\
         duration = {{ dist = \"fixed\", value = \"10m\" }}\ncpu = \"8\"\nmemory = \"8Gi\"\n\
         replicas = 4\nmin_member = 4\n{topology}\n"
    )
}

/// Runs `text`, calling `check` on the snapshot after every cycle, and returns the outcome
/// with, per (moment, preemptor) of the evictions `keep` selects, the racks of the victims'
/// nodes (seen through the snapshot while the victim is Releasing).
fn victim_racks(
    text: &str,
    keep: &dyn Fn(&EvictionRecord) -> bool,
    check: &mut dyn FnMut(&Snapshot, u64),
) -> (Vec<Vec<String>>, Outcome) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "scenario.toml", text);
    let spec = RunSpec::load(&p, None, &[]).unwrap();
    // Pod <ns>/<name> → (cycle time, rack of its node) for every cycle it was Releasing in.
    let mut seen: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    let out = volsim::sim::simulate_with_hook(&spec.sim_input(), &mut |snap, now| {
        check(snap, now);
        for (_, t) in snap.tasks.iter() {
            let Some(n) = t.node.filter(|_| t.status == TaskStatus::Releasing) else {
                continue;
            };
            let h = snap.topology.leaf_of(n).expect("every node is in a rack");
            let key = format!("{}/{}", t.namespace, t.name);
            let rack = snap.topology.name(h).to_string();
            seen.entry(key).or_default().push((now, rack));
        }
    });
    let mut by_moment: BTreeMap<(u64, String), Vec<String>> = BTreeMap::new();
    for e in out.evictions.iter().filter(|e| keep(e)) {
        let (_, rack) = seen
            .get(&e.task)
            .and_then(|v| v.iter().find(|(t, _)| *t >= e.time_ms))
            .unwrap_or_else(|| panic!("{} never seen Releasing", e.task));
        let moment = (e.time_ms, e.preemptor_job.clone());
        by_moment.entry(moment).or_default().push(rack.clone());
    }
    (by_moment.into_values().collect(), out)
}

/// The ring gang's gangpreempt victims by moment (their racks), and its domain tiers.
fn gangpreempt_racks(text: &str) -> (Vec<Vec<String>>, Vec<Option<u32>>) {
    let keep =
        |e: &EvictionRecord| e.action == "gangpreempt" && e.preemptor_job.starts_with("ring");
    let (racks, out) = victim_racks(text, &keep, &mut |_, _| {});
    let tiers = out
        .jobs
        .iter()
        .filter(|j| &*j.class == "ring" && j.gang_ready_ms.is_set())
        .map(|j| j.domain_tier)
        .collect();
    (racks, tiers)
}

/// gangpreempt with HyperNodes: a hard rack gang's candidate domains are the racks, so it
/// evicts a whole rack's pods (low and mid priority) and starts there; without a topology
/// the domain is the cluster, the four low-priority pods go wherever they run (both racks)
/// and the gang spans racks.
#[test]
fn gangpreempt_evicts_inside_one_rack_for_a_hard_gang() {
    let (hard, hard_tiers) = gangpreempt_racks(&preempt_demo(
        "network_topology = { mode = \"hard\", highest_tier_name = \"rack\" }",
    ));
    assert!(!hard.is_empty(), "no gangpreempt eviction");
    for racks in &hard {
        assert_eq!(racks.len(), 4, "{hard:?}");
        assert!(racks.iter().all(|r| *r == racks[0]), "{hard:?}");
    }
    assert_eq!(hard_tiers, vec![Some(1)], "the ring starts inside one rack");
    let (plain, plain_tiers) = gangpreempt_racks(&preempt_demo(""));
    assert!(!plain.is_empty(), "no gangpreempt eviction");
    assert!(
        plain
            .iter()
            .any(|racks| racks.iter().any(|r| *r != racks[0])),
        "without a topology the victims span racks: {plain:?}"
    );
    assert_eq!(plain_tiers.len(), 1, "{plain_tiers:?}");
    assert!(plain_tiers[0] > Some(1), "{plain_tiers:?}");
}

/// The bundled rack scenario with `gangpreempt, gangreclaim` added: the all-reduce gangs
/// (hard, rack) reclaim from the batch queue, each moment's victims inside one rack, and no
/// hard gang ever holds pods outside one rack.
#[test]
fn bundled_racks_with_gang_eviction_keep_hard_gangs_and_their_victims_in_a_rack() {
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/topology-racks/scenario.toml");
    let text = std::fs::read_to_string(sc).unwrap().replace(
        "actions: \"enqueue, allocate, backfill\"",
        "actions: \"enqueue, allocate, gangpreempt, gangreclaim, backfill\"",
    );
    assert!(text.contains("gangreclaim"));
    let keep = |e: &EvictionRecord| {
        e.action.starts_with("gang") && e.preemptor_job.starts_with("allreduce")
    };
    let (mut spans, mut checked) = (0u64, 0u64);
    let mut check = |snap: &Snapshot, _: u64| {
        for j in snap.live_jobs() {
            let job = snap.job(j);
            if !job.uid.contains("allreduce") {
                continue;
            }
            let nodes = job.tasks.iter().map(|&t| snap.task(t));
            let placed: Vec<_> = nodes
                .filter(|t| t.status.is_allocated())
                .filter_map(|t| t.node)
                .collect();
            if let Some(h) = snap.topology.lowest_holding(placed) {
                spans += u64::from(snap.topology.tier(h) > 1);
                checked += 1;
            }
        }
    };
    let (moments, out) = victim_racks(&text, &keep, &mut check);
    assert!(checked > 100, "{checked}");
    assert_eq!(spans, 0, "a hard rack gang held pods in two racks");
    assert!(moments.len() >= 3, "{moments:?}");
    for racks in &moments {
        assert!(racks.iter().all(|r| *r == racks[0]), "{moments:?}");
    }
    assert!(out.evictions.iter().any(|e| e.action == "gangreclaim"));
}
