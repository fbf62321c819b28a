//! The candidate domains of the gang eviction actions on a cluster with HyperNodes, and the
//! placement dry run of a job with a network topology inside one domain.
//!
//! A domain is a HyperNode: `GetCandidateDomains` asks the HyperNode gradient of the starving
//! job from the cluster top with purpose Evict (network-topology-aware answers a hard — or
//! soft-converted — job with its eligible HyperNodes, widest tier first, capped at
//! `hypernode.gradient.evict.max-hypernodes`; any other job, or a session without the plugin,
//! gets `[[<cluster-top-hypernode>]]`) and keeps at most `maxDomains` of them; a job without a
//! hard topology falls back to the cluster top, a hard one with no gradient gets no domain.
//! In a domain, a job with a topology is dry-run on the HyperNodes of its (default) sub-job's
//! Evict gradient below the domain, widest first, the first success winning; any other job on
//! the domain's nodes (`gang_plan::build`).
//!
//! A cluster without HyperNodes has one domain, every node, with no HyperNode named — the
//! path the actions took before HyperNodes existed, unchanged.
//!
//! Mirrors volcano pkg/scheduler/actions/utils/util.go (`GetCandidateDomains`,
//! `PickDomainsFromGradients`) and simulate.go (`BuildNominationPlanInDomain`'s sub-job
//! gradient loop) at v1.15.0 (semantics §2.4, §2.9, §3.4). Not modelled: the nominated
//! HyperNode a committed plan leaves on the sub-job (`ApplySubJobNominations`): it is not
//! written back to the cache, and in the same session allocate has no Pending task of the job
//! left to place with it (semantics §2.10, §7 #3). Depends on policy types only.

use super::gang_bundles::pick_domains;
use super::gang_plan;
use crate::model::Resources;
use crate::policy::conf::Action;
use crate::policy::plugin::Purpose;
use crate::policy::session::{Session, Statement};
use crate::policy::snapshot::{JobId, NodeId, QueueId, TaskId, TaskStatus};
use crate::policy::topology::{job, HnId};

/// One candidate domain of a starving job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Domain {
    /// The domain's HyperNode (`None` on a cluster without HyperNodes).
    pub hypernode: Option<HnId>,
    /// Its real nodes, ascending (`ssn.RealNodesList[domain]`).
    pub nodes: Vec<NodeId>,
}

/// `GetCandidateDomains(ssn, job, maxDomains)`: the domains of job `j`, in the order they are
/// tried.
pub(crate) fn candidate_domains(ssn: &Session, j: JobId, max_domains: usize) -> Vec<Domain> {
    let snap = ssn.snap();
    let topo = &snap.topology;
    let Some(top) = topo.top() else {
        return vec![Domain {
            hypernode: None,
            nodes: (0..snap.nodes.len() as u32).map(NodeId).collect(),
        }];
    };
    let jb = snap.job(j);
    let min_res = jb.min_resources.unwrap_or_else(Resources::empty);
    let gradients = ssn.tiers.hypernode_gradient(
        &ssn.st,
        j,
        top,
        jb.allocated_hypernode,
        &min_res,
        Purpose::Evict,
    );
    let rows: Vec<Vec<Option<HnId>>> = gradients
        .into_iter()
        .map(|row| row.into_iter().map(Some).collect())
        .collect();
    let fallback = (!job::uses_topology_path(snap, j)).then_some(top);
    pick_domains(&rows, max_domains, fallback)
        .into_iter()
        .map(|h| Domain {
            hypernode: Some(h),
            nodes: topo.nodes(h).to_vec(),
        })
        .collect()
}

/// Whether `plan` takes `gang_plan::build` on the domain's nodes (no HyperNode, or a job
/// off the topology path).
pub(crate) fn plain_path(ssn: &Session, j: JobId, domain: &Domain) -> bool {
    domain.hypernode.is_none() || !job::uses_topology_path(ssn.snap(), j)
}

