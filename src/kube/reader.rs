//! The per-file reader: walks the documents of one YAML stream, dispatches each object on
//! `apiVersion` + `kind`, deserializes it through `kube::de`, converts it to the model and turns
//! skipped fields and conversion notes into warnings and `Problem`s into `KubeError`s.
//! Depends only on `crate::model` and the other `kube` submodules.

use std::collections::BTreeMap;

use super::de::{self, Ignore, IgnoreTable, Skipped};
use super::tree::{DocMap, Node, Val};
use super::types::Problem;
use super::{
    core_v1, hypernode, locate, pod, pos, scheduling, types, vcjob, workload, KubeError,
    KubeObjects, Origin,
};

/// Per serde struct name: Kubernetes fields skipped on purpose (see `de::Ignore`).
pub(crate) const IGNORE: IgnoreTable = &[
    (
        "QueueY",
        &[("apiVersion", Ignore::Quiet), ("kind", Ignore::Quiet)],
    ),
    (
        "PodGroupY",
        &[
            ("apiVersion", Ignore::Quiet),
            ("kind", Ignore::Quiet),
            ("status", Ignore::Quiet),
        ],
    ),
    (
        "JobY",
        &[
            ("apiVersion", Ignore::Quiet),
            ("kind", Ignore::Quiet),
            ("status", Ignore::Quiet),
        ],
    ),
    (
        "PriorityClassY",
        &[
            ("apiVersion", Ignore::Quiet),
            ("kind", Ignore::Quiet),
            ("description", Ignore::Quiet),
        ],
    ),
    (
        "NodeY",
        &[("apiVersion", Ignore::Quiet), ("kind", Ignore::Quiet)],
    ),
    (
        "ConfigMapY",
        &[
            ("apiVersion", Ignore::Quiet),
            ("kind", Ignore::Quiet),
            ("binaryData", Ignore::Quiet),
            ("immutable", Ignore::Quiet),
        ],
    ),
    (
        "PodY",
        &[
            ("apiVersion", Ignore::Quiet),
            ("kind", Ignore::Quiet),
            ("status", Ignore::Quiet),
        ],
    ),
    (
        "BatchJobY",
        &[
            ("apiVersion", Ignore::Quiet),
            ("kind", Ignore::Quiet),
            ("status", Ignore::Quiet),
        ],
    ),
    ("BatchJobSpecY", workload::BATCH_JOB_SPEC_IGNORED),
    ("HyperNodeY", hypernode::HYPERNODE_IGNORED),
    ("ObjectMeta", types::OBJECT_META_IGNORED),
    ("TaintY", types::TAINT_IGNORED),
    ("TolerationY", types::TOLERATION_IGNORED),
    ("QueueSpecY", scheduling::QUEUE_SPEC_IGNORED),
    ("QueueStatusY", scheduling::QUEUE_STATUS_IGNORED),
    ("PodGroupSpecY", scheduling::PODGROUP_SPEC_IGNORED),
    ("PodSpecY", pod::POD_SPEC_IGNORED),
    ("ContainerY", pod::CONTAINER_IGNORED),
    ("ResourceRequirementsY", pod::RESOURCE_REQUIREMENTS_IGNORED),
    ("JobSpecY", vcjob::JOB_SPEC_IGNORED),
    ("TaskY", vcjob::TASK_IGNORED),
    ("NodeSpecY", core_v1::NODE_SPEC_IGNORED),
    ("NodeStatusY", core_v1::NODE_STATUS_IGNORED),
];

const VOLCANO_SCHEDULING: &str = "scheduling.volcano.sh/v1beta1";
const VOLCANO_BATCH: &str = "batch.volcano.sh/v1alpha1";
const K8S_SCHEDULING: &str = "scheduling.k8s.io/v1";
const K8S_BATCH: &str = "batch/v1";
const VOLCANO_TOPOLOGY: &str = "topology.volcano.sh/v1alpha1";

