//! HyperNode resolution, ancestors/LCA, search roots and gradients on a small two-tier tree:
//! racks r0 (n0, n1) and r1 (n2, n3) under spine s0; n4 in no rack.

use std::collections::BTreeMap;

use super::job::{gradient, search_root};
use super::{build, HnId, HyperNodes, CLUSTER_TOP};
use crate::model::{
    HyperNodeMember, HyperNodeSpec, LabelRequirement, MemberSelector, MemberType, NodeId, NodeSpec,
    Resources, SelectorOp,
};

fn node(name: &str, rack: &str) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        allocatable: Resources::cpu_mem(1000, 1 << 30),
        labels: BTreeMap::from([("rack".to_string(), rack.to_string())]),
        taints: vec![],
        unschedulable: false,
    }
}

fn nodes() -> Vec<NodeSpec> {
    vec![
        node("n0", "a"),
        node("n1", "a"),
        node("n2", "b"),
        node("n3", "b"),
        node("n4", "c"),
    ]
}

fn member(kind: MemberType, sel: MemberSelector) -> HyperNodeMember {
    HyperNodeMember {
        kind,
        selector: sel,
    }
}

fn hn(name: &str, tier: u32, members: Vec<HyperNodeMember>) -> HyperNodeSpec {
    HyperNodeSpec {
        name: name.into(),
        tier,
        tier_name: if tier == 1 { "rack" } else { "spine" }.into(),
        members,
    }
}

fn tree() -> Vec<HyperNodeSpec> {
    vec![
        hn(
            "r0",
            1,
            vec![member(
                MemberType::Node,
                MemberSelector::Regex("^n[01]$".into()),
            )],
        ),
        hn(
            "r1",
            1,
            vec![member(
                MemberType::Node,
                MemberSelector::Labels {
                    match_labels: BTreeMap::from([("rack".into(), "b".into())]),
                    match_expressions: vec![LabelRequirement {
                        key: "rack".into(),
                        op: SelectorOp::Exists,
                        values: vec![],
                    }],
                },
            )],
        ),
        hn(
            "s0",
            2,
            vec![
                member(MemberType::HyperNode, MemberSelector::Exact("r0".into())),
                member(MemberType::HyperNode, MemberSelector::Exact("r1".into())),
            ],
        ),
    ]
}

fn id(h: &HyperNodes, name: &str) -> HnId {
    h.find(name).unwrap()
}

#[test]
fn resolves_members_parents_and_the_cluster_top() {
    let h = build(&tree(), &nodes()).unwrap();
    let (r0, r1, s0) = (id(&h, "r0"), id(&h, "r1"), id(&h, "s0"));
    let top = h.top().unwrap();
    assert_eq!(h.name(top), CLUSTER_TOP);
    assert_eq!(h.tier(top), 3);
    assert_eq!(h.tiers(), &[1, 2, 3]);
    assert_eq!(h.nodes(r0), &[NodeId(0), NodeId(1)]);
    assert_eq!(h.nodes(r1), &[NodeId(2), NodeId(3)]);
    assert_eq!(h.nodes(s0), &[NodeId(0), NodeId(1), NodeId(2), NodeId(3)]);
    assert_eq!(h.nodes(top).len(), 5);
    assert_eq!(h.parent(r0), Some(s0));
    assert_eq!(h.parent(s0), Some(top));
    assert_eq!(h.children(s0), &[r0, r1]);
    assert_eq!(h.leaf_of(NodeId(2)), Some(r1));
    assert_eq!(h.leaf_of(NodeId(4)), None);
    assert_eq!(h.tier_of_name("rack"), Some(1));
    assert_eq!(h.ancestors(r0), vec![r0, s0, top]);
    assert_eq!(h.lca(Some(r0), Some(r1)), Some(s0));
    assert_eq!(h.lca(None, Some(r1)), Some(r1));
    assert_eq!(h.holding(NodeId(0)), &[r0, s0, top]);
    // s0 is exactly r0 ∪ r1; the top also holds n4, which no rack does.
    assert!(h.is_union_of_children(s0));
    assert!(!h.is_union_of_children(top));
    assert!(!h.is_union_of_children(r0));
    assert_eq!(h.by_tier(), vec![r0, r1, s0, top]);
}

#[test]
fn gradients_go_from_the_lowest_tier_up_to_the_allowed_one() {
    let h = build(&tree(), &nodes()).unwrap();
    let (r0, r1, s0) = (id(&h, "r0"), id(&h, "r1"), id(&h, "s0"));
    let top = h.top().unwrap();
    assert_eq!(gradient(&h, top, 1, |_| true), vec![vec![r0, r1]]);
    assert_eq!(
        gradient(&h, top, 3, |_| true),
        vec![vec![r0, r1], vec![s0], vec![top]]
    );
    assert_eq!(gradient(&h, top, 2, |x| x != r0), vec![vec![r1], vec![s0]]);
    // A job already in r0 with tier 1 stays in r0; with tier 2 it may use s0's subtree.
    assert_eq!(search_root(&h, top, 1, Some(r0)), Some(r0));
    assert_eq!(search_root(&h, top, 2, Some(r0)), Some(s0));
    // Allocated above the allowed tier: no candidates.
    assert_eq!(search_root(&h, top, 1, Some(s0)), None);
    // Disjoint subtrees: no candidates.
    assert_eq!(search_root(&h, r1, 1, Some(r0)), None);
}