/// `BuildNominationPlanInDomain`: evicts `victims` and pipelines every pending task of job
/// `j` inside `domain`; `Some(statement)` (still applied) when the job is then pipelined,
/// else everything is undone. A job without a topology (or a cluster without HyperNodes)
/// takes `gang_plan::build` on the domain's nodes.
pub(crate) fn plan(
    ssn: &mut Session,
    q: QueueId,
    j: JobId,
    domain: &Domain,
    victims: &[TaskId],
    action: Action,
    preemptor: TaskId,
) -> Option<Statement> {
    let hn = match domain.hypernode {
        Some(h) if job::uses_topology_path(ssn.snap(), j) => h,
        _ => return gang_plan::build(ssn, q, j, &domain.nodes, victims, action, preemptor),
    };
    if domain.nodes.is_empty() {
        return None;
    }
    // The frame of `gang_plan::build`, with the trial repeated over the sub-job's HyperNodes
    // (computed after the evictions) until one succeeds.
    let present = !victims.is_empty();
    gang_plan::framed(ssn, j, victims, action, preemptor, |ssn, tasks| {
        for h in subjob_hypernodes(ssn, j, hn) {
            let nodes = ssn.snap().topology.nodes(h).to_vec();
            if nodes.is_empty() {
                continue;
            }
            if let Some(won) = gang_plan::trial(ssn, q, j, &nodes, tasks, present) {
                return Some(won);
            }
        }
        None
    })
}

