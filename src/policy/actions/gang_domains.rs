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
    // The framing of `gang_plan::build` (victims evicted first, the worksheet read after),
    // with the trial repeated over the sub-job's HyperNodes.
    let mut chain = Statement::new();
    for &v in victims {
        ssn.evict(&mut chain, v, action, preemptor);
    }
    let tasks = super::gang_evict::pending_set(ssn, j);
    if tasks.is_empty() {
        ssn.discard(chain);
        return None;
    }
    let mut won = None;
    for h in subjob_hypernodes(ssn, j, hn) {
        let nodes = ssn.snap().topology.nodes(h).to_vec();
        if nodes.is_empty() {
            continue;
        }
        let mut trial = Statement::new();
        let present = !victims.is_empty();
        if gang_plan::trial_in_domain(ssn, &mut trial, q, j, &nodes, &tasks, present) {
            won = Some(trial);
            break;
        }
        ssn.discard(trial);
    }
    let Some(trial) = won else {
        ssn.discard(chain);
        return None;
    };
    chain.merge(trial);
    // One (default) sub-job: the sub-job loop ends here.
    if !ssn.tiers.job_pipelined(&ssn.st, j) {
        ssn.discard(chain);
        return None;
    }
    Some(chain)
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