#[test]
fn broken_topologies_are_refused_naming_the_hypernode() {
    let ns = nodes();
    // A member matching no node.
    let mut t = tree();
    t[0].members = vec![member(
        MemberType::Node,
        MemberSelector::Exact("nope".into()),
    )];
    let e = build(&t, &ns).unwrap_err();
    assert_eq!(e.hypernode, "r0");
    assert!(e.message.contains("matches no node"), "{e}");
    // A cycle.
    let mut t = tree();
    t[0].members.push(member(
        MemberType::HyperNode,
        MemberSelector::Exact("s0".into()),
    ));
    let e = build(&t, &ns).unwrap_err();
    assert!(
        e.message.contains("cycle") || e.message.contains("parent"),
        "{e}"
    );
    // Two HyperNodes of one tier holding one node.
    let mut t = tree();
    t[1].members
        .push(member(MemberType::Node, MemberSelector::Exact("n0".into())));
    let e = build(&t, &ns).unwrap_err();
    assert!(e.message.contains("same tier 1"), "{e}");
    // A second parent.
    let mut t = tree();
    t.push(hn(
        "s1",
        2,
        vec![member(
            MemberType::HyperNode,
            MemberSelector::Exact("r0".into()),
        )],
    ));
    let e = build(&t, &ns).unwrap_err();
    assert!(e.message.contains("one parent"), "{e}");
    // An unknown HyperNode member, a bad pattern.
    let mut t = tree();
    t[2].members[0] = member(MemberType::HyperNode, MemberSelector::Exact("r9".into()));
    assert!(build(&t, &ns).unwrap_err().message.contains("not defined"));
    let mut t = tree();
    t[0].members = vec![member(MemberType::Node, MemberSelector::Regex("(".into()))];
    assert!(build(&t, &ns)
        .unwrap_err()
        .message
        .contains("not a valid pattern"));
}

#[test]
fn no_specs_means_no_topology() {
    assert!(build(&[], &nodes()).unwrap().is_empty());
}

/// Regression: a discarded allocation fires the deallocate event after the task lost its
/// node; network-topology-aware must still take its request off the HyperNodes' `used`, or
/// every dry run of the topology path skews the HyperNode scores of the next one.
#[test]
fn discarded_allocations_leave_hypernode_scores_unchanged() {
    use crate::model::{PodGroupSpec, PodSpec, QueueSpec};
    use crate::policy::conf::{Flag, PluginArgs, PluginConf, PluginKind, SchedulerConf};
    use crate::policy::session::{FirstTie, Statement};
    use crate::policy::snapshot::{PodGroupPhase, Snapshot, TaskStatus};
    use crate::policy::Scheduler;
    use std::sync::Arc;

    let mut snap = Snapshot::new();
    let ns = nodes();
    for n in &ns {
        snap.add_node(n);
    }
    snap.topology = Arc::new(build(&tree(), &ns).unwrap());
    snap.add_queue(&QueueSpec::new("q", 1));
    let pg = PodGroupSpec {
        namespace: "ns".into(),
        name: "j".into(),
        queue: "q".into(),
        min_member: 1,
        ..Default::default()
    };
    let j = snap.add_job(&pg, PodGroupPhase::Inqueue, 0).unwrap();
    let pod = PodSpec {
        namespace: "ns".into(),
        name: "j-0".into(),
        requests: Resources::cpu_mem(500, 1 << 20),
        ..Default::default()
    };
    let t = snap.add_task(j, &pod, TaskStatus::Pending, None, 0);
    let conf = SchedulerConf {
        actions: vec![],
        tiers: vec![vec![PluginConf::new(PluginKind::NetworkTopologyAware)]],
        action_args: Default::default(),
        warnings: vec![],
        compat: crate::policy::conf::Compat::V1_15,
    };
    assert!(matches!(
        conf.tiers[0][0].args,
        PluginArgs::NetworkTopologyAware(_)
    ));
    let mut sched = Scheduler::new(&conf).unwrap();
    let mut rng = FirstTie;
    let mut ssn = sched.session(&mut snap, 0, &mut rng);
    let h = ssn.st.snap.topology.clone();
    let cands: Vec<HnId> = h.ids().collect();
    let scores = |ssn: &crate::policy::Session| {
        let slot = &ssn.tiers.tiers[0][0];
        assert!(slot.flags.has(Flag::HyperNodeOrder));
        slot.plugin.hypernode_order(&ssn.st, j, &cands).unwrap()
    };
    let before = scores(&ssn);
    let mut stmt = Statement::new();
    ssn.allocate(&mut stmt, t, NodeId(0));
    assert_ne!(scores(&ssn), before);
    ssn.discard(stmt);
    assert_eq!(scores(&ssn), before);
}

/// `reverseAndCapEvictionGradients`: tiers reversed, the cut tier keeps its last entries; a
/// cap ≤ 0 changes nothing; a cap above the total keeps everything.
#[test]
fn eviction_gradients_are_reversed_and_capped() {
    use super::job::reverse_and_cap;
    let g = vec![vec!["a", "b"], vec!["c", "d"]];
    assert_eq!(reverse_and_cap(&g, 3), vec![vec!["c", "d"], vec!["b"]]);
    assert_eq!(reverse_and_cap(&g, 1), vec![vec!["d"]]);
    assert_eq!(reverse_and_cap(&g, 0), g);
    assert_eq!(reverse_and_cap(&g, -1), g);
    assert_eq!(reverse_and_cap(&g, 9), vec![vec!["c", "d"], vec!["a", "b"]]);
    assert!(reverse_and_cap::<&str>(&[], 3).is_empty());
}
