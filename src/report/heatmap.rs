//! A heatmap as hand-written SVG: categorical axes whose labels sit at the centre of their row
//! or column, each cell printing its value and carrying a `<title>` naming its coordinates, and
//! a colour scale tied to an SLO threshold (green meets it, red fails it, grey no value) with a
//! legend. Written by hand rather than through a plotting library so the label of every cell
//! is placed by construction (and checked by a test).
//!
//! Depends on nothing; callers pass plain labels and numbers. Output is deterministic.

/// What the colours mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    /// Values at or below pass (green), above fail (red); `None`: a neutral blue ramp from the
    /// lowest to the highest value.
    pub threshold: Option<f64>,
    /// The unit printed in the legend ("s", "jobs", …).
    pub unit: String,
}

const W: f64 = 760.0;
const LEFT: f64 = 130.0;
const TOP: f64 = 48.0;
const GRID_W: f64 = 600.0;
const ROW_H: f64 = 34.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn colour(v: Option<f64>, scale: &Scale, lo: f64, hi: f64) -> String {
    let Some(v) = v.filter(|v| v.is_finite()) else {
        return "#dddddd".into();
    };
    let ramp = |t: f64, a: (f64, f64, f64), b: (f64, f64, f64)| {
        let t = t.clamp(0.0, 1.0);
        format!(
            "#{:02x}{:02x}{:02x}",
            (a.0 + (b.0 - a.0) * t) as u8,
            (a.1 + (b.1 - a.1) * t) as u8,
            (a.2 + (b.2 - a.2) * t) as u8
        )
    };
    match scale.threshold {
        // Passing: dark green far below the threshold, pale green at it.
        Some(th) if v <= th => {
            let t = if th > lo { (v - lo) / (th - lo) } else { 1.0 };
            ramp(t, (26.0, 128.0, 60.0), (190.0, 230.0, 190.0))
        }
        // Failing: pale red just above, dark red at the worst value.
        Some(th) => {
            let t = if hi > th { (v - th) / (hi - th) } else { 1.0 };
            ramp(t, (245.0, 180.0, 170.0), (170.0, 20.0, 30.0))
        }
        None => {
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            ramp(t, (220.0, 235.0, 250.0), (30.0, 80.0, 160.0))
        }
    }
}

