//! HyperNodes and network-topology-aware scheduling end to end: a `[[cluster.topology]]`
//! shorthand and HyperNode objects place gangs with a hard `networkTopology` inside one rack
//! (their `domain_tier` is 1) where the same workload without it spans racks; broken
//! topologies and specs exit 2 naming the file and field; hierarchical-drf annotations on
//! Queue objects decide the queues' shares. (Gang eviction over HyperNodes: `gang_domains`.)

use std::path::{Path, PathBuf};
use std::process::Command;

use volsim::run::{run, RunSpec};
use volsim::scenario;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/topology")
        .join(name)
        .display()
        .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const CONF: &str = r#"[scheduler]
inline = """
actions: "enqueue, allocate, backfill"
tiers:
- plugins:
  - name: priority
  - name: gang
  - name: conformance
- plugins:
  - name: drf
  - name: predicates
  - name: proportion
  - name: nodeorder
  - name: network-topology-aware
"""
"#;

/// 16 eight-cpu nodes in racks of 4 under spines of 2 racks; 4 × 8-cpu all-reduce gangs and
/// small 2-pod jobs.
fn demo(topology: &str) -> String {
    format!(
        "horizon = \"2h\"\nseed = 7\n{CONF}\n\
         [[nodes]]\nname = \"gpu\"\ncount = 16\ncpu = \"8\"\nmemory = \"64Gi\"\n\
         [[cluster.topology]]\nname = \"rack\"\nsize = 4\n\
         [[cluster.topology]]\nname = \"spine\"\nsize = 2\n\
         [[workload.classes]]\nname = \"allreduce\"\nqueue = \"default\"\nrate_per_min = 0.2\n\
         duration = {{ dist = \"fixed\", value = \"20m\" }}\ncpu = \"8\"\nmemory = \"8Gi\"\n\
         replicas = 4\n{topology}\n\
         [[workload.classes]]\nname = \"small\"\nqueue = \"default\"\nrate_per_min = 0.3\n\
         duration = {{ dist = \"fixed\", value = \"10m\" }}\ncpu = \"2\"\nmemory = \"2Gi\"\n\
         replicas = 2\n"
    )
}

fn tiers_of(text: &str, class: &str) -> Vec<Option<u32>> {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "scenario.toml", text);
    let sc = scenario::load(&p).unwrap();
    let r = run(&RunSpec { scenario: sc });
    r.outcome
        .jobs
        .iter()
        .filter(|j| &*j.class == class && j.gang_ready_ms.is_set())
        .map(|j| j.domain_tier)
        .collect()
}

#[test]
fn hard_rack_gangs_land_in_one_rack() {
    let hard = tiers_of(
        &demo("network_topology = { mode = \"hard\", highest_tier_name = \"rack\" }"),
        "allreduce",
    );
    assert!(hard.len() >= 5, "{hard:?}");
    assert!(hard.iter().all(|t| *t == Some(1)), "{hard:?}");
    // The same gangs without a network topology spread over racks and spines.
    let plain = tiers_of(&demo(""), "allreduce");
    assert!(plain.iter().all(|t| t.is_some()), "{plain:?}");
    assert!(plain.iter().any(|t| *t > Some(1)), "{plain:?}");
}

#[test]
fn runs_are_deterministic_with_a_topology() {
    let text = demo("network_topology = { mode = \"soft\" }");
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "scenario.toml", &text);
    let a = run(&RunSpec {
        scenario: scenario::load(&p).unwrap(),
    });
    let b = run(&RunSpec {
        scenario: scenario::load(&p).unwrap(),
    });
    assert_eq!(a.outcome.decision_hash, b.outcome.decision_hash);
    assert!(a.outcome.jobs.iter().any(|j| j.domain_tier.is_some()));
}

