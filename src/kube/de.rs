//! A serde `Deserializer` over the located tree (`kube::tree`) that tracks the field path
//! (`spec.tasks[1].replicas`), attaches path and line to every error, and reports every map key
//! a struct does not declare as an unknown field instead of dropping it silently.
//! Kubernetes fields we know but do not model are listed per struct in `IGNORED`; a listed
//! field is skipped quietly or with a "not modelled" note. Depends only on `kube::tree`.

use std::cell::RefCell;
use std::fmt;

use serde::de::value::StrDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use super::tree::{Node, Val};

/// How a known-but-unmodelled Kubernetes field is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ignore {
    /// Irrelevant to scheduling (`image`, `command`, …): skipped without a word.
    Quiet,
    /// Could change what the scheduler does (`affinity`, …): skipped with a warning.
    NotModelled,
}

/// Per serde struct name: fields Kubernetes defines that we skip on purpose.
pub(crate) type IgnoreTable = &'static [(&'static str, &'static [(&'static str, Ignore)])];

/// A deserialization error: message plus the path and line where it happened (first set wins,
/// so the innermost location is kept).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeError {
    pub msg: String,
    pub path: Option<String>,
    pub line: u64,
}

impl DeError {
    fn at(mut self, path: &str, line: u64) -> DeError {
        if self.path.is_none() {
            self.path = Some(path.to_string());
            self.line = line;
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> DeError {
        DeError {
            msg: msg.to_string(),
            path: None,
            line: 0,
        }
    }
}

/// A field we skipped: its path, line and whether it was unknown or merely unmodelled.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Skipped {
    pub path: String,
    pub line: u64,
    pub unknown: bool,
    /// For an unknown field, a declared field within edit distance 2 (a likely typo).
    pub suggestion: Option<&'static str>,
}

/// The declared field closest to `key` by edit distance, if within 2 edits.
fn closest(key: &str, fields: &[&'static str]) -> Option<&'static str> {
    fields
        .iter()
        .map(|f| {
            (
                edit_distance(&key.to_ascii_lowercase(), &f.to_ascii_lowercase()),
                *f,
            )
        })
        .filter(|&(d, _)| d <= 2)
        .min_by_key(|&(d, _)| d)
        .map(|(_, f)| f)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Collects skipped fields during one deserialization.
pub(crate) struct Ctx {
    pub skipped: RefCell<Vec<Skipped>>,
    pub ignore: IgnoreTable,
}

/// Appends a map key to a path: `a.b` for plain keys, `a["x.y/z"]` for keys with dots or slashes.
pub(crate) fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{key:?}]"),
    }
}

/// Deserializes `T` from `node`, returning it with the fields that were skipped.
pub(crate) fn from_node<'de, T: de::Deserialize<'de>>(
    node: &Node,
    path: &str,
    ignore: IgnoreTable,
) -> Result<(T, Vec<Skipped>), DeError> {
    let ctx = Ctx {
        skipped: RefCell::new(Vec::new()),
        ignore,
    };
    let v = T::deserialize(NodeDe {
        node,
        path: path.to_string(),
        ctx: &ctx,
    })?;
    Ok((v, ctx.skipped.into_inner()))
}

pub(crate) struct NodeDe<'a> {
    node: &'a Node,
    path: String,
    ctx: &'a Ctx,
}

impl<'a> NodeDe<'a> {
    fn fail<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| e.at(&self.path, self.node.line))
    }
}