/// The apiVersions each supported kind may carry (the first is the current one).
const KINDS: &[(&str, &[&str])] = &[
    ("Queue", &[VOLCANO_SCHEDULING]),
    ("PodGroup", &[VOLCANO_SCHEDULING]),
    ("Job", &[VOLCANO_BATCH, K8S_BATCH]),
    ("PriorityClass", &[K8S_SCHEDULING]),
    ("Node", &["v1"]),
    ("HyperNode", &[VOLCANO_TOPOLOGY]),
    ("ConfigMap", &["v1"]),
    ("Pod", &["v1"]),
    ("List", &["v1"]),
];

/// PodGroup apiVersions of kube-batch and early Volcano, read as the current one (the fields
/// the scheduler uses — minMember, queue, priorityClassName, minResources — kept their names).
const LEGACY_PODGROUP: &[&str] = &[
    "scheduling.incubator.k8s.io/v1alpha1",
    "scheduling.sigs.dev/v1alpha2",
    "scheduling.volcano.sh/v1alpha1",
    "scheduling.volcano.sh/v1alpha2",
];

pub(crate) struct Reader<'a> {
    pub file: &'a str,
    pub docs: &'a DocMap,
    pub out: KubeObjects,
    /// (kind, namespace/name) → document where first seen.
    pub seen: BTreeMap<(String, String), usize>,
}

/// Identifies one object while reading it.
struct Obj<'a> {
    node: &'a Node,
    doc: usize,
    prefix: &'a str,
    label: String,
}

impl<'a> Reader<'a> {
    fn error(&self, o: &Obj, line: u64, field: &str, message: String) -> KubeError {
        KubeError {
            file: self.file.to_string(),
            document: pos(o.doc),
            line: pos(line),
            object: Some(o.label.clone()),
            field: Some(join_prefix(o.prefix, field)).filter(|f| !f.is_empty()),
            message,
        }
    }

    fn warn(&mut self, o: &Obj, line: u64, field: &str, message: &str) {
        let field = join_prefix(o.prefix, field);
        let at = locate(self.file, pos(line), pos(o.doc), Some(&o.label));
        let sep = if field.is_empty() { "" } else { ": " };
        self.out.warnings.push(format!("{at}{field}{sep}{message}"));
    }

    fn problem(&self, o: &Obj, p: &Problem) -> KubeError {
        let segs = p.segments();
        let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
        self.error(o, o.node.line_of(&refs), &p.path_text(), p.msg.clone())
    }

    fn problems(&mut self, o: &Obj, ps: Vec<Problem>) {
        for p in ps {
            let segs = p.segments();
            let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
            let line = o.node.line_of(&refs);
            self.warn(o, line, &p.path_text(), &p.msg);
        }
    }

    /// Deserializes `T` from the object's node, reporting skipped fields.
    fn typed<T: serde::de::DeserializeOwned>(&mut self, o: &Obj) -> Result<T, KubeError> {
        let (v, skipped) = de::from_node::<T>(o.node, "", IGNORE).map_err(|e| {
            self.error(
                o,
                if e.line > 0 { e.line } else { o.node.line },
                e.path.as_deref().unwrap_or(""),
                e.msg.clone(),
            )
        })?;
        for Skipped {
            path,
            line,
            unknown,
            suggestion,
        } in skipped
        {
            let msg = match (unknown, suggestion) {
                (true, Some(s)) => format!("unknown field, ignored; did you mean `{s}`?"),
                (true, None) => "unknown field, ignored".to_string(),
                (false, _) => "not modelled by volsim, ignored".to_string(),
            };
            self.warn(o, line, &path, &msg);
        }
        Ok(v)
    }

    fn unique(&mut self, o: &Obj, kind: &str, key: String) -> Result<(), KubeError> {
        if let Some(first) = self.seen.get(&(kind.to_string(), key.clone())) {
            let msg = format!("duplicate {kind} {key:?} (first defined in document {first})");
            return Err(self.error(
                o,
                o.node.line_of(&["metadata", "name"]),
                "metadata.name",
                msg,
            ));
        }
        self.seen.insert((kind.to_string(), key), o.doc);
        Ok(())
    }