#[test]
fn hypernode_objects_and_vcjob_network_topology() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "horizon = \"1h\"\n{CONF}\n[cluster]\nobjects = [{:?}, {:?}]\n\
         [workload]\nobjects = [{:?}]\n",
        fixture("nodes.yaml"),
        fixture("hypernodes.yaml"),
        fixture("vcjobs.yaml")
    );
    let p = write(dir.path(), "scenario.toml", &text);
    let sc = scenario::load(&p).unwrap();
    assert_eq!(sc.params.topology.hypernodes.len(), 3);
    assert_eq!(sc.params.topology.job_topology.len(), 2);
    let r = run(&RunSpec { scenario: sc });
    let tiers: Vec<_> = r.outcome.jobs.iter().map(|j| j.domain_tier).collect();
    assert_eq!(tiers, vec![Some(1), Some(1)]);
}

/// Runs the binary on `scenario` (in a fresh folder holding `files`) and expects exit 2 with
/// every `want` in stderr.
fn expect_2(scenario: &str, files: &[(&str, &str)], want: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    let p = write(dir.path(), "scenario.toml", scenario);
    let out = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .arg("run")
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for w in want {
        assert!(err.contains(w), "expected {w:?} in: {err}");
    }
}

const NODES: &str = "[[nodes]]\nname = \"n\"\ncount = 4\ncpu = \"8\"\nmemory = \"8Gi\"\n";
const CLASS: &str = "[[workload.classes]]\nname = \"c\"\nqueue = \"default\"\nrate_per_min = 1\n\
                     duration = { dist = \"fixed\", value = \"1m\" }\ncpu = \"1\"\nmemory = \"1Gi\"\n";

fn hn(name: &str, tier: u32, members: &str) -> String {
    format!(
        "---\napiVersion: topology.volcano.sh/v1alpha1\nkind: HyperNode\nmetadata:\n  name: {name}\n\
         spec:\n  tier: {tier}\n  members:\n{members}"
    )
}

fn node_member(name: &str) -> String {
    format!("  - type: Node\n    selector:\n      exactMatch:\n        name: {name}\n")
}

fn hn_member(name: &str) -> String {
    format!("  - type: HyperNode\n    selector:\n      exactMatch:\n        name: {name}\n")
}

fn with_objects(extra: &str) -> String {
    format!("horizon = \"1h\"\n{NODES}[cluster]\nobjects = [\"hn.yaml\"]\n{CLASS}{extra}")
}

#[test]
fn a_member_matching_nothing_is_refused() {
    let yaml = hn("r0", 1, &node_member("n-9"));
    expect_2(
        &with_objects(""),
        &[("hn.yaml", &yaml)],
        &[
            "hn.yaml",
            "HyperNode r0",
            "spec.members[0].selector",
            "matches no node",
        ],
    );
}

#[test]
fn a_hypernode_cycle_is_refused() {
    let yaml = hn("a", 2, &hn_member("b")) + &hn("b", 3, &hn_member("a"));
    expect_2(
        &with_objects(""),
        &[("hn.yaml", &yaml)],
        &["hn.yaml", "HyperNode", "cycle"],
    );
}

#[test]
fn a_node_in_two_hypernodes_of_one_tier_is_refused() {
    let yaml = hn("r0", 1, &(node_member("n-0") + &node_member("n-1")))
        + &hn("r1", 1, &(node_member("n-1") + &node_member("n-2")));
    expect_2(
        &with_objects(""),
        &[("hn.yaml", &yaml)],
        &[
            "hn.yaml",
            "HyperNode r1",
            "spec.members",
            "\"n-1\"",
            "same tier 1",
        ],
    );
}

#[test]
fn an_unknown_tier_name_is_refused() {
    let scenario = format!(
        "horizon = \"1h\"\n{NODES}[[cluster.topology]]\nname = \"rack\"\nsize = 2\n{CLASS}\
         network_topology = {{ highest_tier_name = \"pod\" }}\n"
    );
    expect_2(
        &scenario,
        &[],
        &[
            "scenario.toml",
            "workload.classes[0].network_topology.highest_tier_name",
            "unknown tier name \"pod\"",
            "rack (tier 1)",
        ],
    );
}

