//! Loading and validating a scenario: reads the TOML and every file it references, builds the
//! nodes, queues, priority classes, conf and jobs, and computes the scenario digest (FNV-1a over
//! the scenario text and every referenced file, in reading order).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::file::{NodePool, QueueEntry, ScenarioFile};
use super::slo::{parse_slo, Slo};
use super::trace::TraceCache;
use crate::model::{
    check_hierarchy, parse_duration, parse_quantity, EngineParams, NodeSpec, PriorityClassSpec,
    QueueSpec, QueueState, ResourceName, Resources, Taint, TaintEffect,
};
use crate::model::{fnv1a_from, FNV_OFFSET};
use crate::policy::{parse_scheduler_conf, SchedulerConf};
use crate::workload::mapping::MappingTable;
use crate::workload::workflow::Workflow;
use crate::workload::{self, TraceJob};

/// A scenario that cannot be used: `file` and `field` locate the problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: field {}: {}", self.file, self.field, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A validated scenario, ready to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub path: PathBuf,
    /// Hex FNV-1a digest of the scenario and every file it read.
    pub digest: String,
    pub seed: u64,
    pub horizon_ms: Option<u64>,
    pub starvation_ms: u64,
    /// The engine's timing (`[sim]`, defaults from `EngineParams::default()`).
    pub params: EngineParams,
    pub nodes: Vec<NodeSpec>,
    pub queues: Vec<QueueSpec>,
    pub priority_classes: Vec<PriorityClassSpec>,
    pub conf: SchedulerConf,
    pub jobs: Vec<TraceJob>,
    /// Top-level workflows to replay (`workload.workflows`, scaled), children nested.
    pub workflows: Vec<Workflow>,
    /// Activity → job mapping for `workflows`.
    pub mapping: MappingTable,
    pub slos: Vec<Slo>,
    /// Non-fatal remarks (unmodelled plugins, unknown YAML fields, …).
    pub warnings: Vec<String>,
}

pub(super) struct Ctx {
    file: String,
    dir: PathBuf,
    digest: u64,
    /// Parsed traces shared with other loads (a sweep's points), if any.
    pub(super) traces: Option<Arc<TraceCache>>,
}

impl Ctx {
    pub(super) fn err(
        &self,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            file: self.file.clone(),
            field: field.into(),
            message: message.into(),
        }
    }
    pub(super) fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }
    pub(super) fn read(
        &mut self,
        field: &str,
        p: &str,
    ) -> Result<(PathBuf, String), ScenarioError> {
        let path = self.resolve(p);
        let text = crate::workload::input::read_input_string(&path)
            .map_err(|e| self.err(field, format!("cannot read {}: {e}", path.display())))?;
        self.digest = fnv1a_from(text.as_bytes(), self.digest);
        Ok((path, text))
    }
    /// Folds bytes read from a referenced file into the scenario digest.
    pub(super) fn absorb(&mut self, bytes: &[u8]) {
        self.digest = fnv1a_from(bytes, self.digest);
    }
    pub(super) fn duration(
        &self,
        field: &str,
        v: &Option<String>,
        default: u64,
    ) -> Result<u64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(s) => parse_duration(s).map_err(|e| self.err(field, e)),
        }
    }
}

/// Reads and validates the scenario at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    load_sharing(path, None)
}

/// [`load`], sharing parsed traces through `traces` (see [`load_str_sharing`]).
pub fn load_sharing(
    path: &Path,
    traces: Option<Arc<TraceCache>>,
) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        field: String::new(),
        message: format!("cannot read scenario: {e}"),
    })?;
    load_str_sharing(&text, path, traces)
}

/// Validates scenario `text` as if read from `path` (relative paths resolve next to it).
pub fn load_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    load_str_sharing(text, path, None)
}

