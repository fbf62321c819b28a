//! Small chart primitives rendered to SVG text with plotters (and to PNG on request): line
//! charts (one line per series) and heatmaps. The DejaVu Sans font is embedded and registered
//! once, so rendering needs no fontconfig or installed fonts.
//!
//! Depends on plotters only; callers pass plain numbers. Output is deterministic.

use std::sync::Once;

use plotters::prelude::*;

static FONT: Once = Once::new();

/// Registers the embedded font (idempotent).
pub fn init_font() {
    FONT.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// A named series of `(x, y)` points.
pub type Series = (String, Vec<(f64, f64)>);

fn bounds(series: &[Series]) -> (f64, f64, f64, f64) {
    let pts = series
        .iter()
        .flat_map(|s| s.1.iter())
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, 0f64, f64::NEG_INFINITY);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        return (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    (x0, x1, y0, y1 + (y1 - y0) * 0.05)
}

/// A line chart as an SVG document (`step` draws each series as a staircase).
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    step: bool,
) -> String {
    init_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (760, 360)).into_drawing_area();
        draw_lines(&root, title, x_label, y_label, series, step);
    }
    out
}

/// The same chart as PNG bytes.
pub fn line_chart_png(
    path: &std::path::Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    step: bool,
) {
    init_font();
    let root = BitMapBackend::new(path, (760, 360)).into_drawing_area();
    draw_lines(&root, title, x_label, y_label, series, step);
    let _ = root.present();
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    xl: &str,
    yl: &str,
    series: &[Series],
    step: bool,
) {
    let _ = root.fill(&WHITE);
    let (x0, x1, y0, y1) = bounds(series);
    let Ok(mut chart) = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
    else {
        return;
    };
    let _ = chart
        .configure_mesh()
        .x_desc(xl)
        .y_desc(yl)
        .label_style(("sans-serif", 12))
        .draw();
    for (i, (name, pts)) in series.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let mut v: Vec<(f64, f64)> = pts
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        if step {
            let mut s = Vec::with_capacity(v.len() * 2);
            for (k, p) in v.iter().enumerate() {
                if k > 0 {
                    s.push((p.0, v[k - 1].1));
                }
                s.push(*p);
            }
            v = s;
        }
        if let Ok(a) = chart.draw_series(LineSeries::new(v.clone(), c.stroke_width(2))) {
            a.label(name.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
            });
        }
        if !step && v.len() <= 40 {
            let _ = chart.draw_series(v.iter().map(|p| Circle::new(*p, 3, c.filled())));
        }
    }
    if series.len() > 1 || series.first().is_some_and(|s| !s.0.is_empty()) {
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw();
    }
}

/// A heatmap of `z[yi][xi]` with labelled categorical axes; cells print their value.
pub fn heatmap(
    title: &str,
    x_label: &str,
    y_label: &str,
    xs: &[String],
    ys: &[String],
    z: &[Vec<Option<f64>>],
) -> String {
    init_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (760, 420)).into_drawing_area();
        draw_heatmap(&root, title, x_label, y_label, xs, ys, z);
    }
    out
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    xs: &[String],
    ys: &[String],
    z: &[Vec<Option<f64>>],
) {
    let _ = root.fill(&WHITE);
    let vals: Vec<f64> = z
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (nx, ny) = (xs.len().max(1), ys.len().max(1));
    let Ok(mut chart) = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0..nx, 0..ny)
    else {
        return;
    };
    let xf = |i: &usize| xs.get(*i).cloned().unwrap_or_default();
    let yf = |i: &usize| ys.get(*i).cloned().unwrap_or_default();
    let _ = chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels(nx + 1)
        .y_labels(ny + 1)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style(("sans-serif", 12))
        .draw();
    for (yi, row) in z.iter().enumerate() {
        for (xi, v) in row.iter().enumerate() {
            let color = match v {
                Some(v) if v.is_finite() => {
                    let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                    RGBColor(
                        (40.0 + 215.0 * t) as u8,
                        (180.0 - 120.0 * t) as u8,
                        (90.0 - 40.0 * t) as u8,
                    )
                }
                _ => RGBColor(220, 220, 220),
            };
            let _ = chart.draw_series(std::iter::once(Rectangle::new(
                [(xi, yi), (xi + 1, yi + 1)],
                color.filled(),
            )));
            let label = v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "n/a".into());
            let _ = chart.draw_series(std::iter::once(Text::new(
                label,
                (xi, yi + 1),
                ("sans-serif", 12).into_font().color(&BLACK),
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_svg() {
        let s = line_chart(
            "t",
            "x",
            "y",
            &[("a".into(), vec![(0.0, 1.0), (1.0, 2.0)])],
            false,
        );
        assert!(s.starts_with("<svg") && s.contains("</svg>"));
        let h = heatmap(
            "h",
            "x",
            "y",
            &["1".into(), "2".into()],
            &["a".into()],
            &[vec![Some(1.0), None]],
        );
        assert!(h.contains("<rect"));
    }
}