#[test]
fn a_bad_mode_is_refused_in_toml_and_yaml() {
    let scenario = format!(
        "horizon = \"1h\"\n{NODES}{CLASS}network_topology = {{ mode = \"strict\", highest_tier = 1 }}\n"
    );
    expect_2(
        &scenario,
        &[],
        &[
            "workload.classes[0].network_topology.mode",
            "\"strict\"",
            "hard",
        ],
    );
    let pg = "apiVersion: scheduling.volcano.sh/v1beta1\nkind: PodGroup\nmetadata:\n  name: pg\n\
              spec:\n  minMember: 1\n  networkTopology:\n    mode: strict\n    highestTierAllowed: 1\n";
    let scenario = format!("horizon = \"1h\"\n{NODES}[workload]\nobjects = [\"pg.yaml\"]\n");
    expect_2(
        &scenario,
        &[("pg.yaml", pg)],
        &[
            "pg.yaml",
            "PodGroup pg",
            "spec.networkTopology.mode",
            "\"strict\"",
        ],
    );
}

#[test]
fn a_bad_shorthand_tier_is_refused() {
    let scenario = format!(
        "horizon = \"1h\"\n{NODES}[[cluster.topology]]\nname = \"rack\"\nsize = 0\n{CLASS}"
    );
    expect_2(&scenario, &[], &["cluster.topology[0].size", "expected 1"]);
    let scenario = format!(
        "horizon = \"1h\"\n{NODES}[[cluster.topology]]\nname = \"rack\"\nsize = 2\n\
         pools = [\"cpu\"]\n{CLASS}"
    );
    expect_2(
        &scenario,
        &[],
        &["cluster.topology[0].pools[0]", "no node pool \"cpu\""],
    );
}

/// Volcano's example/hierarchical-jobs layout: queues carrying `volcano.sh/hierarchy` and
/// `-weights` annotations, drf with `enableHierarchy`. With eng weighing 3 against sci, eng
/// gets 3 of the 4 cpus in the first cycle; with equal weights each gets 2.
#[test]
fn hierarchy_annotations_reach_hierarchical_drf() {
    let started = |queues: &str| -> (usize, usize) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "queues.yaml", queues);
        let classes: String = ["eng:eng-train", "sci:sci-batch"]
            .iter()
            .map(|c| {
                let (name, q) = c.split_once(':').unwrap();
                format!(
                    "[[workload.classes]]\nname = \"{name}\"\nqueue = \"{q}\"\n\
                     times = [\"0s\", \"0s\", \"0s\", \"0s\", \"0s\", \"0s\"]\n\
                     duration = {{ dist = \"fixed\", value = \"1h\" }}\ncpu = \"1\"\nmemory = \"1Gi\"\n"
                )
            })
            .collect();
        let text = format!(
            "horizon = \"30m\"\n[scheduler]\ninline = \"\"\"\nactions: \"enqueue, allocate\"\n\
             tiers:\n- plugins:\n  - name: priority\n  - name: gang\n- plugins:\n  - name: drf\n\
             \x20   enableHierarchy: true\n  - name: predicates\n  - name: nodeorder\n\"\"\"\n\
             [[nodes]]\nname = \"n\"\ncount = 4\ncpu = \"1\"\nmemory = \"4Gi\"\n\
             [cluster]\nobjects = [\"queues.yaml\"]\n{classes}"
        );
        let p = write(dir.path(), "scenario.toml", &text);
        let sc = scenario::load(&p).unwrap();
        assert!(
            sc.warnings.iter().all(|w| !w.contains("hierarchy")),
            "{:?}",
            sc.warnings
        );
        let q = sc.queues.iter().find(|q| q.name == "eng-train").unwrap();
        assert_eq!(q.hierarchy, "root/eng/train");
        let r = run(&RunSpec { scenario: sc });
        let n = |q: &str| {
            r.outcome
                .jobs
                .iter()
                .filter(|j| &*j.queue == q && j.gang_ready_ms.is_set())
                .count()
        };
        (n("eng-train"), n("sci-batch"))
    };
    let weighted = std::fs::read_to_string(fixture("hierarchical-queues.yaml")).unwrap();
    assert_eq!(started(&weighted), (3, 1));
    assert_eq!(started(&weighted.replace("1/3/1", "1/1/1")), (2, 2));
}

