//! Real Volcano/Kubernetes YAML in: Queues, PodGroups, vcjobs, PriorityClasses, Nodes,
//! HyperNodes and the scheduler ConfigMap, from multi-document files, into `crate::model` specs plus `VcJob`.
//! Dispatches on `apiVersion` + `kind`; unknown kinds and unknown fields become warnings, bad
//! values become a `KubeError` naming file, document (1-based), line and field. Never panics.
//! Depends only on `crate::model` (and serde/serde-saphyr); does no I/O except `load_objects`.

mod core_v1;
mod de;
mod hypernode;
mod pod;
mod policy;
mod reader;
mod scheduling;
mod tree;
mod types;
mod vcjob;
mod workload;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::model::{HyperNodeSpec, NodeSpec, PodGroupSpec, PriorityClassSpec, QueueSpec};
use reader::Reader;
use tree::{DocMap, Node};

pub use core_v1::{DEFAULT_MAX_PODS, SCHEDULER_CONF_KEY};
pub use policy::{LifecyclePolicy, PolicyAction, PolicyEvent};
pub use vcjob::{PodTemplate, VcJob, VcTask};
pub use workload::{BatchJob, PlainPod, GROUP_NAME_ANNOTATION};

/// Everything read from one file, in document order within each kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KubeObjects {
    /// Queues with webhook defaults (weight 1, reclaimable, Open).
    pub queues: Vec<QueueSpec>,
    /// Stand-alone PodGroups (queue defaults to `default`).
    pub podgroups: Vec<PodGroupSpec>,
    /// Volcano Jobs; call [`VcJob::to_podgroup_and_pods`] to get what the controller creates.
    pub vcjobs: Vec<VcJob>,
    /// `batch/v1` Jobs.
    pub batch_jobs: Vec<BatchJob>,
    /// Plain `v1` Pods.
    pub pods: Vec<PlainPod>,
    pub priority_classes: Vec<PriorityClassSpec>,
    /// Nodes (`pods` allocatable defaults to [`DEFAULT_MAX_PODS`]).
    pub nodes: Vec<NodeSpec>,
    /// `topology.volcano.sh/v1alpha1` HyperNodes (members not resolved yet).
    pub hypernodes: Vec<HyperNodeSpec>,
    /// Raw text of the scheduler conf (from a ConfigMap's `volcano-scheduler.conf` key or a
    /// bare conf document with top-level `actions:`/`tiers:`); parsed elsewhere.
    pub scheduler_conf: Option<String>,
    /// Where each object above came from, in reading order (the scheduler conf included).
    pub origins: Vec<Origin>,
    /// Human-readable notes, each naming file, document and field: unknown kinds, unknown
    /// (possibly misspelled) fields, fields Kubernetes has but volsim does not model, and
    /// values Volcano would silently reinterpret.
    pub warnings: Vec<String>,
}

/// Where an object was read and the metadata workload loaders need (arrival time hints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `Queue`, `PodGroup`, `Job` (vcjob), `batch/v1 Job`, `Pod`, `PriorityClass`, `Node`,
    /// `ConfigMap`.
    pub kind: String,
    /// "" for cluster-scoped kinds.
    pub namespace: String,
    pub name: String,
    pub file: String,
    /// 1-based document number.
    pub document: usize,
    /// `items[3]` when the object is an item of a `List`.
    pub item: Option<String>,
    /// `metadata.creationTimestamp` as written.
    pub creation_timestamp: Option<String>,
    /// `metadata.annotations` (scalar values as text).
    pub annotations: BTreeMap<String, String>,
    /// `status.phase` (Pod, PodGroup) or `status.state.phase` (vcjob), when the object is a
    /// dump of a live one.
    pub phase: Option<String>,
    /// A Pod's `status.startTime`.
    pub start_time: Option<String>,
}

impl Origin {
    /// `jobs.yaml: document 2 (Job default/test-job)`, with `items[i]` for List items.
    pub fn describe(&self) -> String {
        let item = self
            .item
            .as_ref()
            .map_or(String::new(), |i| format!(" {i}"));
        let name = if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        };
        format!(
            "{}: document {}{item} ({} {name})",
            self.file, self.document, self.kind
        )
    }
}

/// A file that cannot be used as given. `Display` gives
/// `file:line: document N (Kind name): field: message`, leaving out the parts not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct KubeError {
    pub file: String,
    /// 1-based document number, counting every `---`-separated document (empty ones too).
    pub document: Option<u32>,
    /// 1-based line.
    pub line: Option<u32>,
    /// `Kind name` of the object, when known.
    pub object: Option<String>,
    /// Field path such as `spec.capability.cpu` or `spec.tasks[1].replicas`.
    pub field: Option<String>,
    /// What is wrong: the bad value and what was expected.
    pub message: String,
}

impl fmt::Display for KubeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&locate(
            &self.file,
            self.line,
            self.document,
            self.object.as_deref(),
        ))?;
        if let Some(p) = self.field.as_deref().filter(|p| !p.is_empty()) {
            write!(f, "{p}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A 1-based position as stored in `KubeError` (0 or out of range → None).
fn pos<T: TryInto<u32>>(x: T) -> Option<u32> {
    x.try_into().ok().filter(|&v| v > 0)
}

fn locate(file: &str, line: Option<u32>, doc: Option<u32>, object: Option<&str>) -> String {
    let mut s = file.to_string();
    if let Some(l) = line {
        s += &format!(":{l}");
    }
    s += ": ";
    if let Some(d) = doc {
        s += &format!("document {d}");
        if let Some(o) = object {
            s += &format!(" ({o})");
        }
        s += ": ";
    }
    s
}

/// Reads `path` and parses it with [`parse_objects`]; the file name in messages is the path
/// as given.
pub fn load_objects(path: &Path) -> Result<KubeObjects, KubeError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| KubeError {
        file: file.clone(),
        document: None,
        line: None,
        object: None,
        field: None,
        message: format!("cannot read file: {e}"),
    })?;
    parse_objects(&text, &file)
}

/// Parses a multi-document YAML stream. `file` only labels messages. Empty documents are
/// skipped; the first error stops parsing. Duplicate objects of one kind (same name, and same
/// namespace for namespaced kinds), two global-default PriorityClasses or two scheduler confs
/// are errors.
pub fn parse_objects(text: &str, file: &str) -> Result<KubeObjects, KubeError> {
    let docs = DocMap::new(text);
    let opts = serde_saphyr::options! { with_snippet: false };
    let nodes: Vec<Node> = serde_saphyr::from_multiple_with_options(text, opts).map_err(|e| {
        let line = e.location().map(|l| l.line()).filter(|&l| l > 0);
        KubeError {
            file: file.to_string(),
            document: line.and_then(|l| pos(docs.doc_of_line(l))),
            line: line.and_then(pos),
            object: None,
            field: None,
            message: format!("YAML syntax error: {e}"),
        }
    })?;
    let mut r = Reader {
        file,
        docs: &docs,
        out: KubeObjects::default(),
        seen: BTreeMap::new(),
    };
    for (i, node) in nodes.iter().enumerate() {
        let doc = if node.line > 0 {
            docs.doc_of_line(node.line)
        } else {
            i + 1
        };
        r.object(node, doc, "")?;
    }
    Ok(r.out)
}
