//! Small chart primitives rendered to SVG text with plotters (and to PNG on request): line
//! charts, one line per series (heatmaps are `report::heatmap`). The DejaVu Sans font is
//! embedded and registered once, so rendering needs no fontconfig or installed fonts.
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
    }
}