/// `HyperNodeGradientForSubJobFn(subJob, domain, PurposeEvict)` of the job's default
/// sub-job (its AllocatedHyperNode, its Pending tasks' requests as minimum), flattened in
/// order: the HyperNodes a trial is run on.
fn subjob_hypernodes(ssn: &Session, j: JobId, domain: HnId) -> Vec<HnId> {
    let snap = ssn.snap();
    let mut min_res = Resources::empty();
    for t in snap.tasks_in(j, TaskStatus::Pending) {
        min_res.add(&snap.task(t).resreq);
    }
    let allocated = snap.job(j).subjob_hypernode;
    ssn.tiers
        .hypernode_gradient(&ssn.st, j, domain, allocated, &min_res, Purpose::Evict)
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::model::{NetworkTopologySpec, NodeSpec, PodGroupSpec, QueueSpec, TopologyMode};
    use crate::policy::conf::{PluginArgs, PluginConf, PluginKind, SchedulerConf};
    use crate::policy::session::FirstTie;
    use crate::policy::snapshot::{PodGroupPhase, Snapshot};
    use crate::policy::topology::{Entry, HyperNodes};
    use crate::policy::Scheduler;

    /// Eight 8-cpu nodes; with `racks`, rack-0 (n0–n3) and rack-1 (n4–n7) under spine-0.
    /// One job whose PodGroup carries `topology` and `min_cpu` cores of minResources.
    fn snapshot(racks: bool, topology: Option<NetworkTopologySpec>, min_cpu: i64) -> Snapshot {
        let mut s = Snapshot::new();
        s.add_queue(&QueueSpec::new("q", 1));
        let mut alloc = Resources::cpu_mem(8000, 64 << 30);
        alloc.set(crate::model::ResourceName::PODS, 110);
        for i in 0..8 {
            s.add_node(&NodeSpec {
                name: format!("n{i}"),
                allocatable: alloc,
                labels: BTreeMap::new(),
                taints: vec![],
                unschedulable: false,
            });
        }
        if racks {
            let rack = |k: u32| Entry {
                name: format!("rack-{k}"),
                tier: 1,
                tier_name: "rack".into(),
                parent: Some("spine-0".into()),
                nodes: (4 * k..4 * k + 4).map(NodeId).collect(),
            };
            let spine = Entry {
                name: "spine-0".into(),
                tier: 2,
                tier_name: "spine".into(),
                parent: None,
                nodes: (0..8).map(NodeId).collect(),
            };
            s.topology = Arc::new(HyperNodes::from_entries(
                vec![rack(0), rack(1), spine],
                8,
                None,
            ));
        }
        let pg = PodGroupSpec {
            namespace: "ns".into(),
            name: "ring".into(),
            queue: "q".into(),
            min_member: 4,
            min_resources: Some(Resources::cpu_mem(min_cpu * 1000, 0)),
            network_topology: topology,
            ..Default::default()
        };
        s.add_job(&pg, PodGroupPhase::Inqueue, 0).unwrap();
        s
    }

    fn hard(tier: u32) -> Option<NetworkTopologySpec> {
        Some(NetworkTopologySpec {
            mode: TopologyMode::Hard,
            highest_tier_allowed: Some(tier),
            highest_tier_name: None,
        })
    }

    /// A scheduler with network-topology-aware (every flag on) and these plugin arguments.
    fn scheduler(nta: bool, args: &[(&str, i64)]) -> Scheduler {
        let map = args
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect();
        let kind = PluginKind::NetworkTopologyAware;
        let parsed = PluginArgs::parse(kind, &map, "arguments", &mut Vec::new()).unwrap();
        let tiers = if nta {
            vec![vec![PluginConf::with_args(parsed)]]
        } else {
            Vec::new()
        };
        Scheduler::new_unvalidated(&SchedulerConf {
            actions: Vec::new(),
            tiers,
            action_args: BTreeMap::new(),
            warnings: Vec::new(),
            compat: crate::policy::conf::Compat::V1_15,
        })
    }

    /// The domains' HyperNode names (`-` for none) and node counts.
    fn domains(snap: &mut Snapshot, sched: &mut Scheduler, max: usize) -> Vec<(String, usize)> {
        let mut tie = FirstTie;
        let ssn = sched.session(snap, 0, &mut tie);
        let topo = ssn.snap().topology.clone();
        candidate_domains(&ssn, JobId(0), max)
            .into_iter()
            .map(|d| {
                let name = d.hypernode.map_or("-".to_string(), |h| topo.name(h).into());
                (name, d.nodes.len())
            })
            .collect()
    }

    fn named(v: &[(&str, usize)]) -> Vec<(String, usize)> {
        v.iter().map(|&(n, c)| (n.to_string(), c)).collect()
    }

    #[test]
    fn without_hypernodes_the_cluster_is_the_one_unnamed_domain() {
        let mut snap = snapshot(false, hard(1), 32);
        let got = domains(&mut snap, &mut scheduler(true, &[]), 8);
        assert_eq!(got, named(&[("-", 8)]));
    }

    #[test]
    fn a_job_without_topology_gets_the_cluster_top() {
        let mut snap = snapshot(true, None, 32);
        let got = domains(&mut snap, &mut scheduler(true, &[]), 8);
        assert_eq!(got, named(&[("<cluster-top-hypernode>", 8)]));
    }

    /// A hard rack job: the racks whose allocatable holds its minResources, in tier order,
    /// at most `maxDomains`; without network-topology-aware the framework answers the top.
    #[test]
    fn a_hard_job_gets_its_racks() {
        let mut snap = snapshot(true, hard(1), 32);
        let racks = named(&[("rack-0", 4), ("rack-1", 4)]);
        assert_eq!(domains(&mut snap, &mut scheduler(true, &[]), 8), racks);
        assert_eq!(
            domains(&mut snap, &mut scheduler(true, &[]), 1),
            named(&[("rack-0", 4)])
        );
        assert_eq!(
            domains(&mut snap, &mut scheduler(false, &[]), 8),
            named(&[("<cluster-top-hypernode>", 8)])
        );
    }

    /// Up to the spine, widest first: the spine, then the racks; the plugin's eviction cap
    /// keeps the last entries of the tier it cuts.
    #[test]
    fn wider_tiers_come_first_and_the_plugin_caps_them() {
        let mut snap = snapshot(true, hard(2), 32);
        let all = named(&[("spine-0", 8), ("rack-0", 4), ("rack-1", 4)]);
        assert_eq!(domains(&mut snap, &mut scheduler(true, &[]), 8), all);
        let key = "hypernode.gradient.evict.max-hypernodes";
        assert_eq!(
            domains(&mut snap, &mut scheduler(true, &[(key, 2)]), 8),
            named(&[("spine-0", 8), ("rack-1", 4)])
        );
    }

    /// minResources above a rack's allocatable leaves the spine only; above the spine's, a
    /// hard job has no domain at all (no fallback to the cluster top).
    #[test]
    fn evict_eligibility_reads_allocatable_and_hard_jobs_get_no_fallback() {
        let mut snap = snapshot(true, hard(2), 40);
        let got = domains(&mut snap, &mut scheduler(true, &[]), 8);
        assert_eq!(got, named(&[("spine-0", 8)]));
        let mut snap = snapshot(true, hard(2), 80);
        assert!(domains(&mut snap, &mut scheduler(true, &[]), 8).is_empty());
    }

    /// A soft job is hard at the top tier: its first domain is the whole cluster.
    #[test]
    fn a_soft_job_tries_the_whole_cluster_first() {
        let soft = Some(NetworkTopologySpec {
            mode: TopologyMode::Soft,
            highest_tier_allowed: None,
            highest_tier_name: None,
        });
        let mut snap = snapshot(true, soft, 32);
        let got = domains(&mut snap, &mut scheduler(true, &[]), 8);
        let want = named(&[
            ("<cluster-top-hypernode>", 8),
            ("spine-0", 8),
            ("rack-0", 4),
            ("rack-1", 4),
        ]);
        assert_eq!(got, want);
    }

    /// gangpreempt end to end on a cycle: low-priority pods on n0, n2, n4, n6 and mid ones on
    /// the odd nodes, an urgent 4 × 8-cpu gang. A hard rack gang evicts a whole rack (low and
    /// mid) and pipelines there; without a topology the four low pods go, across both racks.
    #[test]
    fn gangpreempt_victims_stay_in_the_hard_gangs_rack() {
        use crate::model::{PodSpec, PriorityClassSpec};
        use crate::policy::session::Decision;
        let run = |topology: Option<NetworkTopologySpec>| -> (Vec<u32>, Vec<u32>) {
            let mut snap = snapshot(true, topology, 32);
            for (name, value) in [("low", 1), ("mid", 5), ("urgent", 9)] {
                snap.add_priority_class(PriorityClassSpec {
                    name: name.into(),
                    value,
                    global_default: false,
                    preemption_never: false,
                });
            }
            // The ring (added before the classes existed) is the urgent one.
            snap.jobs[0].priority = 9;
            for n in 0..8u32 {
                let class = if n % 2 == 0 { "low" } else { "mid" };
                let pg = PodGroupSpec {
                    namespace: "ns".into(),
                    name: format!("fill-{n}"),
                    queue: "q".into(),
                    min_member: 1,
                    priority_class: Some(class.into()),
                    ..Default::default()
                };
                let j = snap.add_job(&pg, PodGroupPhase::Running, 0).unwrap();
                let pod = PodSpec {
                    namespace: "ns".into(),
                    name: format!("fill-{n}-0"),
                    requests: Resources::cpu_mem(8000, 1 << 30),
                    ..Default::default()
                };
                snap.add_task(j, &pod, TaskStatus::Running, Some(NodeId(n)), 0);
            }
            for k in 0..4 {
                let pod = PodSpec {
                    namespace: "ns".into(),
                    name: format!("ring-{k}"),
                    requests: Resources::cpu_mem(8000, 1 << 30),
                    ..Default::default()
                };
                snap.add_task(JobId(0), &pod, TaskStatus::Pending, None, 0);
            }
            let tiers = vec![
                vec![
                    PluginConf::new(PluginKind::Priority),
                    PluginConf::new(PluginKind::Gang),
                ],
                vec![
                    PluginConf::new(PluginKind::Predicates),
                    PluginConf::new(PluginKind::NetworkTopologyAware),
                ],
            ];
            let mut sched = Scheduler::new_unvalidated(&SchedulerConf {
                actions: vec![Action::GangPreempt],
                tiers,
                action_args: BTreeMap::new(),
                warnings: Vec::new(),
                compat: crate::policy::conf::Compat::V1_15,
            });
            let out = sched.cycle(&mut snap, 0, &mut FirstTie);
            let mut evicted: Vec<u32> = out
                .decisions
                .iter()
                .filter_map(|d| match d {
                    Decision::Evict { task, .. } => snap.task(*task).node.map(|n| n.0),
                    _ => None,
                })
                .collect();
            evicted.sort_unstable();
            let mut placed: Vec<u32> = out.pipelined.iter().map(|p| p.1 .0).collect();
            placed.sort_unstable();
            (evicted, placed)
        };
        assert_eq!(run(hard(1)), (vec![0, 1, 2, 3], vec![0, 1, 2, 3]));
        assert_eq!(run(None), (vec![0, 2, 4, 6], vec![0, 2, 4, 6]));
    }
}
