//! A located YAML tree: every node remembers its source line, so later checks can name the line
//! of a field. Built once per file by `serde_saphyr::from_multiple` (through `Spanned`), then
//! walked by `kube::de`. Also maps lines to `---`-separated document numbers and document text.
//! Depends only on `serde`/`serde_saphyr`; knows nothing about Kubernetes.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// One YAML node with the 1-based line (0 = unknown) where it is referenced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: u64,
    pub val: Val,
}

/// The value of a node. Maps keep source order (duplicate keys are rejected by the parser).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The text of a scalar as a user would read it (`2`, `1.5`, `true`, `abc`); None for
    /// null, sequences and maps.
    pub(super) fn scalar_text(&self) -> Option<String> {
        match &self.val {
            Val::Bool(b) => Some(b.to_string()),
            Val::Int(i) => Some(i.to_string()),
            Val::Float(f) => Some(f.to_string()),
            Val::Str(s) => Some(s.clone()),
            Val::Null | Val::Seq(_) | Val::Map(_) => None,
        }
    }

    /// The value of key `k` if this node is a map holding it.
    pub(super) fn get(&self, k: &str) -> Option<&Node> {
        match &self.val {
            Val::Map(entries) => entries
                .iter()
                .find(|(key, _)| key.scalar_text().as_deref() == Some(k))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value of key `k` (scalars only).
    pub(super) fn get_str(&self, k: &str) -> Option<String> {
        self.get(k).and_then(Node::scalar_text)
    }

    /// Follows `segments` (map keys, or decimal indexes into sequences) and returns the line
    /// of the deepest node reached, so an error about `spec.tasks.1.replicas` points at the
    /// closest thing that exists.
    pub(super) fn line_of(&self, segments: &[&str]) -> u64 {
        let mut cur = self;
        for seg in segments {
            let next = match &cur.val {
                Val::Map(_) => cur.get(seg),
                Val::Seq(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
        cur.line
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        let s = Spanned::<Val>::deserialize(d)?;
        Ok(Node {
            line: s.referenced.line(),
            val: s.value,
        })
    }
}

impl<'de> Deserialize<'de> for Val {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Val, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }
    fn visit_none<E>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        Val::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Val, E> {
        Ok(Val::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val, E> {
        Ok(Val::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val, E> {
        Ok(Val::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Val, E> {
        Ok(Val::Int(v))
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Val, E> {
        i128::try_from(v)
            .map(Val::Int)
            .map_err(|_| E::custom(format!("integer {v} is too large")))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Val, E> {
        Ok(Val::Float(v))
    }
    fn visit_char<E>(self, v: char) -> Result<Val, E> {
        Ok(Val::Str(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val, E> {
        Ok(Val::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Val, E> {
        Ok(Val::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Val, E> {
        Ok(Val::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Val, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = a.next_element::<Node>()? {
            items.push(n);
        }
        Ok(Val::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Val, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = a.next_key::<Node>()? {
            let v = a.next_value::<Node>()?;
            entries.push((k, v));
        }
        Ok(Val::Map(entries))
    }
}

/// Line ranges of the `---`-separated documents of a YAML stream, for numbering documents the
/// way a reader counts them and for cutting out one document's text.
///
/// Document numbers are 1-based and count every document, empty ones included. A `---` on the
/// first content line opens document 1 rather than closing an empty document 0.
#[derive(Debug, Clone)]
pub(crate) struct DocMap {
    /// 1-based line of each separator that starts a new document (excluding a leading one).
    boundaries: Vec<u64>,
    lines: Vec<String>,
    /// 1-based line of a leading `---` (document 1's own marker), if any.
    leading: Option<u64>,
}

fn is_separator(line: &str) -> bool {
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !(t.is_empty() || t.starts_with('#') || line.starts_with('%'))
}

impl DocMap {
    pub(super) fn new(text: &str) -> DocMap {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut boundaries = Vec::new();
        let mut leading = None;
        let mut seen = false;
        for (i, l) in lines.iter().enumerate() {
            let n = i as u64 + 1;
            if is_separator(l) {
                if seen {
                    boundaries.push(n);
                } else {
                    leading = Some(n);
                    seen = true;
                }
            } else if is_content(l) {
                seen = true;
            }
        }
        DocMap {
            boundaries,
            lines,
            leading,
        }
    }

    /// The 1-based document number that contains `line` (1-based).
    pub(super) fn doc_of_line(&self, line: u64) -> usize {
        1 + self.boundaries.iter().filter(|&&b| b <= line).count()
    }

    /// The text of document `doc` (1-based), without its `---` marker lines.
    pub(super) fn doc_text(&self, doc: usize) -> String {
        let start = if doc <= 1 {
            self.leading.map_or(1, |l| l + 1)
        } else {
            self.boundaries.get(doc - 2).map_or(u64::MAX, |b| b + 1)
        };
        let end = self
            .boundaries
            .get(doc - 1)
            .copied()
            .unwrap_or(self.lines.len() as u64 + 1);
        let mut out = String::new();
        for n in start..end {
            if let Some(l) = self.lines.get((n - 1) as usize) {
                if doc == 1 && Some(n) == self.leading {
                    continue;
                }
                out.push_str(l);
                out.push('\n');
            }
        }
        // A `---` line may carry content (`--- key: v` is rare); we do not support that form.
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_lines() {
        let docs: Vec<Node> =
            serde_saphyr::from_multiple("a: 1\nb:\n  c: [x, 2.5]\n---\n# c\nd: true\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].get("b").unwrap().get("c").unwrap().line, 3);
        assert_eq!(docs[0].line_of(&["b", "c", "1"]), 3);
        assert_eq!(docs[1].get("d").unwrap().val, Val::Bool(true));
        assert_eq!(docs[1].line, 6);
        match &docs[0].val {
            Val::Map(e) => assert_eq!(e[1].0.line, 2),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn documents_are_numbered_like_a_reader_counts() {
        let m = DocMap::new("---\na: 1\n---\n---\nb: 2\n");
        assert_eq!(m.doc_of_line(2), 1);
        assert_eq!(m.doc_of_line(5), 3);
        assert_eq!(m.doc_text(3), "b: 2\n");
        assert_eq!(m.doc_text(1), "a: 1\n");
        let m = DocMap::new("# c\na: 1\n---\nb: 2\n");
        assert_eq!(m.doc_of_line(4), 2);
        assert_eq!(m.doc_text(1), "# c\na: 1\n");
    }
}
