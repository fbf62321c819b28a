//! Gang eviction over HyperNodes end to end: a `[[cluster.topology]]` scenario where an urgent
//! gang with a hard rack topology preempts through `gangpreempt`, whose candidate domains are
//! the racks — its victims all sit in one rack and it starts there — while the same gang
//! without a topology takes the cluster as its domain and evicts across racks.

use std::path::{Path, PathBuf};

use volsim::run::RunSpec;

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

/// Runs `text` and returns, per moment the ring gang evicted through gangpreempt, the racks of
/// the victims' nodes (observed through the snapshot after each cycle), and the ring's domain
/// tiers.
fn gangpreempt_racks(text: &str) -> (Vec<Vec<String>>, Vec<Option<u32>>) {
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "scenario.toml", text);
    let spec = RunSpec::load(&p, None, &[]).unwrap();
    // Victim pod <ns>/<name> → the rack of its node, seen while it is Releasing.
    let mut rack_of: BTreeMap<String, String> = BTreeMap::new();
    let out = volsim::sim::simulate_with_hook(&spec.sim_input(), &mut |snap, _| {
        for t in &snap.tasks {
            if t.status != volsim::policy::snapshot::TaskStatus::Releasing {
                continue;
            }
            let Some(n) = t.node else { continue };
            let rack = snap
                .topology
                .leaf_of(n)
                .map(|h| snap.topology.name(h).to_string());
            rack_of.insert(format!("{}/{}", t.namespace, t.name), rack.unwrap());
        }
    });
    let mut by_time: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let by_ring = |e: &&volsim::sim::EvictionRecord| e.preemptor_job.starts_with("ring");
    for e in out
        .evictions
        .iter()
        .filter(|e| e.action == "gangpreempt")
        .filter(by_ring)
    {
        let rack = rack_of
            .get(&e.task)
            .unwrap_or_else(|| panic!("{} not seen", e.task));
        by_time.entry(e.time_ms).or_default().push(rack.clone());
    }
    let tiers = out
        .jobs
        .iter()
        .filter(|j| j.class == "ring" && j.gang_ready_ms.is_some())
        .map(|j| j.domain_tier)
        .collect();
    (by_time.into_values().collect(), tiers)
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
