//! Scenario overrides by field path (`--set PATH=VALUE`, sweep axes, the capacity `--vary` field)
//! and the one loader every multi-run command uses: `load_with_overrides`.
//!
//! Two kinds, applied in this order:
//! 1. file-level, edited in the scenario TOML before it is loaded (so the synthetic workload,
//!    the digest and validation all see them): `seed`, `horizon`, `sim.*`, `workload.*`
//!    (`workload.classes.<name>.<field>` picks the class by name), `nodes.<pool>.<field>`
//!    (`count`, `cpu`, `memory`, `pods`, `gpu`), `cluster.topology.<tier>.size` (the HyperNode
//!    tier by name), and the scheduler conf — `scheduler.actions` and
//!    `plugin.<name>.<argument>` (keys starting with `enable` go on the plugin itself) — which is
//!    rewritten and passed inline;
//! 2. post-load, on the validated queues (inline or from Volcano YAML files):
//!    `queue.<name>.{weight,reclaimable,priority,capability.<res>,deserved.<res>,guarantee.<res>}`.
//!
//! Part of `scenario`; depends on `kube` (ConfigMap conf files) and `model`. Every error names
//! the scenario file and the override's path.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use super::{load_str_sharing, Scenario, TraceCache};
use crate::model::{parse_quantity, ResourceName, Resources};

/// An override that cannot be applied; names the path and why.
#[derive(Debug, Clone, PartialEq)]
pub struct OverrideError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for OverrideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "override {}: {}", self.path, self.message)
    }
}

impl std::error::Error for OverrideError {}

/// `path = value`; the value keeps its TOML type (integer, float, string, bool, array).
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: String,
    pub value: toml::Value,
}

impl Override {
    pub fn new(path: &str, value: toml::Value) -> Override {
        Override {
            path: path.to_string(),
            value,
        }
    }

    /// Parses `PATH=VALUE`; VALUE is read as a TOML value when it is one (`8`, `1.5`, `true`,
    /// `"x"`), otherwise as a bare string (`enqueue, allocate`).
    pub fn parse(text: &str) -> Result<Override, OverrideError> {
        let (p, v) = text.split_once('=').ok_or_else(|| OverrideError {
            path: text.to_string(),
            message: "expected PATH=VALUE".into(),
        })?;
        let p = p.trim();
        if p.is_empty() {
            return Err(OverrideError {
                path: text.into(),
                message: "empty path".into(),
            });
        }
        Ok(Override::new(p, parse_value(v.trim())))
    }

    /// The override as a shell-safe `PATH=VALUE` argument (inverse of `parse`).
    pub fn to_arg(&self) -> String {
        shell_quote(&format!("{}={}", self.path, value_text(&self.value)))
    }
}

/// Reads `v` as a TOML value, or as a string when it is not one.
pub fn parse_value(v: &str) -> toml::Value {
    #[derive(serde::Deserialize)]
    struct W {
        v: toml::Value,
    }
    match toml::from_str::<W>(&format!("v = {v}")) {
        Ok(w) => w.v,
        Err(_) => toml::Value::String(v.to_string()),
    }
}

/// The value as written on a command line or in a table cell (strings unquoted).
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.=/:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Loads the scenario at `path` with `seed` (if any) and `overrides` applied. This is the
/// single definition of "run this point": `volsim run PATH --seed S --set …` must call it too.
pub fn load_with_overrides(
    path: &Path,
    seed: Option<u64>,
    overrides: &[Override],
) -> Result<Scenario, LoadError> {
    load_with_overrides_sharing(path, seed, overrides, None)
}

/// [`load_with_overrides`] sharing parsed traces through `traces` (see `TraceCache`).
pub fn load_with_overrides_sharing(
    path: &Path,
    seed: Option<u64>,
    overrides: &[Override],
    traces: Option<Arc<TraceCache>>,
) -> Result<Scenario, LoadError> {
    let in_file = |e: OverrideError| LoadError::Override {
        file: path.display().to_string(),
        err: e,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::Io(format!("{}: cannot read scenario: {e}", path.display())))?;
    let mut doc: toml::Table =
        toml::from_str(&text).map_err(|e| LoadError::Io(format!("{}: {e}", path.display())))?;
    let mut post = Vec::new();
    let mut conf_edits = Vec::new();
    for o in overrides {
        if o.path.starts_with("queue.") {
            post.push(o);
        } else if o.path == "scheduler.actions" || o.path.starts_with("plugin.") {
            conf_edits.push(o);
        } else {
            set_file_field(&mut doc, o).map_err(in_file)?;
        }
    }
    let seed = seed.filter(|s| doc.get("seed").and_then(|v| v.as_integer()) != Some(*s as i64));
    if let Some(s) = seed {
        doc.insert("seed".into(), toml::Value::Integer(s as i64));
    }
    if !conf_edits.is_empty() {
        let conf = edit_conf(&doc, path, &conf_edits)?;
        let sched = doc
            .entry("scheduler")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        let t = sched
            .as_table_mut()
            .ok_or_else(|| in_file(oerr("scheduler", "scheduler is not a table")))?;
        t.remove("conf");
        t.insert("inline".into(), toml::Value::String(conf));
    }
    let edited = if overrides.is_empty() && seed.is_none() {
        text
    } else {
        toml::to_string(&doc).map_err(|e| LoadError::Io(e.to_string()))?
    };
    let mut sc =
        load_str_sharing(&edited, path, traces).map_err(|e| LoadError::Scenario(e.to_string()))?;
    for o in post {
        apply_queue(&mut sc, o).map_err(in_file)?;
    }
    Ok(sc)
}

