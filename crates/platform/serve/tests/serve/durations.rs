//! The duration flags over generated text (proptest): any text is a duration or an error
//! (never a panic); `<n><unit>` reads as n units for every unit humantime documents; parts add
//! up (`1s 500ms`); what `humantime` writes reads back; and a flag accepts exactly what its
//! parser does (`parse_positive_duration` for `--request-timeout`). `PROPTEST_CASES` sets the
//! number of cases (`bench/fuzz.sh`).

use std::time::Duration;

use bookstore_config::{parse_duration, parse_positive_duration};
use bookstore_serve::ServerSettings;
use bookstore_testing::property_cases;
use clap::Parser;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

fn cases(ci_default: u32) -> ProptestConfig {
    ProptestConfig {
        // Failing inputs are kept as regular tests, not as regression files.
        failure_persistence: None,
        ..ProptestConfig::with_cases(property_cases(ci_default))
    }
}

/// A second in nanoseconds.
const SECOND: u128 = 1_000_000_000;

/// Every unit humantime reads (its documentation's and their variations), with its length in
/// nanoseconds: a month is 30.44 days, a year 365.25 days.
const UNITS: [(&str, u128); 40] = [
    ("nanos", 1),
    ("nsec", 1),
    ("ns", 1),
    ("usec", 1_000),
    ("us", 1_000),
    ("µs", 1_000),
    ("millis", 1_000_000),
    ("msec", 1_000_000),
    ("ms", 1_000_000),
    ("seconds", SECOND),
    ("second", SECOND),
    ("secs", SECOND),
    ("sec", SECOND),
    ("s", SECOND),
    ("minutes", 60 * SECOND),
    ("minute", 60 * SECOND),
    ("min", 60 * SECOND),
    ("mins", 60 * SECOND),
    ("m", 60 * SECOND),
    ("hours", 3_600 * SECOND),
    ("hour", 3_600 * SECOND),
    ("hr", 3_600 * SECOND),
    ("hrs", 3_600 * SECOND),
    ("h", 3_600 * SECOND),
    ("days", 86_400 * SECOND),
    ("day", 86_400 * SECOND),
    ("d", 86_400 * SECOND),
    ("weeks", 604_800 * SECOND),
    ("week", 604_800 * SECOND),
    ("wk", 604_800 * SECOND),
    ("wks", 604_800 * SECOND),
    ("w", 604_800 * SECOND),
    ("months", 2_630_016 * SECOND),
    ("month", 2_630_016 * SECOND),
    ("M", 2_630_016 * SECOND),
    ("years", 31_557_600 * SECOND),
    ("year", 31_557_600 * SECOND),
    ("yr", 31_557_600 * SECOND),
    ("yrs", 31_557_600 * SECOND),
    ("y", 31_557_600 * SECOND),
];

fn unit() -> impl Strategy<Value = (&'static str, u128)> {
    prop::sample::select(UNITS.to_vec())
}

/// The settings every server flattens into its flags.
#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    settings: ServerSettings,
}

#[test]
fn any_text_is_a_duration_or_an_error() {
    let text = prop_oneof![
        any::<String>(),
        "[0-9]{0,25}[ .+-]?[a-zA-Z]{0,8}( [0-9]{0,20}[a-zA-Z]{0,4}){0,3}",
    ];
    proptest!(cases(1024), |(text in text)| {
        let _ = parse_duration(&text);
    });
}

#[test]
fn n_units_read_as_n_times_the_unit() {
    proptest!(cases(1024), |(n in 0..1_000_000u64, (unit, nanos) in unit(), space in any::<bool>())| {
        let text = format!("{n}{}{unit}", if space { " " } else { "" });
        let expected = u128::from(n) * nanos;
        prop_assert_eq!(parse_duration(&text).map(|d| d.as_nanos()), Ok(expected), "{}", text);
    });
}

#[test]
fn parts_add_up() {
    let part = (0..100_000u64, unit());
    proptest!(cases(512), |(parts in prop::collection::vec(part, 1..5))| {
        let text: Vec<String> = parts.iter().map(|(n, (unit, _))| format!("{n}{unit}")).collect();
        let text = text.join(" ");
        let expected: u128 = parts.iter().map(|(n, (_, nanos))| u128::from(*n) * nanos).sum();
        prop_assert_eq!(parse_duration(&text).map(|d| d.as_nanos()), Ok(expected), "{}", text);
    });
}

#[test]
fn what_humantime_writes_reads_back() {
    let duration = prop_oneof![
        (0..u64::from(u32::MAX), 0..1_000_000_000u32).prop_map(|(s, ns)| Duration::new(s, ns)),
        (0..100_000u64).prop_map(Duration::from_millis),
    ];
    proptest!(cases(512), |(duration in duration)| {
        let text = humantime::format_duration(duration).to_string();
        prop_assert_eq!(parse_duration(&text), Ok(duration), "{}", text);
    });
}

#[test]
fn a_duration_flag_accepts_exactly_what_its_parser_does() {
    let text = prop_oneof![
        (0..10_000u64, unit()).prop_map(|(n, (unit, _))| format!("{n}{unit}")),
        "[0-9]{0,4}[ .+-]?[a-zA-Z]{0,6}",
        any::<String>(),
    ];
    proptest!(cases(256), |(text in text, flag in prop::sample::select(vec!["--grace-period", "--request-timeout"]))| {
        let parsed = Cli::try_parse_from(["server", &format!("{flag}={text}")]);
        // --request-timeout refuses zero; --grace-period takes it (cancel at once).
        let parser = match flag {
            "--request-timeout" => parse_positive_duration,
            _ => parse_duration,
        };
        match (parsed, parser(&text)) {
            (Ok(cli), Ok(duration)) => {
                let value = match flag {
                    "--grace-period" => cli.settings.grace_period,
                    _ => cli.settings.request_timeout,
                };
                prop_assert_eq!(value, duration);
            }
            (Err(error), Err(_)) => {
                prop_assert!(error.to_string().contains(flag), "{}", error);
            }
            (parsed, duration) => {
                return Err(TestCaseError::fail(format!("{text:?}: {parsed:?} but {duration:?}")));
            }
        }
    });
}
