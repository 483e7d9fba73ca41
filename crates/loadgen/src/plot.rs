//! The latency-by-percentile plot (as HdrHistogram's plotter draws it), as a small SVG.
//!
//! Written by hand on purpose: the plot is a few axes, labels and polylines, which SVG says in
//! a hundred lines; a plotting crate (plotters and its font and image stacks) would cost more
//! compile time on a 2-core CI machine than all of loadgen, for nothing the browser does not
//! already do. SVG text needs no fonts at build time, and the file diffs and embeds in Markdown.
//!
//! The x axis is in "nines", `-log10(1 - p)`: 0 is the median's left end (0%), 1 is 90%, 2 is
//! 99%, 3 is 99.9% — so the tail, where servers differ, gets as much room as the body. The
//! latency axis is logarithmic too, each power of ten the same height: on a linear one a
//! p99.9 a hundred times the median flattens everything below p99 against the floor. Below
//! the axes, one legend line per run says how it was made (target, load, requests and time,
//! date), so a plot read on its own says what it shows.

use std::fmt::Write as _;

use crate::stats::CurvePoint;

const WIDTH: f64 = 800.0;
/// Height of the plot without its legend.
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 36.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 56.0;
/// Where the legend starts: below the x axis's title.
const LEGEND_TOP: f64 = HEIGHT + 12.0;
/// Height of one series' legend: its label and target, then how it was run.
const LEGEND_ENTRY: f64 = 36.0;
/// The lowest latency drawn: HDR histograms record whole microseconds.
const FLOOR_US: f64 = 1.0;
/// Colour-blind-safe (Okabe-Ito) palette.
const COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
];

/// One line of the plot: a run's name, how it was made and its curve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Series<'a> {
    /// Legend text.
    pub(crate) label: &'a str,
    /// What it called, beside the label.
    pub(crate) endpoint: &'a str,
    /// How it was run, on the line below (`Report::context`).
    pub(crate) context: &'a str,
    /// The curve, by increasing percentile.
    pub(crate) curve: &'a [CurvePoint],
}

/// `-log10(1 - p)`, capped so 100% stays on the chart.
fn nines(percentile: f64) -> f64 {
    let remaining = (1.0 - percentile / 100.0).max(1e-7);
    -remaining.log10()
}

/// The latency axis: whole powers of ten of microseconds, from the one at or below the fastest
/// point to the one at or above the slowest, each the same height.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LogScale {
    /// log10 of the bottom of the axis, in microseconds.
    low: i32,
    /// log10 of the top.
    high: i32,
}

impl LogScale {
    /// The axis that holds every latency in `latencies_us` (at least one power of ten).
    fn new(latencies_us: impl Iterator<Item = f64>) -> Self {
        let (min, max) = latencies_us
            .filter(|us| us.is_finite())
            .map(|us| us.max(FLOOR_US))
            .fold((f64::INFINITY, 0.0_f64), |(min, max), us| {
                (min.min(us), max.max(us))
            });
        if min > max {
            // Nothing to draw: 100 µs to 100 ms, where services usually are.
            return Self { low: 2, high: 5 };
        }
        let low = min.log10().floor() as i32;
        let high = (max.log10().ceil() as i32).max(low + 1);
        Self { low, high }
    }

    /// Where `us` falls, from 0 (the bottom) to 1 (the top).
    fn fraction(&self, us: f64) -> f64 {
        (us.max(FLOOR_US).log10() - f64::from(self.low)) / f64::from(self.high - self.low)
    }

    /// The grid: 1, 2 and 5 times each power of ten on the axis, and whether each is labelled
    /// (all of them over up to three decades; beyond, the powers of ten only).
    fn ticks(&self) -> Vec<(f64, bool)> {
        let crowded = self.high - self.low > 3;
        let mut ticks = Vec::new();
        for power in self.low..=self.high {
            for multiple in [1.0, 2.0, 5.0] {
                if power == self.high && multiple > 1.0 {
                    break;
                }
                let us = multiple * 10f64.powi(power);
                ticks.push((us, multiple == 1.0 || !crowded));
            }
        }
        ticks
    }
}