/// [`load_str`], taking the trace from `traces` when an earlier load parsed the same bytes
/// with the same options (and adding it there otherwise). Same scenario either way.
pub fn load_str_sharing(
    text: &str,
    path: &Path,
    traces: Option<Arc<TraceCache>>,
) -> Result<Scenario, ScenarioError> {
    let mut cx = Ctx {
        file: path.display().to_string(),
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        digest: fnv1a_from(text.as_bytes(), FNV_OFFSET),
        traces,
    };
    let sf: ScenarioFile = toml::from_str(text).map_err(|e| cx.err("", format!("{e}")))?;
    super::limits::check_file(&sf, &cx.file)?;
    super::validate::check_file(&sf, &cx.file)?;
    let mut warnings = Vec::new();

    // Scheduler conf.
    // The file a conf error is reported against: the conf file when there is one.
    let mut conf_file = cx.file.clone();
    let conf_text = match (&sf.scheduler.conf, &sf.scheduler.inline) {
        (Some(_), Some(_)) => {
            return Err(cx.err("scheduler", "give either conf (a path) or inline, not both"))
        }
        (Some(p), None) => {
            let (cpath, t) = cx.read("scheduler.conf", p)?;
            conf_file = cpath.display().to_string();
            if t.contains("kind:") {
                let objs = crate::kube::parse_objects(&t, &cpath.display().to_string())
                    .map_err(|e| cx.err("scheduler.conf", e.to_string()))?;
                warnings.extend(objs.warnings);
                objs.scheduler_conf.ok_or_else(|| {
                    cx.err(
                        "scheduler.conf",
                        format!("{} holds no volcano-scheduler.conf", cpath.display()),
                    )
                })?
            } else {
                t
            }
        }
        (None, Some(t)) => t.clone(),
        (None, None) => String::new(),
    };
    // Queue files and cluster manifests (may carry the scheduler ConfigMap).
    let cluster = super::objects::load_cluster(&mut cx, &sf, &mut warnings)?;
    let conf_text = match (&sf.scheduler.conf, &sf.scheduler.inline, cluster.conf) {
        (None, None, Some((_, t))) => t,
        (None, None, None) => crate::policy::conf::HELM_DEFAULT_CONF.to_string(),
        (_, _, None) => conf_text,
        (_, _, Some((f, _))) => {
            let msg = format!("{f} holds a scheduler conf too; keep one of the two");
            return Err(cx.err("scheduler", msg));
        }
    };
    let inline = sf.scheduler.conf.is_none();
    let mut conf = parse_scheduler_conf(&conf_text).map_err(|e| ScenarioError {
        file: conf_file,
        field: match (inline, e.field.is_empty()) {
            (true, true) => "scheduler.inline".into(),
            (true, false) => format!("scheduler.inline.{}", e.field),
            (false, _) => e.field,
        },
        message: e.message,
    })?;
    warnings.extend(conf.warnings.iter().cloned());
    if let Some(c) = &sf.scheduler.compat {
        conf.compat =
            crate::policy::conf::Compat::parse(c).map_err(|e| cx.err("scheduler.compat", e))?;
    }

    // Nodes.
    let mut nodes = Vec::new();
    let mut pool_names = BTreeSet::new();
    for (i, pool) in sf.node_pools.iter().enumerate() {
        if !pool_names.insert(pool.name.clone()) {
            return Err(cx.err(
                format!("nodes[{i}].name"),
                format!("duplicate node pool {:?}", pool.name),
            ));
        }
        nodes.extend(node_pool(&cx, i, pool)?);
    }
    nodes.extend(cluster.nodes);
    let mut node_names = BTreeSet::new();
    if let Some(n) = nodes.iter().find(|n| !node_names.insert(n.name.as_str())) {
        return Err(cx.err("nodes", format!("node {:?} is defined twice", n.name)));
    }
    if nodes.is_empty() {
        return Err(cx.err(
            "nodes",
            "no nodes: add at least one [[nodes]] pool with count ≥ 1, or Node objects in \
             cluster.objects",
        ));
    }

    // Queues and priority classes.
    let mut queues: Vec<QueueSpec> = cluster.queues;
    let mut pcs: Vec<PriorityClassSpec> = cluster.priority_classes;
    for (i, q) in sf.queues.inline.iter().enumerate() {
        queues.push(queue_entry(&cx, i, q)?);
    }
    for (i, p) in sf.priority_classes.iter().enumerate() {
        let never = match p.preemption_policy.as_deref() {
            None | Some("PreemptLowerPriority") => false,
            Some("Never") => true,
            Some(other) => {
                return Err(cx.err(
                    format!("priority_classes[{i}].preemption_policy"),
                    format!("{other:?}: expected PreemptLowerPriority or Never"),
                ))
            }
        };
        pcs.push(PriorityClassSpec {
            name: p.name.clone(),
            value: p.value,
            global_default: p.global_default,
            preemption_never: never,
        });
    }
    let mut seen = BTreeSet::new();
    for q in &queues {
        if !seen.insert(q.name.clone()) {
            return Err(cx.err("queues", format!("queue {:?} is defined twice", q.name)));
        }
    }
    if seen.insert("default".to_string()) {
        // Mirrors volcano's default queue (created at startup when missing): weight 1,
        // reclaimable, Open. Jobs, classes and mappings may name it without defining it.
        queues.push(QueueSpec::new("default", 1));
    }
    let pc_names: BTreeSet<&str> = pcs.iter().map(|p| p.name.as_str()).collect();

    // Workload.
    let seed = sf.seed.unwrap_or(1);
    let horizon_ms = match &sf.horizon {
        None => None,
        Some(h) => Some(parse_duration(h).map_err(|e| cx.err("horizon", e))?),
    };
    let mut jobs: Vec<TraceJob> = super::trace::load(&mut cx, &sf, &mut warnings)?;
    let objects = super::objects::load_workload(&mut cx, &sf, &mut warnings)?;
    jobs.extend(objects.jobs);
    let topology = super::topology::load(
        &cx,
        &sf,
        conf.has_plugin(crate::policy::PluginKind::NetworkTopologyAware),
        &nodes,
        cluster.hypernodes,
        objects.topology,
        &mut warnings,
    )?;
    let mut on_evict = super::sim_params::on_evict_policy(&cx, &sf)?;
    for (class, o) in objects.on_evict {
        on_evict.classes.entry(class).or_insert(o);
    }
    if !sf.workload.classes.is_empty() {
        let h = horizon_ms
            .ok_or_else(|| cx.err("horizon", "synthetic workload classes need a horizon"))?;
        jobs.extend(
            workload::synth::generate(&sf.workload.classes, h, seed)
                .map_err(|e| cx.err("workload.classes", e.to_string()))?,
        );
    }
    let (workflows, mapping) = super::workflows::load(&mut cx, &sf, &seen, &pc_names)?;
    if jobs.is_empty() && workflows.is_empty() {
        return Err(cx.err(
            "workload",
            "no jobs: give workload.trace, workload.objects, [[workload.classes]] and/or \
             workload.workflows",
        ));
    }
    if let Some(k) = sf.workload.rate_multiplier {
        if !(k.is_finite() && k > 0.0) {
            return Err(cx.err("workload.rate_multiplier", "expected a positive number"));
        }
        for j in &mut jobs {
            j.submit_ms = (j.submit_ms as f64 / k).round() as u64;
        }
    }
    for j in &jobs {
        // before the pods are counted and repeated: replicas are bounded per job
        j.validate().map_err(|e| cx.err("workload", e))?;
    }
    super::limits::check_pods(&cx.file, &jobs, sf.workload.repeat.unwrap_or(1))?;
    if let Some(r) = sf.workload.repeat {
        if r == 0 {
            return Err(cx.err("workload.repeat", "expected ≥ 1"));
        }
        super::limits::check_repeat(&cx.file, jobs.len(), r)?;
        let last = jobs.iter().map(|j| j.submit_ms).max().unwrap_or(0);
        let Some(span) = last
            .checked_add(1)
            .filter(|s| s.checked_mul(u64::from(r)).is_some())
        else {
            return Err(cx.err(
                "workload.repeat",
                format!(
                    "{r} repeats of a trace whose last job arrives at {last} ms overflow the ms \
                     time range"
                ),
            ));
        };
        let base = jobs.clone();
        for k in 1..r as u64 {
            jobs.extend(base.iter().map(|j| TraceJob {
                id: format!("{}~{k}", j.id),
                submit_ms: j.submit_ms + k * span,
                ..j.clone()
            }));
        }
    }
    workload::sort_by_submit(&mut jobs);
    jobs.shrink_to_fit();
    for j in &jobs {
        j.validate().map_err(|e| cx.err("workload", e))?;
        if !seen.contains(&j.queue) {
            return Err(cx.err(
                "workload",
                format!(
                    "job {} uses queue {:?}, which the scenario does not define (defined: {})",
                    j.id,
                    j.queue,
                    seen.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if let Some(pc) = &j.priority_class {
            if !pc_names.contains(pc.as_str()) {
                return Err(cx.err(
                    "workload",
                    format!(
                        "job {} uses priority class {pc:?}, which the scenario does not define",
                        j.id
                    ),
                ));
            }
        }
    }

    let params = super::sim_params::engine_params(&cx, &sf, on_evict, topology)?;
    let starvation_ms = cx.duration("starvation_threshold", &sf.starvation_threshold, 600_000)?;
    let mut slos = Vec::new();
    for (i, s) in sf.slo.iter().enumerate() {
        slos.push(parse_slo(s).map_err(|e| cx.err(format!("slo[{i}]"), e))?);
    }
    let name = sf.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut sc = Scenario {
        name,
        path: path.to_path_buf(),
        digest: format!("{:016x}", cx.digest),
        seed,
        horizon_ms,
        starvation_ms,
        params,
        nodes,
        queues,
        priority_classes: pcs,
        conf,
        jobs,
        workflows,
        mapping,
        slos,
        warnings,
    };
    let more = super::validate::check(&sc, &cx.file)?;
    sc.warnings.extend(more);
    Ok(sc)
}

fn quantity(cx: &Ctx, field: &str, d: ResourceName, v: &toml::Value) -> Result<i64, ScenarioError> {
    let s = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        other => {
            return Err(cx.err(
                field,
                format!("expected a quantity such as \"16\", \"500m\" or \"64Gi\", got {other}"),
            ))
        }
    };
    parse_quantity(&s, d.scale()).map_err(|e| cx.err(field, e.to_string()))
}

fn resource_map(
    cx: &Ctx,
    field: &str,
    m: &BTreeMap<String, toml::Value>,
) -> Result<Option<Resources>, ScenarioError> {
    if m.is_empty() {
        return Ok(None);
    }
    let mut r = Resources::empty();
    for (k, v) in m {
        let name = if k == "gpu" {
            "nvidia.com/gpu"
        } else {
            k.as_str()
        };
        let d = ResourceName::intern(name).map_err(|e| cx.err(format!("{field}.{k}"), e))?;
        r.set(d, quantity(cx, &format!("{field}.{k}"), d, v)?);
    }
    Ok(Some(r))
}

fn node_pool(cx: &Ctx, i: usize, pool: &NodePool) -> Result<Vec<NodeSpec>, ScenarioError> {
    let f = |k: &str| format!("nodes[{i}].{k}");
    let mut alloc = Resources::empty();
    alloc.set(
        ResourceName::CPU,
        quantity(cx, &f("cpu"), ResourceName::CPU, &pool.cpu)?,
    );
    alloc.set(
        ResourceName::MEMORY,
        quantity(cx, &f("memory"), ResourceName::MEMORY, &pool.memory)?,
    );
    alloc.set(ResourceName::PODS, pool.pods.unwrap_or(110) as i64);
    if let Some(g) = &pool.gpu {
        alloc.set(
            ResourceName::GPU,
            quantity(cx, &f("gpu"), ResourceName::GPU, g)?,
        );
    }
    for (k, v) in &pool.scalars {
        let d = ResourceName::intern(k).map_err(|e| cx.err(f("scalars"), e))?;
        alloc.set(d, quantity(cx, &f(&format!("scalars.{k}")), d, v)?);
    }
    if alloc.cpu() <= 0 || alloc.memory() <= 0 {
        return Err(cx.err(f("cpu"), "a node needs cpu and memory > 0"));
    }
    let mut taints = Vec::new();
    for (ti, t) in pool.taints.iter().enumerate() {
        let (kv, effect) = t.rsplit_once(':').ok_or_else(|| {
            cx.err(
                f(&format!("taints[{ti}]")),
                format!("{t:?}: expected key=value:Effect"),
            )
        })?;
        let effect = TaintEffect::parse(effect).ok_or_else(|| {
            cx.err(
                f(&format!("taints[{ti}]")),
                format!("{effect:?}: expected NoSchedule, PreferNoSchedule or NoExecute"),
            )
        })?;
        let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
        taints.push(Taint {
            key: key.to_string(),
            value: value.to_string(),
            effect,
        });
    }
    Ok((0..pool.count)
        .map(|k| NodeSpec {
            name: format!("{}-{k}", pool.name),
            allocatable: alloc,
            labels: pool.labels.clone(),
            taints: taints.clone(),
            unschedulable: false,
        })
        .collect())
}

fn queue_entry(cx: &Ctx, i: usize, q: &QueueEntry) -> Result<QueueSpec, ScenarioError> {
    let f = |k: &str| format!("queues.inline[{i}].{k}");
    let weight = q.weight.unwrap_or(1);
    if weight < 1 || weight > u32::MAX as i64 {
        return Err(cx.err(f("weight"), format!("{weight}: expected an integer ≥ 1")));
    }
    let mut spec = QueueSpec::new(&q.name, weight as u32);
    spec.capability = resource_map(cx, &f("capability"), &q.capability)?;
    spec.deserved = resource_map(cx, &f("deserved"), &q.deserved)?;
    spec.guarantee = resource_map(cx, &f("guarantee"), &q.guarantee)?;
    spec.reclaimable = q.reclaimable.unwrap_or(true);
    spec.priority = q.priority.unwrap_or(0);
    spec.parent = q.parent.clone();
    match (&q.hierarchy, &q.hierarchy_weights) {
        (None, None) => {}
        (Some(path), weights) => {
            let weights = weights.clone().unwrap_or_default();
            check_hierarchy(path, &weights).map_err(|m| cx.err(f("hierarchy_weights"), m))?;
            spec.hierarchy = path.clone();
            spec.hierarchy_weights = weights;
        }
        (None, Some(_)) => {
            return Err(cx.err(f("hierarchy_weights"), "set without hierarchy"));
        }
    }
    if let Some(s) = &q.state {
        spec.state = QueueState::parse(s).ok_or_else(|| {
            cx.err(
                f("state"),
                format!("{s:?}: expected Open, Closed, Closing or Unknown"),
            )
        })?;
    }
    Ok(spec)
}