impl<'de, 'a> Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match &self.node.val {
            Val::Null => v.visit_unit(),
            Val::Bool(b) => v.visit_bool(*b),
            Val::Int(i) => match (i64::try_from(*i), u64::try_from(*i)) {
                (Ok(x), _) => v.visit_i64(x),
                (_, Ok(x)) => v.visit_u64(x),
                _ => v.visit_i128(*i),
            },
            Val::Float(f) => v.visit_f64(*f),
            Val::Str(s) => v.visit_str(s),
            Val::Seq(items) => v.visit_seq(Seq {
                items: items.iter(),
                idx: 0,
                path: self.path.clone(),
                ctx: self.ctx,
            }),
            Val::Map(entries) => v.visit_map(Map::new(entries, None, &self, "")),
        };
        self.fail(r)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.node.val == Val::Null {
            return self.fail(v.visit_none());
        }
        let (path, line) = (self.path.clone(), self.node.line);
        v.visit_some(self).map_err(|e| e.at(&path, line))
    }

    /// Any scalar is accepted as a string (`version: 2` → "2"), as users write labels loosely.
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.node.scalar_text() {
            Some(s) => self.fail(v.visit_string(s)),
            None => self.deserialize_any(v),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    /// `null` reads as an empty sequence, like Kubernetes' nil lists.
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.val {
            Val::Null => {
                let r = v.visit_seq(Seq {
                    items: [].iter(),
                    idx: 0,
                    path: self.path.clone(),
                    ctx: self.ctx,
                });
                self.fail(r)
            }
            _ => self.deserialize_any(v),
        }
    }

    /// `null` reads as an empty map, like Kubernetes' nil maps.
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.val {
            Val::Null => self.fail(v.visit_map(Map::new(&[], None, &self, ""))),
            _ => self.deserialize_any(v),
        }
    }

    /// Struct fields are checked: keys outside `fields` are reported as unknown (or skipped per
    /// the ignore table) and never reach the visitor.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let r = match &self.node.val {
            Val::Null => v.visit_map(Map::new(&[], Some(fields), &self, name)),
            Val::Map(entries) => v.visit_map(Map::new(entries, Some(fields), &self, name)),
            _ => return self.deserialize_any(v),
        };
        self.fail(r)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match self.node.scalar_text() {
            Some(s) => {
                let d: StrDeserializer<'_, DeError> = s.as_str().into_deserializer();
                self.fail(v.visit_enum(d))
            }
            None => self.deserialize_any(v),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _n: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        let (path, line) = (self.path.clone(), self.node.line);
        v.visit_newtype_struct(self).map_err(|e| e.at(&path, line))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct tuple tuple_struct identifier
    }
}

struct Seq<'a> {
    items: std::slice::Iter<'a, Node>,
    idx: usize,
    path: String,
    ctx: &'a Ctx,
}

impl<'de, 'a> SeqAccess<'de> for Seq<'a> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let path = format!("{}[{}]", self.path, self.idx);
        self.idx += 1;
        let r = seed.deserialize(NodeDe {
            node,
            path: path.clone(),
            ctx: self.ctx,
        });
        r.map(Some).map_err(|e| e.at(&path, node.line))
    }
}

struct Map<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    fields: Option<&'static [&'static str]>,
    ignored: &'static [(&'static str, Ignore)],
    path: String,
    ctx: &'a Ctx,
    pending: Option<(&'a Node, String)>,
}

impl<'a> Map<'a> {
    fn new(
        entries: &'a [(Node, Node)],
        fields: Option<&'static [&'static str]>,
        de: &NodeDe<'a>,
        name: &str,
    ) -> Map<'a> {
        let ignored = de
            .ctx
            .ignore
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[][..], |(_, l)| *l);
        Map {
            entries: entries.iter(),
            fields,
            ignored,
            path: de.path.clone(),
            ctx: de.ctx,
            pending: None,
        }
    }
}

impl<'de, 'a> MapAccess<'de> for Map<'a> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for (k, v) in self.entries.by_ref() {
            let Some(key) = k.scalar_text() else {
                return Err(DeError {
                    msg: "expected a string key".into(),
                    path: Some(self.path.clone()),
                    line: k.line,
                });
            };
            let path = join(&self.path, &key);
            if let Some(fields) = self.fields {
                if !fields.contains(&key.as_str()) {
                    let how = self
                        .ignored
                        .iter()
                        .find(|(n, _)| *n == key)
                        .map(|(_, h)| *h);
                    if how != Some(Ignore::Quiet) {
                        let suggestion = if how.is_none() {
                            closest(&key, fields)
                        } else {
                            None
                        };
                        self.ctx.skipped.borrow_mut().push(Skipped {
                            path,
                            line: k.line,
                            unknown: how.is_none(),
                            suggestion,
                        });
                    }
                    continue;
                }
            }
            let d: StrDeserializer<'_, DeError> = key.as_str().into_deserializer();
            let out = seed.deserialize(d).map_err(|e| e.at(&path, k.line))?;
            self.pending = Some((v, path));
            return Ok(Some(out));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (node, path) = self
            .pending
            .take()
            .ok_or_else(|| de::Error::custom("value without key"))?;
        seed.deserialize(NodeDe {
            node,
            path: path.clone(),
            ctx: self.ctx,
        })
        .map_err(|e| e.at(&path, node.line))
    }
}