#[test]
fn hierarchy_fields_on_inline_queues_are_checked() {
    let scenario = format!(
        "horizon = \"1h\"\n{NODES}[[queues.inline]]\nname = \"q\"\nhierarchy = \"root/q\"\n\
         hierarchy_weights = \"1\"\n{CLASS}"
    );
    expect_2(
        &scenario,
        &[],
        &["queues.inline[0].hierarchy_weights", "expected 2 weights"],
    );
}

/// Sweep axes and `--set` reach the topology: the rack size of the bundled topology scenario
/// and the tier its all-reduce gangs may use.
#[test]
fn overrides_vary_rack_size_and_allowed_tier() {
    use volsim::scenario::Override;
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/topology-racks/scenario.toml");
    let load = |o: &[Override]| RunSpec::load(&sc, None, o).unwrap();
    let base = load(&[]);
    let racks = |s: &RunSpec| {
        s.scenario
            .params
            .topology
            .hypernodes
            .iter()
            .filter(|h| h.tier == 1)
            .count()
    };
    assert_eq!(racks(&base), 4);
    let wide = load(&[Override::new(
        "cluster.topology.rack.size",
        toml::Value::Integer(8),
    )]);
    assert_eq!(racks(&wide), 2);
    let spine = load(&[Override::new(
        "workload.classes.allreduce.network_topology.highest_tier_name",
        toml::Value::String("spine".into()),
    )]);
    let t = &spine.scenario.params.topology.job_topology["allreduce"];
    assert_eq!(t.highest_tier_name.as_deref(), Some("spine"));
    let r = run(&spine);
    assert!(r
        .outcome
        .jobs
        .iter()
        .filter(|j| &*j.class == "allreduce")
        .all(|j| j.domain_tier.is_none_or(|t| t <= 2)));
}

/// A `kubectl get … -o yaml` dump with HyperNodes and hierarchical queues imports into a
/// scenario that keeps both; the jobs' networkTopology (which the canonical trace cannot
/// carry) is named in the import's warnings.
#[test]
fn kube_dump_import_keeps_hypernodes_and_queue_hierarchy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported");
    let o = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .args(["trace", "import", "--format", "kube"])
        .arg(fixture("nodes.yaml"))
        .arg(fixture("hypernodes.yaml"))
        .arg(fixture("hierarchical-queues.yaml"))
        .arg(fixture("vcjobs.yaml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("(Job default/ring-0): spec.networkTopology is not carried"),
        "{err}"
    );
    let sc = scenario::load(&out.join("scenario.toml")).unwrap();
    assert_eq!(sc.params.topology.hypernodes.len(), 3);
    let q = sc.queues.iter().find(|q| q.name == "eng-train").unwrap();
    assert_eq!(
        (q.hierarchy.as_str(), q.hierarchy_weights.as_str()),
        ("root/eng/train", "1/3/1")
    );
}

/// After every cycle of the bundled topology scenario, each job with a hard network topology
/// has all its placed pods inside one HyperNode within its allowed tier.
#[test]
fn hard_jobs_never_leave_their_domain() {
    use volsim::policy::topology::job::effective;
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/topology-racks/scenario.toml");
    let spec = RunSpec::load(&sc, None, &[]).unwrap();
    let mut checked = 0u64;
    volsim::sim::simulate_with_hook(&spec.sim_input(), &mut |snap, now| {
        for j in snap.live_jobs() {
            let job = snap.job(j);
            let Some(t) = job.network_topology.as_ref() else {
                continue;
            };
            if t.mode != volsim::model::TopologyMode::Hard {
                continue;
            }
            let placed: Vec<_> = job
                .tasks
                .iter()
                .map(|&t| snap.task(t))
                .filter(|t| t.status.is_allocated())
                .filter_map(|t| t.node)
                .collect();
            if placed.is_empty() {
                continue;
            }
            let eff = effective(&snap.topology, Some(t)).unwrap();
            let h = snap.topology.lowest_holding(placed).unwrap();
            assert!(
                snap.topology.tier(h) <= eff.highest_tier,
                "{} at {now} ms spans {} (tier {})",
                job.uid,
                snap.topology.name(h),
                snap.topology.tier(h)
            );
            checked += 1;
        }
    });
    assert!(checked > 100, "{checked}");
}
