//! A self-contained HTML page: inline CSS, inline SVG charts, tables — no scripts, no external
//! assets, so it opens offline and passes a strict CSP. Depends on nothing in the crate.

use std::fmt::Write;

/// One block of the page.
pub enum Block {
    /// A paragraph of plain text.
    Text(String),
    /// A table: header and rows of plain text.
    Table(Vec<String>, Vec<Vec<String>>),
    /// A chart: caption and SVG document text.
    Chart(String, String),
}

/// A titled section.
pub struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
}

/// The page.
pub struct Page {
    pub title: String,
    pub subtitle: String,
    pub sections: Vec<Section>,
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const CSS: &str = "body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}\
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}\
.sub{color:#666;font-size:13px}table{border-collapse:collapse;font-size:13px;margin:8px 0}\
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}\
td:first-child,th:first-child{text-align:left}figure{margin:12px 0;display:inline-block}\
figcaption{font-size:12px;color:#555}svg{max-width:100%;height:auto}";

impl Page {
    /// Renders the page (deterministic).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
             <title>{}</title><style>{CSS}</style></head><body>\n<h1>{}</h1><p class=\"sub\">{}</p>\n",
            esc(&self.title),
            esc(&self.title),
            esc(&self.subtitle)
        );
        for sec in &self.sections {
            let _ = writeln!(s, "<section><h2>{}</h2>", esc(&sec.heading));
            for b in &sec.blocks {
                match b {
                    Block::Text(t) => {
                        let _ = writeln!(s, "<p>{}</p>", esc(t));
                    }
                    Block::Table(head, rows) => {
                        s.push_str("<table><thead><tr>");
                        for h in head {
                            let _ = write!(s, "<th>{}</th>", esc(h));
                        }
                        s.push_str("</tr></thead><tbody>\n");
                        for r in rows {
                            s.push_str("<tr>");
                            for c in r {
                                let _ = write!(s, "<td>{}</td>", esc(c));
                            }
                            s.push_str("</tr>\n");
                        }
                        s.push_str("</tbody></table>\n");
                    }
                    Block::Chart(caption, svg) => {
                        let body = svg.trim_start_matches(|c| c != '<');
                        let body = if body.starts_with("<?xml") {
                            &body[body.find("?>").map_or(0, |i| i + 2)..]
                        } else {
                            body
                        };
                        let _ = writeln!(
                            s,
                            "<figure class=\"chart\">{}<figcaption>{}</figcaption></figure>",
                            body.trim(),
                            esc(caption)
                        );
                    }
                }
            }
            s.push_str("</section>\n");
        }
        s.push_str("</body></html>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_escaped_and_inline() {
        let p = Page {
            title: "a<b".into(),
            subtitle: "s".into(),
            sections: vec![Section {
                heading: "h".into(),
                blocks: vec![
                    Block::Table(vec!["x".into()], vec![vec!["1&2".into()]]),
                    Block::Chart("c".into(), "<svg></svg>".into()),
                ],
            }],
        };
        let h = p.render();
        assert!(
            h.contains("a&lt;b")
                && h.contains("1&amp;2")
                && h.contains("<figure class=\"chart\"><svg></svg>")
        );
        assert!(!h.contains("http://") && !h.contains("<script"));
    }
}