/// Why a scenario point could not be loaded (each message names the file).
#[derive(Debug, Clone, PartialEq)]
pub enum LoadError {
    Io(String),
    Scenario(String),
    /// An override that does not apply to `file`.
    Override {
        file: String,
        err: OverrideError,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(m) | LoadError::Scenario(m) => write!(f, "{m}"),
            LoadError::Override { file, err } => write!(f, "{file}: {err}"),
        }
    }
}

impl std::error::Error for LoadError {}

fn oerr(path: &str, message: impl Into<String>) -> OverrideError {
    OverrideError {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Sets a dotted TOML path; arrays of tables (`nodes`, `workload.classes`) are indexed by the
/// element's `name`. Only the leaf may be created.
fn set_file_field(doc: &mut toml::Table, o: &Override) -> Result<(), OverrideError> {
    let parts: Vec<&str> = o.path.split('.').collect();
    const KNOWN: [&str; 8] = [
        "seed",
        "horizon",
        "starvation_threshold",
        "sim",
        "workload",
        "nodes",
        "name",
        "cluster",
    ];
    if !KNOWN.contains(&parts[0]) {
        return Err(oerr(&o.path, "unknown field (expected seed, horizon, starvation_threshold, sim.*, workload.*, nodes.<pool>.*, cluster.topology.<tier>.*, scheduler.actions, plugin.<name>.<arg> or queue.<name>.*)"));
    }
    let mut cur = doc;
    let mut i = 0;
    while i + 1 < parts.len() {
        let key = parts[i];
        let next = cur
            .get_mut(key)
            .ok_or_else(|| oerr(&o.path, format!("the scenario has no {key:?} to override")))?;
        cur = match next {
            toml::Value::Table(t) => t,
            toml::Value::Array(items) => {
                i += 1;
                let name = parts[i];
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|x| x.get("name").and_then(|n| n.as_str()).map(str::to_string))
                    .collect();
                let found = items
                    .iter_mut()
                    .find(|x| x.get("name").and_then(|n| n.as_str()) == Some(name));
                match found.and_then(|x| x.as_table_mut()) {
                    Some(t) => t,
                    None => {
                        return Err(oerr(
                            &o.path,
                            format!("no {key} entry named {name:?} (have: {})", names.join(", ")),
                        ))
                    }
                }
            }
            _ => return Err(oerr(&o.path, format!("{key} is not a table"))),
        };
        i += 1;
    }
    if i >= parts.len() {
        return Err(oerr(&o.path, "path names an entry, not a field"));
    }
    cur.insert(parts[i].to_string(), o.value.clone());
    Ok(())
}

/// Returns the scheduler conf (as JSON, which is YAML) with the edits applied.
fn edit_conf(doc: &toml::Table, path: &Path, edits: &[&Override]) -> Result<String, LoadError> {
    let sched = doc.get("scheduler");
    let inline = sched.and_then(|s| s.get("inline")).and_then(|v| v.as_str());
    let file = sched.and_then(|s| s.get("conf")).and_then(|v| v.as_str());
    let text = match (inline, file) {
        (Some(t), _) => t.to_string(),
        (None, Some(p)) => {
            let cpath = path.parent().unwrap_or(Path::new("")).join(p);
            let t = std::fs::read_to_string(&cpath).map_err(|e| {
                LoadError::Io(format!(
                    "{}: cannot read {}: {e}",
                    path.display(),
                    cpath.display()
                ))
            })?;
            if t.contains("kind:") {
                let objs = crate::kube::parse_objects(&t, &cpath.display().to_string())
                    .map_err(|e| LoadError::Scenario(e.to_string()))?;
                objs.scheduler_conf.ok_or_else(|| {
                    LoadError::Scenario(format!(
                        "{} holds no volcano-scheduler.conf",
                        cpath.display()
                    ))
                })?
            } else {
                t
            }
        }
        (None, None) => crate::policy::conf::HELM_DEFAULT_CONF.to_string(),
    };
    let mut conf: serde_json::Value = serde_saphyr::from_str(&text)
        .map_err(|e| LoadError::Scenario(format!("scheduler conf: {e}")))?;
    let in_file = |e: OverrideError| LoadError::Override {
        file: path.display().to_string(),
        err: e,
    };
    for o in edits {
        if o.path == "scheduler.actions" {
            conf["actions"] = serde_json::Value::String(value_text(&o.value));
            continue;
        }
        let rest = &o.path["plugin.".len()..];
        let (name, arg) = rest
            .split_once('.')
            .ok_or_else(|| in_file(oerr(&o.path, "expected plugin.<name>.<argument>")))?;
        let v =
            serde_json::to_value(&o.value).map_err(|e| in_file(oerr(&o.path, e.to_string())))?;
        let mut hit = false;
        if let Some(tiers) = conf.get_mut("tiers").and_then(|t| t.as_array_mut()) {
            for tier in tiers {
                for p in tier
                    .get_mut("plugins")
                    .and_then(|p| p.as_array_mut())
                    .into_iter()
                    .flatten()
                {
                    if p.get("name").and_then(|n| n.as_str()) != Some(name) {
                        continue;
                    }
                    hit = true;
                    if arg.starts_with("enable") {
                        p[arg] = v.clone();
                    } else {
                        if p.get("arguments").is_none() {
                            p["arguments"] = serde_json::json!({});
                        }
                        p["arguments"][arg] = v.clone();
                    }
                }
            }
        }
        if !hit {
            return Err(in_file(oerr(
                &o.path,
                format!("the scheduler conf has no plugin {name:?}"),
            )));
        }
    }
    serde_json::to_string(&conf).map_err(|e| LoadError::Scenario(format!("scheduler conf: {e}")))
}

fn apply_queue(sc: &mut Scenario, o: &Override) -> Result<(), OverrideError> {
    let rest = &o.path["queue.".len()..];
    let (name, field) = rest
        .split_once('.')
        .ok_or_else(|| oerr(&o.path, "expected queue.<name>.<field>"))?;
    let names: Vec<String> = sc.queues.iter().map(|q| q.name.clone()).collect();
    let q = sc
        .queues
        .iter_mut()
        .find(|q| q.name == name)
        .ok_or_else(|| {
            oerr(
                &o.path,
                format!("no queue {name:?} (have: {})", names.join(", ")),
            )
        })?;
    let int = |v: &toml::Value| {
        v.as_integer()
            .ok_or_else(|| oerr(&o.path, format!("expected an integer, got {v}")))
    };
    match field {
        "weight" => {
            let w = int(&o.value)?;
            if w < 1 || w > u32::MAX as i64 {
                return Err(oerr(&o.path, format!("{w}: expected an integer ≥ 1")));
            }
            q.weight = w as u32;
        }
        "priority" => q.priority = int(&o.value)? as i32,
        "reclaimable" => {
            q.reclaimable = o
                .value
                .as_bool()
                .ok_or_else(|| oerr(&o.path, "expected true or false"))?
        }
        _ => {
            let (kind, res) = field.split_once('.').ok_or_else(|| oerr(&o.path, "unknown queue field (expected weight, priority, reclaimable, capability.<res>, deserved.<res>, guarantee.<res>)"))?;
            let slot = match kind {
                "capability" => &mut q.capability,
                "deserved" => &mut q.deserved,
                "guarantee" => &mut q.guarantee,
                _ => return Err(oerr(&o.path, format!("unknown queue field {kind:?}"))),
            };
            let rname = if res == "gpu" { "nvidia.com/gpu" } else { res };
            let d = ResourceName::intern(rname).map_err(|e| oerr(&o.path, e))?;
            let s = value_text(&o.value);
            let x = parse_quantity(&s, d.scale()).map_err(|e| oerr(&o.path, e.to_string()))?;
            slot.get_or_insert_with(Resources::empty).set(d, x);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values() {
        assert_eq!(
            Override::parse("nodes.worker.count=8").unwrap().value,
            toml::Value::Integer(8)
        );
        assert_eq!(
            Override::parse("workload.rate_multiplier=1.5")
                .unwrap()
                .value,
            toml::Value::Float(1.5)
        );
        let a = Override::parse("scheduler.actions=enqueue, allocate").unwrap();
        assert_eq!(a.value, toml::Value::String("enqueue, allocate".into()));
        assert_eq!(a.to_arg(), "'scheduler.actions=enqueue, allocate'");
        assert!(Override::parse("nodes").is_err());
    }
}
