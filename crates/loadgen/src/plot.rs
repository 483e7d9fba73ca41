//! The latency-by-percentile plot (as HdrHistogram's plotter draws it), as a small SVG.
//!
//! Written by hand on purpose: the plot is a few axes, labels and polylines, which SVG says in
//! a hundred lines; a plotting crate (plotters and its font and image stacks) would cost more
//! compile time on a 2-core CI machine than all of loadgen, for nothing the browser does not
//! already do. SVG text needs no fonts at build time, and the file diffs and embeds in Markdown.
//!
//! The x axis is in "nines", `-log10(1 - p)`: 0 is the median's left end (0%), 1 is 90%, 2 is
//! 99%, 3 is 99.9% — so the tail, where servers differ, gets as much room as the body.

use std::fmt::Write as _;

use crate::stats::CurvePoint;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 56.0;
/// Colour-blind-safe (Okabe-Ito) palette.
const COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
];

/// One line of the plot: a run's name and its curve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Series<'a> {
    /// Legend text.
    pub(crate) label: &'a str,
    /// The curve, by increasing percentile.
    pub(crate) curve: &'a [CurvePoint],
}

/// `-log10(1 - p)`, capped so 100% stays on the chart.
fn nines(percentile: f64) -> f64 {
    let remaining = (1.0 - percentile / 100.0).max(1e-7);
    -remaining.log10()
}

/// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks up to `max`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    let rough = (max / ticks).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The percentile label of `n` nines: 0%, 90%, 99%, 99.9%, ...
fn nines_label(n: u32) -> String {
    match n {
        0 => "0%".into(),
        1 => "90%".into(),
        _ => format!("99.{}%", "9".repeat(n as usize - 2)).replace("99.%", "99%"),
    }
}

/// The SVG document plotting `series` under `title`.
pub(crate) fn svg(title: &str, series: &[Series<'_>]) -> String {
    let max_x = series
        .iter()
        .flat_map(|s| s.curve.iter())
        .map(|p| nines(p.percentile))
        .fold(2.0_f64, f64::max)
        .ceil()
        .min(7.0);
    let max_us = series
        .iter()
        .flat_map(|s| s.curve.iter())
        .map(|p| p.latency_us)
        .fold(0.0_f64, f64::max);
    let (unit, scale) = if max_us >= 1_000.0 {
        ("ms", 1_000.0)
    } else {
        ("µs", 1.0)
    };
    let step = nice_step((max_us / scale).max(1e-3), 6.0);
    let max_y = ((max_us / scale) / step).ceil().max(1.0) * step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_of = |n: f64| LEFT + plot_w * n / max_x;
    let y_of = |v: f64| TOP + plot_h * (1.0 - v / max_y);

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="28" text-anchor="middle" font-size="16">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    // Grid and axes.
    let mut value = 0.0;
    while value <= max_y + step / 2.0 {
        let y = y_of(value);
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            trim_number(value)
        );
        value += step;
    }
    for n in 0..=max_x as u32 {
        let x = x_of(f64::from(n));
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 18.0,
            nines_label(n)
        );
    }
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 12.0
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle">latency ({unit})</text>"#,
        TOP + plot_h / 2.0
    );
    // Curves and legend.
    for (index, line) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let points: Vec<String> = line
            .curve
            .iter()
            .map(|p| {
                format!(
                    "{:.1},{:.1}",
                    x_of(nines(p.percentile).min(max_x)),
                    y_of(p.latency_us / scale)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        let y = TOP + 16.0 + 18.0 * index as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            LEFT + 12.0,
            y - 4.0,
            LEFT + 36.0,
            y - 4.0,
            LEFT + 42.0,
            y,
            escape(line.label)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A tick value without trailing zeros.
fn trim_number(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(points: &[(f64, f64)]) -> Vec<CurvePoint> {
        points
            .iter()
            .map(|&(percentile, latency_us)| CurvePoint {
                percentile,
                latency_us,
            })
            .collect()
    }

    #[test]
    fn nines_spread_the_tail() {
        assert!(nines(0.0).abs() < 1e-12);
        assert!((nines(90.0) - 1.0).abs() < 1e-9);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
        assert!(nines(100.0).is_finite());
        assert_eq!(nines_label(0), "0%");
        assert_eq!(nines_label(1), "90%");
        assert_eq!(nines_label(2), "99%");
        assert_eq!(nines_label(4), "99.99%");
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(nice_step(10.0, 5.0), 2.0);
        assert_eq!(nice_step(0.9, 6.0), 0.2);
        assert_eq!(nice_step(700.0, 6.0), 200.0);
        assert_eq!(trim_number(0.5), "0.5");
        assert_eq!(trim_number(200.0), "200");
    }

    #[test]
    fn draws_one_line_per_series_with_an_escaped_legend() {
        let a = curve(&[(0.0, 80.0), (90.0, 120.0), (99.0, 300.0), (99.9, 2_500.0)]);
        let b = curve(&[(0.0, 50.0), (99.0, 90.0)]);
        let svg = svg(
            "Recommend <10x10>",
            &[
                Series {
                    label: "ours & co",
                    curve: &a,
                },
                Series {
                    label: "ceiling",
                    curve: &b,
                },
            ],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("ours &amp; co"));
        assert!(svg.contains("Recommend &lt;10x10&gt;"));
        assert!(svg.contains("latency (ms)"));
        assert!(svg.contains(">99.9%<"));
    }

    #[test]
    fn an_empty_plot_is_still_a_valid_document() {
        let svg = svg("nothing", &[]);
        assert!(svg.contains("</svg>"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