/// A tick's latency in the unit that reads best: `200µs`, `1ms`, `2.5s`.
fn latency_label(us: f64) -> String {
    if us < 1_000.0 {
        format!("{}µs", trim_number(us))
    } else if us < 1_000_000.0 {
        format!("{}ms", trim_number(us / 1_000.0))
    } else {
        format!("{}s", trim_number(us / 1_000_000.0))
    }
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

/// The SVG document plotting `series` under `title`, a legend line per series below.
pub(crate) fn svg(title: &str, series: &[Series<'_>]) -> String {
    let max_x = series
        .iter()
        .flat_map(|s| s.curve.iter())
        .map(|p| nines(p.percentile))
        .fold(2.0_f64, f64::max)
        .ceil()
        .min(7.0);
    let scale = LogScale::new(
        series
            .iter()
            .flat_map(|s| s.curve.iter())
            .map(|p| p.latency_us),
    );
    let height = LEGEND_TOP + LEGEND_ENTRY * series.len() as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_of = |n: f64| LEFT + plot_w * n / max_x;
    let y_of = |us: f64| TOP + plot_h * (1.0 - scale.fraction(us));

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="28" text-anchor="middle" font-size="16">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    // Grid and axes.
    for (us, labelled) in scale.ticks() {
        let y = y_of(us);
        let stroke = if labelled { "#ccc" } else { "#eee" };
        let _ = writeln!(
            out,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{stroke}"/>"#,
            WIDTH - RIGHT,
        );
        if labelled {
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                y + 4.0,
                latency_label(us)
            );
        }
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
        r#"<text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle">latency (log scale)</text>"#,
        TOP + plot_h / 2.0
    );
    // Curves, and below the axes a legend entry for each: its colour, name, target, and how
    // it was run.
    for (index, line) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let points: Vec<String> = line
            .curve
            .iter()
            .map(|p| {
                format!(
                    "{:.1},{:.1}",
                    x_of(nines(p.percentile).min(max_x)),
                    y_of(p.latency_us)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        let y = LEGEND_TOP + LEGEND_ENTRY * index as f64;
        let _ = writeln!(
            out,
            r##"<line x1="12" y1="{:.1}" x2="36" y2="{:.1}" stroke="{colour}" stroke-width="3"/><text x="42" y="{y:.1}"><tspan font-weight="bold">{}</tspan> {}</text><text x="42" y="{:.1}" fill="#555" font-size="11">{}</text>"##,
            y - 4.0,
            y - 4.0,
            escape(line.label),
            escape(line.endpoint),
            y + 15.0,
            escape(line.context)
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
    fn each_power_of_ten_gets_the_same_height() {
        let scale = LogScale::new([150.0, 300.0, 2_000.0, 80_000.0].into_iter());
        assert_eq!(scale, LogScale { low: 2, high: 5 });
        let height = |us: f64| scale.fraction(us);
        assert!(height(100.0).abs() < 1e-12 && (height(100_000.0) - 1.0).abs() < 1e-12);
        let decade = height(1_000.0) - height(100.0);
        assert!((height(10_000.0) - height(1_000.0) - decade).abs() < 1e-12);
        // The body of a long-tailed curve keeps its shape: p50 150 µs and p90 300 µs are a
        // tenth of the axis apart, where a linear axis to 80 ms would put them 0.2% apart.
        assert!(height(300.0) - height(150.0) > 0.1);
        // One point, or none: still a whole decade; nothing below a microsecond.
        assert_eq!(
            LogScale::new([1_000.0].into_iter()),
            LogScale { low: 3, high: 4 }
        );
        assert_eq!(
            LogScale::new(std::iter::empty()),
            LogScale { low: 2, high: 5 }
        );
        assert_eq!(LogScale::new([0.0, 5.0].into_iter()).low, 0);
    }

    #[test]
    fn ticks_are_round_numbers_in_the_unit_that_reads_best() {
        let ticks: Vec<String> = LogScale { low: 2, high: 4 }
            .ticks()
            .into_iter()
            .filter(|(_, labelled)| *labelled)
            .map(|(us, _)| latency_label(us))
            .collect();
        assert_eq!(
            ticks,
            ["100µs", "200µs", "500µs", "1ms", "2ms", "5ms", "10ms"]
        );
        // Over many decades, only the powers of ten are labelled.
        let wide = LogScale { low: 0, high: 7 }.ticks();
        assert_eq!(wide.iter().filter(|(_, labelled)| *labelled).count(), 8);
        assert_eq!(latency_label(2_500_000.0), "2.5s");
        assert_eq!(trim_number(0.5), "0.5");
        assert_eq!(trim_number(200.0), "200");
    }

    #[test]
    fn draws_one_line_per_series_with_its_parameters_and_an_escaped_legend() {
        let a = curve(&[(0.0, 80.0), (90.0, 120.0), (99.0, 300.0), (99.9, 2_500.0)]);
        let b = curve(&[(0.0, 50.0), (99.0, 90.0)]);
        let svg = svg(
            "Recommend <10x10>",
            &[
                Series {
                    label: "ours & co",
                    endpoint: "http://127.0.0.1:50051",
                    context: "10 connections × 10 in flight",
                    curve: &a,
                },
                Series {
                    label: "ceiling",
                    endpoint: "http://127.0.0.1:50052",
                    context: "2025-06-01T12:00:00Z",
                    curve: &b,
                },
            ],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("ours &amp; co"));
        assert!(svg.contains("</tspan> http://127.0.0.1:50051</text>"));
        assert!(svg.contains(">10 connections × 10 in flight</text>"));
        assert!(svg.contains("2025-06-01T12:00:00Z"));
        assert!(svg.contains("Recommend &lt;10x10&gt;"));
        assert!(svg.contains("latency (log scale)"));
        assert!(svg.contains(">10µs<") && svg.contains(">1ms<") && svg.contains(">10ms<"));
        assert!(svg.contains(">99.9%<"));
        // Taller by a legend entry per series, so the legend never covers a curve.
        assert!(svg.contains(r#"height="564""#), "{svg}");
    }

    #[test]
    fn an_empty_plot_is_still_a_valid_document() {
        let svg = svg("nothing", &[]);
        assert!(svg.contains("</svg>"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