    pub(super) fn object(
        &mut self,
        node: &Node,
        doc: usize,
        prefix: &str,
    ) -> Result<(), KubeError> {
        let kind = node.get_str("kind");
        let api = node.get_str("apiVersion").unwrap_or_default();
        let name = node.get("metadata").and_then(|m| m.get_str("name"));
        let label = match (&kind, &name) {
            (Some(k), Some(n)) => format!("{k} {n}"),
            (Some(k), None) => k.clone(),
            (None, _) => "no kind".to_string(),
        };
        let o = Obj {
            node,
            doc,
            prefix,
            label,
        };
        if !matches!(node.val, Val::Map(_)) {
            let msg =
                "expected a Kubernetes object (a mapping with apiVersion and kind)".to_string();
            return Err(self.error(&o, node.line, "", msg));
        }
        let Some(kind) = kind else {
            if node.get("actions").is_some() || node.get("tiers").is_some() {
                return self.set_conf(&o, self.docs.doc_text(doc));
            }
            self.warn(
                &o,
                node.line,
                "",
                "no `kind`: not a Kubernetes object, ignored",
            );
            return Ok(());
        };
        let legacy = kind == "PodGroup" && LEGACY_PODGROUP.contains(&api.as_str());
        if legacy {
            let msg = format!("old apiVersion {api:?}, read as {VOLCANO_SCHEDULING:?}");
            self.warn(&o, node.line_of(&["apiVersion"]), "apiVersion", &msg);
        }
        match KINDS.iter().find(|(k, _)| *k == kind) {
            _ if legacy => {}
            None => {
                self.warn(
                    &o,
                    node.line,
                    "kind",
                    &format!("unknown kind {kind:?} (apiVersion {api:?}), ignored"),
                );
                return Ok(());
            }
            Some((_, want)) if !want.contains(&api.as_str()) => {
                let msg = format!(
                    "unsupported apiVersion {api:?} for kind {kind} (expected {}), ignored",
                    want.join(" or ")
                );
                self.warn(&o, node.line_of(&["apiVersion"]), "apiVersion", &msg);
                return Ok(());
            }
            Some(_) => {}
        }
        let mut warn = Vec::new();
        match kind.as_str() {
            "Queue" => {
                let q = self
                    .typed::<scheduling::QueueY>(&o)?
                    .to_model(&mut warn)
                    .map_err(|p| self.problem(&o, &p))?;
                self.unique(&o, "Queue", q.name.clone())?;
                self.origin(&o, "Queue", "", &q.name);
                self.out.queues.push(q);
            }
            "PodGroup" => {
                let pg = self
                    .typed::<scheduling::PodGroupY>(&o)?
                    .to_model(&mut warn)
                    .map_err(|p| self.problem(&o, &p))?;
                self.unique(&o, "PodGroup", format!("{}/{}", pg.namespace, pg.name))?;
                self.origin(&o, "PodGroup", &pg.namespace, &pg.name);
                self.out.podgroups.push(pg);
            }
            "Job" if api == K8S_BATCH => {
                let j = self
                    .typed::<workload::BatchJobY>(&o)?
                    .to_model(&mut warn)
                    .map_err(|p| self.problem(&o, &p))?;
                self.unique(&o, "batch/v1 Job", format!("{}/{}", j.namespace, j.name))?;
                self.origin(&o, "batch/v1 Job", &j.namespace, &j.name);
                self.out.batch_jobs.push(j);
            }
            "Pod" => {
                let p = self
                    .typed::<workload::PodY>(&o)?
                    .to_model(&mut warn)
                    .map_err(|p| self.problem(&o, &p))?;
                self.unique(&o, "Pod", format!("{}/{}", p.namespace, p.name))?;
                self.origin(&o, "Pod", &p.namespace, &p.name);
                self.out.pods.push(p);
            }
            "Job" => {
                let j = self
                    .typed::<vcjob::JobY>(&o)?
                    .to_model(&mut warn)
                    .map_err(|p| self.problem(&o, &p))?;
                self.unique(&o, "Job", format!("{}/{}", j.namespace, j.name))?;
                self.origin(&o, "Job", &j.namespace, &j.name);
                self.out.vcjobs.push(j);
            }
            "PriorityClass" => {
                let pc = self
                    .typed::<scheduling::PriorityClassY>(&o)?
                    .to_model()
                    .map_err(|p| self.problem(&o, &p))?;
                self.unique(&o, "PriorityClass", pc.name.clone())?;
                if pc.global_default {
                    if let Some(other) = self.out.priority_classes.iter().find(|p| p.global_default)
                    {
                        let msg = format!(
                            "true, but PriorityClass {:?} is already the global default",
                            other.name
                        );
                        return Err(self.error(
                            &o,
                            node.line_of(&["globalDefault"]),
                            "globalDefault",
                            msg,
                        ));
                    }
                }
                self.origin(&o, "PriorityClass", "", &pc.name);
                self.out.priority_classes.push(pc);
            }
            "Node" => {
                let n = self
                    .typed::<core_v1::NodeY>(&o)?
                    .to_model(&mut warn)
                    .map_err(|p| self.problem(&o, &p))?;
                self.unique(&o, "Node", n.name.clone())?;
                self.origin(&o, "Node", "", &n.name);
                self.out.nodes.push(n);
            }
            "HyperNode" => {
                let h = self
                    .typed::<hypernode::HyperNodeY>(&o)?
                    .to_model()
                    .map_err(|p| self.problem(&o, &p))?;
                self.unique(&o, "HyperNode", h.name.clone())?;
                self.origin(&o, "HyperNode", "", &h.name);
                self.out.hypernodes.push(h);
            }
            "ConfigMap" => {
                let cm = self.typed::<core_v1::ConfigMapY>(&o)?;
                if let Some(conf) = cm.scheduler_conf(&mut warn) {
                    self.set_conf(&o, conf)?;
                    let name = o.label.strip_prefix("ConfigMap ").unwrap_or("").to_string();
                    self.origin(&o, "ConfigMap", "", &name);
                }
            }
            _ => return self.list(&o),
        }
        self.problems(&o, warn);
        Ok(())
    }

