//! The cost curve of the Factorial service: for each n, the time to compute n! (binary
//! splitting, as served), to write it as big-endian bytes and in base 10, and — for comparison —
//! with the naive running product. The numbers behind `DEFAULT_MAX_N` and `INLINE_MAX_N`.
//!
//! ```text
//! cargo run --release -p factorial --example cost_curve [-- OUTPUT.md]
//! ```
//!
//! Prints a Markdown table (and writes it to OUTPUT.md if given). Each cell is the fastest of
//! several runs, repeated until at least 0.3 s was spent, so other load on the machine inflates
//! it as little as possible. Build with `--release`: a debug build measures the debug build.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use factorial::math::factorial;
use num_bigint::BigUint;

const NS: [u64; 13] = [
    100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
    1_000_000,
];
/// The naive product is only timed up to here; beyond, it takes too long to be worth waiting for.
const NAIVE_MAX_N: u64 = 100_000;
/// Each measurement repeats until this much time was spent (and at least 3 times).
const BUDGET: Duration = Duration::from_millis(300);

/// The fastest run of `work`.
fn fastest<T>(mut work: impl FnMut() -> T) -> Duration {
    let started = Instant::now();
    let mut best = Duration::MAX;
    let mut runs = 0;
    while runs < 3 || started.elapsed() < BUDGET {
        let run = Instant::now();
        black_box(work());
        best = best.min(run.elapsed());
        runs += 1;
    }
    best
}

fn naive(n: u64) -> BigUint {
    (2..=n).fold(BigUint::ONE, |acc, k| acc * k)
}

fn format(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros < 1_000.0 {
        format!("{micros:.1} µs")
    } else {
        format!("{:.2} ms", micros / 1_000.0)
    }
}

fn main() -> std::io::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; run with --release for meaningful numbers");
    }
    let mut table = String::from(
        "| n | digits | compute n! | to bytes | to base 10 | served (full view) | served (bytes only) | naive product |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    print!("{table}");
    for n in NS {
        let value = factorial(n);
        let digits = value.to_string().len();
        let compute = fastest(|| factorial(n));
        let bytes = fastest(|| value.to_bytes_be());
        let decimal = fastest(|| value.to_string());
        let naive = if n <= NAIVE_MAX_N {
            format(fastest(|| naive(n)))
        } else {
            "—".to_owned()
        };
        let row = format!(
            "| {n} | {digits} | {} | {} | {} | {} | {} | {naive} |\n",
            format(compute),
            format(bytes),
            format(decimal),
            format(compute + bytes + decimal),
            format(compute + bytes),
        );
        print!("{row}");
        table.push_str(&row);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let _ = writeln!(
        table,
        "\n{cores} CPU cores; fastest of repeated runs; release build."
    );
    if let Some(path) = std::env::args().nth(1) {
        std::fs::write(&path, &table)?;
        eprintln!("written to {path}");
    }
    Ok(())
}
