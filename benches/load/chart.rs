//! The latency-vs-throughput chart: p99 latency (log scale) against achieved throughput, one
//! line per server, store and scenario of the rate sweeps.

use std::path::Path;

use plotters::prelude::*;

/// One line of the chart: its label and (achieved req/s, p99 ms) points in sweep order.
pub(crate) struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Dashed look for the second scenario of a pair (drawn thinner).
    pub thin: bool,
}

const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// Draws `series` into an SVG at `path`.
pub(crate) fn draw(path: &Path, title: &str, series: &[Series]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let points = series.iter().flat_map(|s| s.points.iter());
    let x_max = points.clone().map(|p| p.0).fold(1.0, f64::max) * 1.05;
    let y_max = points.clone().map(|p| p.1).fold(1.0, f64::max) * 1.5;
    let y_min = points.map(|p| p.1).fold(y_max, f64::min).max(0.01) / 1.5;
    let err = |e: &dyn std::fmt::Display| format!("chart: {e}");
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y}"))
        .x_desc("achieved throughput (requests/s)")
        .y_desc("p99 latency (ms, log scale)")
        .draw()
        .map_err(|e| err(&e))?;
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[(i / 2) % COLOURS.len()];
        let style = colour.stroke_width(if s.thin { 1 } else { 3 });
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), style))
            .map_err(|e| err(&e))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| err(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