/// `z[yi][xi]` over columns `xs` and rows `ys` (row 0 at the top), as an SVG document.
pub fn heatmap(
    title: &str,
    x_label: &str,
    y_label: &str,
    xs: &[String],
    ys: &[String],
    z: &[Vec<Option<f64>>],
    scale: &Scale,
) -> String {
    let (nx, ny) = (xs.len().max(1), ys.len().max(1));
    let cw = GRID_W / nx as f64;
    let grid_h = ROW_H * ny as f64;
    let legend_y = TOP + grid_h + 52.0;
    let h = legend_y + 30.0;
    let vals: Vec<f64> = z
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" font-family=\"sans-serif\">\n"
    );
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    s += &format!(
        "<text x=\"{}\" y=\"24\" font-size=\"16\" text-anchor=\"middle\">{}</text>\n",
        W / 2.0,
        esc(title)
    );
    for (yi, row) in z.iter().enumerate().take(ny) {
        for xi in 0..nx {
            let v = row.get(xi).copied().flatten();
            let (x, y) = (LEFT + cw * xi as f64, TOP + ROW_H * yi as f64);
            let xl = xs.get(xi).map(String::as_str).unwrap_or("");
            let yl = ys.get(yi).map(String::as_str).unwrap_or("");
            let text = v.map(fmt).unwrap_or_else(|| "n/a".into());
            s += &format!(
                "<g class=\"cell\"><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cw:.1}\" height=\"{ROW_H:.1}\" fill=\"{}\" stroke=\"white\"><title>{}={}, {}={}: {}</title></rect>",
                colour(v, scale, lo, hi),
                esc(x_label),
                esc(xl),
                esc(y_label),
                esc(yl),
                text
            );
            s += &format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" dominant-baseline=\"middle\">{text}</text></g>\n",
                x + cw / 2.0,
                y + ROW_H / 2.0
            );
        }
    }
    for (yi, l) in ys.iter().enumerate() {
        s += &format!(
            "<text class=\"row-label\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>\n",
            LEFT - 6.0,
            TOP + ROW_H * (yi as f64 + 0.5),
            esc(l)
        );
    }
    for (xi, l) in xs.iter().enumerate() {
        s += &format!(
            "<text class=\"col-label\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\n",
            LEFT + cw * (xi as f64 + 0.5),
            TOP + grid_h + 16.0,
            esc(l)
        );
    }
    s += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"middle\">{}</text>\n",
        LEFT + GRID_W / 2.0,
        TOP + grid_h + 34.0,
        esc(x_label)
    );
    s += &format!(
        "<text x=\"16\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1})\">{}</text>\n",
        TOP + grid_h / 2.0,
        TOP + grid_h / 2.0,
        esc(y_label)
    );
    let legend: Vec<(String, String)> = match scale.threshold {
        Some(th) => vec![
            (
                colour(Some(lo.min(th)), scale, lo, hi),
                format!("≤ {} {}: meets the SLO", fmt(th), scale.unit),
            ),
            (
                colour(Some(hi.max(th) + 1.0), scale, lo, hi.max(th) + 1.0),
                format!("> {} {}: fails the SLO", fmt(th), scale.unit),
            ),
            ("#dddddd".into(), "no value".into()),
        ],
        None if lo.is_finite() => vec![
            (
                colour(Some(lo), scale, lo, hi),
                format!("{} {}", fmt(lo), scale.unit),
            ),
            (
                colour(Some(hi), scale, lo, hi),
                format!("{} {}", fmt(hi), scale.unit),
            ),
            ("#dddddd".into(), "no value".into()),
        ],
        None => vec![("#dddddd".into(), "no value".into())],
    };
    let mut x = LEFT;
    s += "<g class=\"legend\">";
    for (c, label) in legend {
        s += &format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"14\" height=\"14\" fill=\"{c}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            legend_y - 11.0,
            x + 18.0,
            legend_y,
            esc(&label)
        );
        x += 40.0 + 7.0 * label.chars().count() as f64;
    }
    s += "</g>\n</svg>\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numeric value of attribute `name` in `tag`.
    fn attr(tag: &str, name: &str) -> f64 {
        let k = format!(" {name}=\"");
        let i = tag.find(&k).unwrap_or_else(|| panic!("{name} in {tag}")) + k.len();
        tag[i..].split('"').next().unwrap().parse().unwrap()
    }

    /// (class, x, y, text) of every labelled `<text class=…>`.
    fn labels(svg: &str, class: &str) -> Vec<(f64, f64, String)> {
        svg.split("<text class=\"")
            .skip(1)
            .filter(|p| p.starts_with(class))
            .map(|p| {
                let tag = &p[..p.find('>').unwrap()];
                let text = p[p.find('>').unwrap() + 1..p.find("</text>").unwrap()].to_string();
                (attr(tag, "x"), attr(tag, "y"), text)
            })
            .collect()
    }

    #[test]
    fn every_cell_sits_on_its_row_and_column_label() {
        let xs: Vec<String> = ["1", "2", "4"].iter().map(|s| s.to_string()).collect();
        let ys: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let z = vec![
            vec![Some(10.0), Some(20.0), Some(30.0)],
            vec![Some(40.0), None, Some(60.0)],
        ];
        let scale = Scale {
            threshold: Some(25.0),
            unit: "s".into(),
        };
        let svg = heatmap("t", "x", "y", &xs, &ys, &z, &scale);
        let rows = labels(&svg, "row-label");
        let cols = labels(&svg, "col-label");
        assert_eq!(rows.len(), 2);
        assert_eq!(cols.len(), 3);
        let mut seen = 0;
        for cell in svg.split("<g class=\"cell\">").skip(1) {
            let rect = &cell[..cell.find('>').unwrap()];
            let (x, y) = (attr(rect, "x"), attr(rect, "y"));
            let (w, h) = (attr(rect, "width"), attr(rect, "height"));
            let title = &cell[cell.find("<title>").unwrap() + 7..cell.find("</title>").unwrap()];
            let row = rows
                .iter()
                .find(|r| r.1 > y && r.1 < y + h)
                .expect("a row label within the cell's height");
            let col = cols
                .iter()
                .find(|c| c.0 > x && c.0 < x + w)
                .expect("a column label within the cell's width");
            let (xi, yi) = (
                xs.iter().position(|v| *v == col.2).unwrap(),
                ys.iter().position(|v| *v == row.2).unwrap(),
            );
            let want = z[yi][xi].map(fmt).unwrap_or_else(|| "n/a".into());
            assert_eq!(title, format!("x={}, y={}: {want}", col.2, row.2));
            let fill = rect
                .split("fill=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            match z[yi][xi] {
                None => assert_eq!(fill, "#dddddd"),
                Some(v) => {
                    // Green family at or below the threshold, red family above.
                    let g = u8::from_str_radix(&fill[3..5], 16).unwrap();
                    let r = u8::from_str_radix(&fill[1..3], 16).unwrap();
                    assert_eq!(v <= 25.0, g > r, "cell {title}: {fill}");
                }
            }
            seen += 1;
        }
        assert_eq!(seen, 6);
        assert!(svg.contains("≤ 25 s: meets the SLO") && svg.contains("&gt; 25 s: fails the SLO"));
    }
}
