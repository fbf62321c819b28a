//! Conf parsing: flags, typed arguments with deny-unknown keys, unmodelled plugins with any
//! arguments (the documented confs of Volcano's own docs, `tests/fixtures/conf/`).

use super::*;

fn one_plugin(name: &str, args: &str) -> Result<SchedulerConf, ConfError> {
    parse_scheduler_conf(&format!(
        "actions: \"enqueue\"\ntiers:\n- plugins:\n  - name: {name}\n    arguments:\n{args}"
    ))
}

#[test]
fn flags_table_is_indexed_by_discriminant() {
    for (i, f) in FLAGS.iter().enumerate() {
        assert_eq!(*f as usize, i);
    }
}

#[test]
fn plugin_kinds_round_trip_their_names() {
    for k in PluginKind::ALL {
        assert_eq!(PluginKind::parse(k.as_str()), Some(k));
        assert!(!UNMODELLED_PLUGINS.contains(&k.as_str()));
    }
}

#[test]
fn helm_default_parses_with_flags() {
    let c = SchedulerConf::helm_default();
    assert_eq!(
        c.actions,
        vec![Action::Enqueue, Action::Allocate, Action::Backfill]
    );
    assert_eq!(c.tiers.len(), 2);
    let gang = &c.tiers[0][1];
    assert_eq!(gang.kind(), PluginKind::Gang);
    assert!(!gang.flags.has(Flag::Preemptable));
    assert!(gang.flags.has(Flag::JobReady));
    assert!(c.has_plugin(PluginKind::Binpack));
    assert!(!c.has_plugin(PluginKind::Sla));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn unknown_plugin_and_action_are_errors() {
    let e = parse_scheduler_conf(
        "actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: gangg\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("tiers[0].plugins[0].name"), "{e}");
    let e = parse_scheduler_conf("actions: \"enqueue, alocate\"\ntiers: []\n").unwrap_err();
    assert!(e.to_string().contains("alocate"), "{e}");
    let e = parse_scheduler_conf(
        "actions: \"enqueue\"\ntiers:\n- plugins:\n  - name: gang\n    enableJobOrdr: true\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("enableJobOrdr"), "{e}");
}

#[test]
fn arguments_are_typed_with_volcano_defaults() {
    let c = one_plugin("overcommit", "      overcommit-factor: 1.5\n").unwrap();
    assert_eq!(
        c.tiers[0][0].args,
        PluginArgs::Overcommit(OvercommitArgs { factor: 1.5 })
    );
    let PluginArgs::NodeOrder(n) = PluginArgs::defaults(PluginKind::NodeOrder) else {
        panic!("nodeorder defaults")
    };
    assert_eq!(
        (n.least_requested, n.most_requested, n.balanced_resource),
        (1, 0, 1)
    );
    let c = one_plugin(
        "binpack",
        "      binpack.weight: 10\n      binpack.cpu: -3\n      binpack.resources: nvidia.com/gpu, example.com/foo\n      binpack.resources.nvidia.com/gpu: 2\n",
    )
    .unwrap();
    assert_eq!(
        c.tiers[0][0].args,
        PluginArgs::Binpack(BinpackArgs {
            weight: 10,
            cpu: 1,
            memory: 1,
            resources: vec![("nvidia.com/gpu".into(), 2), ("example.com/foo".into(), 1)],
        })
    );
    let c = one_plugin("sla", "      sla-waiting-time: 1h30m\n").unwrap();
    assert_eq!(
        c.tiers[0][0].args,
        PluginArgs::Sla(SlaArgs {
            waiting_ms: Some(5_400_000)
        })
    );
}

#[test]
fn a_misspelled_argument_names_the_plugin_and_the_key() {
    let e = one_plugin("overcommit", "      overcommit-factr: 2\n").unwrap_err();
    assert_eq!(e.field, "tiers[0].plugins[0].arguments.overcommit-factr");
    let msg = e.to_string();
    assert!(
        msg.contains("overcommit") && msg.contains("overcommit-factor"),
        "{msg}"
    );
    for (plugin, args, key) in [
        ("binpack", "      binpack.wieght: 2\n", "binpack.wieght"),
        (
            "binpack",
            "      binpack.resources.nvidia.com/gpu: 2\n",
            "binpack.resources.nvidia.com/gpu",
        ),
        ("nodeorder", "      leastrequested: 2\n", "leastrequested"),
        (
            "predicates",
            "      predicate.NodeAfinityEnable: false\n",
            "predicate.NodeAfinityEnable",
        ),
        (
            "predicates",
            "      predicate.GPUSharingEnable: true\n",
            "predicate.GPUSharingEnable",
        ),
        ("sla", "      sla-waiting: 5m\n", "sla-waiting"),
        ("proportion", "      weight: 2\n", "weight"),
        (
            "capacity",
            "      ancestorReclaimLvl: 1\n",
            "ancestorReclaimLvl",
        ),
    ] {
        let e = one_plugin(plugin, args).unwrap_err();
        assert!(e.field.ends_with(key), "{plugin}: {e}");
        assert!(e.message.contains(plugin), "{plugin}: {e}");
    }
}

#[test]
fn a_value_of_the_wrong_type_is_an_error() {
    for (plugin, args) in [
        ("overcommit", "      overcommit-factor: lots\n"),
        ("sla", "      sla-waiting-time: 1\n"),
        ("sla", "      sla-waiting-time: soon\n"),
        ("nodeorder", "      leastrequested.weight: 1.5\n"),
        ("predicates", "      predicate.NodeAffinityEnable: maybe\n"),
        ("binpack", "      binpack.resources: [nvidia.com/gpu]\n"),
    ] {
        let e = one_plugin(plugin, args).unwrap_err();
        assert!(
            e.field.starts_with("tiers[0].plugins[0].arguments."),
            "{plugin}: {e}"
        );
    }
}

#[test]
fn accepted_but_unmodelled_arguments_load() {
    let c = one_plugin(
        "predicates",
        "      predicate.VolumeBindingEnable: true\n      predicate.CacheEnable: \"false\"\n      volumebinding.weight: 1\n      volumebinding.shape:\n      - utilization: 0\n        score: 10\n      predicate.resources: nvidia.com/gpu\n      predicate.resources.nvidia.com/gpu.cpu: 4\n",
    )
    .unwrap();
    assert_eq!(
        c.tiers[0][0].args,
        PluginArgs::Predicates(PredicatesArgs {
            node_affinity: true,
            taint_toleration: true
        })
    );
    let c = one_plugin("overcommit", "      overcommit-factor: 0.5\n").unwrap();
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
}

/// The confs of Volcano's docs for plugins volsim does not model: each loads with exactly one
/// warning, naming the plugin, whatever its arguments look like.
#[test]
fn documented_unmodelled_plugin_confs_load_with_one_warning_each() {
    for (file, text, plugin) in [
        (
            "usage.yaml",
            include_str!("../../../tests/fixtures/conf/usage.yaml"),
            "usage",
        ),
        (
            "resource-strategy-fit.yaml",
            include_str!("../../../tests/fixtures/conf/resource-strategy-fit.yaml"),
            "resource-strategy-fit",
        ),
        (
            "rescheduling.yaml",
            include_str!("../../../tests/fixtures/conf/rescheduling.yaml"),
            "rescheduling",
        ),
        (
            "numa-aware.yaml",
            include_str!("../../../tests/fixtures/conf/numa-aware.yaml"),
            "numa-aware",
        ),
    ] {
        let c = parse_scheduler_conf(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let about: Vec<&String> = c.warnings.iter().filter(|w| w.contains(plugin)).collect();
        assert_eq!(about.len(), 1, "{file}: {:?}", c.warnings);
        assert!(
            c.tiers.iter().flatten().all(|p| p.name() != plugin),
            "{file}: an unmodelled plugin is not built"
        );
    }
}

#[test]
fn drf_hierarchy_and_proportion_cannot_share_a_tier() {
    let e = parse_scheduler_conf(
        "actions: \"allocate\"\ntiers:\n- plugins:\n  - name: drf\n    enableHierarchy: true\n  - name: proportion\n",
    )
    .unwrap_err();
    assert_eq!(e.field, "tiers[0]");
}

#[test]
fn drf_hierarchy_loads_without_warnings() {
    let c = parse_scheduler_conf(
        "actions: \"allocate\"\ntiers:\n- plugins:\n  - name: drf\n    enableHierarchy: true\n- plugins:\n  - name: proportion\n",
    )
    .unwrap();
    assert!(c.plugin(PluginKind::Drf).unwrap().hierarchy);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn gang_actions_with_legacy_ones_warn_naming_both() {
    let c = parse_scheduler_conf(
        "actions: \"enqueue, allocate, gangpreempt, preempt, gangreclaim\"\ntiers:\n- plugins:\n  - name: gang\n",
    )
    .unwrap();
    let both: Vec<&String> = c
        .warnings
        .iter()
        .filter(|w| w.contains("gangpreempt and preempt"))
        .collect();
    assert_eq!(both.len(), 1, "{:?}", c.warnings);
    assert!(
        !c.warnings
            .iter()
            .any(|w| w.contains("gangreclaim and reclaim")),
        "{:?}",
        c.warnings
    );
}
