//! Building blocks shared by every Kubernetes kind: object metadata, resource lists (quantities
//! as strings or YAML numbers, parsed straight into `model::Resources`), weights, taints and
//! tolerations, Go-style booleans, and `Problem`, a semantic error or warning with a field path.
//! Depends only on `crate::model` and `kube::de`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, Unexpected, Visitor};

use super::de::{join, Ignore};
use crate::model::{parse_quantity, ResourceName, Resources, Taint, TaintEffect, Toleration};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Idx(usize),
}

/// A semantic error or warning found after deserialization, with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub path: Vec<Seg>,
    pub msg: String,
}

impl Problem {
    pub(super) fn new(path: &[Seg], msg: impl Into<String>) -> Problem {
        Problem {
            path: path.to_vec(),
            msg: msg.into(),
        }
    }

    /// The path as text: `spec.tasks[1].template`.
    pub(super) fn path_text(&self) -> String {
        path_text(&self.path)
    }

    /// Path segments as strings, for `Node::line_of`.
    pub(super) fn segments(&self) -> Vec<String> {
        self.path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.clone(),
                Seg::Idx(i) => i.to_string(),
            })
            .collect()
    }
}

pub(crate) fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => out = join(&out, k),
            Seg::Idx(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Shorthand for a path of keys.
pub(crate) fn keys(ks: &[&str]) -> Vec<Seg> {
    ks.iter().map(|k| Seg::Key(k.to_string())).collect()
}

/// `metadata` as far as the scheduler cares.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ObjectMeta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339 text as written (`null` in templates → None); read by workload loaders.
    pub creation_timestamp: Option<String>,
}

/// Standard metadata fields we knowingly skip.
pub(crate) const OBJECT_META_IGNORED: &[(&str, Ignore)] = &[
    ("generateName", Ignore::NotModelled),
    ("uid", Ignore::Quiet),
    ("resourceVersion", Ignore::Quiet),
    ("generation", Ignore::Quiet),
    ("deletionTimestamp", Ignore::Quiet),
    ("deletionGracePeriodSeconds", Ignore::Quiet),
    ("ownerReferences", Ignore::Quiet),
    ("finalizers", Ignore::Quiet),
    ("managedFields", Ignore::Quiet),
    ("selfLink", Ignore::Quiet),
];

impl ObjectMeta {
    /// `metadata.name`, required and non-empty.
    pub(super) fn required_name(&self) -> Result<String, Problem> {
        match self.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => Ok(n.to_string()),
            _ => Err(Problem::new(
                &keys(&["metadata", "name"]),
                "missing: every object needs a name",
            )),
        }
    }

    /// `metadata.namespace`, `default` when absent.
    pub(super) fn namespace_or_default(&self) -> String {
        match self.namespace.as_deref() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => "default".to_string(),
        }
    }

    /// An annotation, else a label, with the path where it was found.
    pub(super) fn annotation_or_label(&self, key: &str) -> Option<(&str, Vec<Seg>)> {
        if let Some(v) = self.annotations.get(key) {
            return Some((
                v,
                vec![
                    Seg::Key("metadata".into()),
                    Seg::Key("annotations".into()),
                    Seg::Key(key.into()),
                ],
            ));
        }
        self.labels.get(key).map(|v| {
            (
                v.as_str(),
                vec![
                    Seg::Key("metadata".into()),
                    Seg::Key("labels".into()),
                    Seg::Key(key.into()),
                ],
            )
        })
    }
}

/// `acc += b` per dimension, saturating instead of overflowing (user input may be huge).
pub(crate) fn sat_add(acc: &mut Resources, b: &Resources) {
    for d in b.dims() {
        acc.set(d, acc.get(d).saturating_add(b.get(d)));
    }
}

/// `r × k` per dimension, saturating.
pub(crate) fn sat_times(r: &Resources, k: i64) -> Resources {
    let mut out = *r;
    for d in r.dims() {
        out.set(d, r.get(d).saturating_mul(k));
    }
    out
}

/// Go's `strconv.ParseBool`.
pub(crate) fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A Kubernetes `ResourceList` parsed into integer units (cpu millicores, memory bytes, `pods`
/// whole, other scalars milli-units). Values may be strings (`"500m"`, `1Gi`) or YAML numbers
/// (`2`, `1.5`); an invalid quantity fails with the field path of the offending entry. The
/// second field has bit `d` set for every dimension `d` the list names (cpu and memory are
/// always present in `Resources`, so presence alone cannot tell).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct ResourceList(pub Resources, pub u16);

impl<'de> Deserialize<'de> for ResourceList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ResourceList, D::Error> {
        d.deserialize_map(ResourceListVisitor)
    }
}