    /// A `v1 List` (what `kubectl get -o yaml` prints): each item is read as an object.
    fn list(&mut self, o: &Obj) -> Result<(), KubeError> {
        let items = match o.node.get("items").map(|n| &n.val) {
            Some(Val::Seq(items)) => items,
            None | Some(Val::Null) => return Ok(()),
            Some(_) => {
                return Err(self.error(
                    o,
                    o.node.line_of(&["items"]),
                    "items",
                    "expected a list of objects".into(),
                ))
            }
        };
        for (i, item) in items.iter().enumerate() {
            let prefix = join_prefix(o.prefix, &format!("items[{i}]"));
            self.object(item, o.doc, &prefix)?;
        }
        Ok(())
    }

    /// Records where an object came from (document, item) with its creation time and
    /// annotations, for loaders that need them.
    fn origin(&mut self, o: &Obj, kind: &str, namespace: &str, name: &str) {
        let meta = o.node.get("metadata");
        let text = |k: &str| meta.and_then(|m| m.get_str(k));
        let status = o.node.get("status");
        let annotations = match meta.and_then(|m| m.get("annotations")).map(|a| &a.val) {
            Some(Val::Map(entries)) => entries
                .iter()
                .filter_map(|(k, v)| Some((k.scalar_text()?, v.scalar_text()?)))
                .collect(),
            _ => Default::default(),
        };
        self.out.origins.push(Origin {
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            file: self.file.to_string(),
            document: o.doc,
            item: Some(o.prefix.to_string()).filter(|p| !p.is_empty()),
            creation_timestamp: text("creationTimestamp"),
            annotations,
            phase: status.and_then(|s| {
                s.get_str("phase")
                    .or_else(|| s.get("state").and_then(|st| st.get_str("phase")))
            }),
            start_time: status.and_then(|s| s.get_str("startTime")),
        });
    }

    fn set_conf(&mut self, o: &Obj, conf: String) -> Result<(), KubeError> {
        if self.out.scheduler_conf.is_some() {
            let msg = "a second scheduler conf; a file may hold only one".to_string();
            return Err(self.error(o, o.node.line, "", msg));
        }
        self.out.scheduler_conf = Some(conf);
        Ok(())
    }
}

fn join_prefix(prefix: &str, field: &str) -> String {
    match (prefix.is_empty(), field.is_empty()) {
        (true, _) => field.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) if field.starts_with('[') => format!("{prefix}{field}"),
        (false, false) => format!("{prefix}.{field}"),
    }
}