struct ResourceListVisitor;

impl<'de> Visitor<'de> for ResourceListVisitor {
    type Value = ResourceList;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of resource names to quantities (e.g. cpu: 2, memory: 4Gi)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<ResourceList, A::Error> {
        let mut r = Resources::empty();
        let mut given = 0u16;
        while let Some(name) = a.next_key::<String>()? {
            let dim = ResourceName::intern(&name).map_err(de::Error::custom)?;
            let x = a.next_value_seed(QuantitySeed { scale: dim.scale() })?;
            r.set(dim, x);
            given |= 1 << dim.0;
        }
        Ok(ResourceList(r, given))
    }
}

/// Reads one quantity (string or number) and scales it to internal units.
struct QuantitySeed {
    scale: i64,
}

impl<'de> DeserializeSeed<'de> for QuantitySeed {
    type Value = i64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for QuantitySeed {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes quantity such as 500m, 2, 1.5Gi or 512Mi")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<i64, E> {
        parse_quantity(s, self.scale).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<i64, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        self.visit_str(&v.to_string())
    }
}

/// A Queue weight: an integer ≥ 1 (the CRD minimum); 0, negatives and fractions are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Weight(pub u32);

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Weight, D::Error> {
        d.deserialize_any(WeightVisitor)
    }
}

struct WeightVisitor;

impl<'de> Visitor<'de> for WeightVisitor {
    type Value = Weight;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer ≥ 1 (at most 2147483647)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Weight, E> {
        if (1..=i64::from(i32::MAX)).contains(&v) {
            Ok(Weight(v as u32))
        } else {
            Err(E::invalid_value(Unexpected::Signed(v), &self))
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Weight, E> {
        if (1..=i32::MAX as u64).contains(&v) {
            Ok(Weight(v as u32))
        } else {
            Err(E::invalid_value(Unexpected::Unsigned(v), &self))
        }
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Weight, E> {
        Err(E::invalid_value(Unexpected::Other(&v.to_string()), &self))
    }
}

/// `spec.taints[]` of a Node.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaintY {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    pub effect: String,
}

pub(crate) const TAINT_IGNORED: &[(&str, Ignore)] = &[("timeAdded", Ignore::Quiet)];

impl TaintY {
    pub(super) fn to_model(&self, at: &[Seg]) -> Result<Taint, Problem> {
        let effect = parse_effect(&self.effect, at)?.ok_or_else(|| {
            Problem::new(
                &with(at, "effect"),
                "empty: a taint needs NoSchedule, PreferNoSchedule or NoExecute",
            )
        })?;
        Ok(Taint {
            key: self.key.clone(),
            value: self.value.clone().unwrap_or_default(),
            effect,
        })
    }
}

fn with(at: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = at.to_vec();
    p.push(Seg::Key(k.to_string()));
    p
}

fn parse_effect(s: &str, at: &[Seg]) -> Result<Option<TaintEffect>, Problem> {
    if s.is_empty() {
        return Ok(None);
    }
    TaintEffect::parse(s).map(Some).ok_or_else(|| {
        Problem::new(
            &with(at, "effect"),
            format!("invalid value {s:?}: expected NoSchedule, PreferNoSchedule or NoExecute"),
        )
    })
}

/// Toleration operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub(crate) enum TolerationOp {
    Exists,
    Equal,
}

/// `spec.tolerations[]` of a pod.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct TolerationY {
    pub key: Option<String>,
    pub operator: Option<TolerationOp>,
    pub value: Option<String>,
    pub effect: Option<String>,
}

pub(crate) const TOLERATION_IGNORED: &[(&str, Ignore)] = &[("tolerationSeconds", Ignore::Quiet)];

impl TolerationY {
    pub(super) fn to_model(&self, at: &[Seg]) -> Result<Toleration, Problem> {
        let exists = self.operator == Some(TolerationOp::Exists);
        let key = self.key.clone().filter(|k| !k.is_empty());
        if key.is_none() && !exists {
            return Err(Problem::new(
                &with(at, "operator"),
                "an empty key requires operator Exists",
            ));
        }
        Ok(Toleration {
            key,
            operator_exists: exists,
            value: self.value.clone().unwrap_or_default(),
            effect: parse_effect(self.effect.as_deref().unwrap_or(""), at)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_bool_and_paths() {
        assert_eq!(parse_go_bool("True"), Some(true));
        assert_eq!(parse_go_bool("no"), None);
        let p = vec![
            Seg::Key("spec".into()),
            Seg::Key("tasks".into()),
            Seg::Idx(1),
            Seg::Key("a/b".into()),
        ];
        assert_eq!(path_text(&p), "spec.tasks[1][\"a/b\"]");
    }
}
