//! The fault-injection flags of every gRPC service ([`FaultSettings`]), off unless given: added
//! latency on a percentage of calls, and a percentage of calls failed with a chosen status, to
//! rehearse a slow or failing replica (`bookstore_layers::FaultInjectionLayer` injects them).

use std::time::Duration;

use bookstore_config::parse_positive_duration;
use bookstore_layers::{Faults, parse_abort_code};
use clap::Args;
use tonic::Code;

/// Parses a percentage of calls: a whole number from 0 to 100 (a trailing `%` is allowed).
/// The flags take negative numbers as values, so `-1` is refused in these words rather than
/// as an unknown flag.
fn parse_percent(text: &str) -> Result<u8, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<u8>() {
        Ok(percent) if percent <= 100 => Ok(percent),
        _ => Err("must be a whole percentage of calls, from 0 to 100".to_owned()),
    }
}

/// Faults injected on purpose into this service's calls (never into health checks or
/// reflection). Off unless given; the server warns at start when any is on.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct FaultSettings {
    /// Fault injection: latency added to calls before their handler runs (e.g. 200ms), on
    /// --fault-delay-percent of them. Off unless given.
    #[arg(long, env = "FAULT_DELAY", value_parser = parse_positive_duration)]
    pub fault_delay: Option<Duration>,

    /// Fault injection: the percentage of calls (0 to 100) delayed by --fault-delay
    /// [default: 100 when a delay is given].
    #[arg(long, env = "FAULT_DELAY_PERCENT", value_parser = parse_percent,
          allow_negative_numbers = true)]
    pub fault_delay_percent: Option<u8>,

    /// Fault injection: the percentage of calls (0 to 100) that fail at once with
    /// --fault-abort-code, saying "fault injected by --fault-abort-percent".
    #[arg(long, env = "FAULT_ABORT_PERCENT", default_value_t = 0, value_parser = parse_percent,
          allow_negative_numbers = true)]
    pub fault_abort_percent: u8,

    /// Fault injection: the status code of the calls --fault-abort-percent fails, by its gRPC
    /// name (UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL, ...; any case).
    #[arg(long, env = "FAULT_ABORT_CODE", default_value = "UNAVAILABLE",
          value_parser = parse_abort_code)]
    pub fault_abort_code: Code,
}

impl Default for FaultSettings {
    fn default() -> Self {
        Self {
            fault_delay: None,
            fault_delay_percent: None,
            fault_abort_percent: 0,
            fault_abort_code: Code::Unavailable,
        }
    }
}

impl FaultSettings {
    /// The faults these flags ask for.
    pub fn faults(&self) -> Faults {
        Faults {
            delay: self.fault_delay,
            delay_percent: self.fault_delay_percent.unwrap_or(100),
            abort_percent: self.fault_abort_percent,
            abort_code: self.fault_abort_code,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        faults: FaultSettings,
    }

    fn parse(argv: &[&str]) -> Result<Faults, String> {
        Cli::try_parse_from(std::iter::once("test").chain(argv.iter().copied()))
            .map(|cli| cli.faults.faults())
            .map_err(|error| error.to_string())
    }

    #[test]
    fn no_flags_no_faults() {
        let faults = parse(&[]).unwrap();
        assert!(!faults.any(), "{faults:?}");
        assert_eq!(faults, FaultSettings::default().faults());
    }

    #[test]
    fn a_delay_applies_to_every_call_unless_a_percentage_is_given() {
        let faults = parse(&["--fault-delay", "200ms"]).unwrap();
        assert_eq!(
            (faults.delay, faults.delay_percent),
            (Some(Duration::from_millis(200)), 100)
        );
        let faults = parse(&["--fault-delay", "1s", "--fault-delay-percent", "25"]).unwrap();
        assert_eq!(faults.delay_percent, 25);
        assert!(
            parse(&["--fault-delay", "0s"]).is_err(),
            "a zero delay is no fault"
        );
    }

    #[test]
    fn percentages_outside_0_to_100_are_refused() {
        for flag in ["--fault-delay-percent", "--fault-abort-percent"] {
            for bad in ["101", "-1", "half", "12.5"] {
                let error = parse(&[flag, bad]).unwrap_err();
                assert!(
                    error.contains(&format!("invalid value '{bad}' for '{flag} <"))
                        && error.contains("must be a whole percentage of calls, from 0 to 100"),
                    "{flag} {bad}: {error}"
                );
            }
            for good in ["0", "100", "50%"] {
                assert!(parse(&[flag, good]).is_ok(), "{flag} {good}");
            }
        }
    }

    #[test]
    fn the_abort_code_is_a_grpc_name_in_any_case_unavailable_by_default() {
        let faults = parse(&["--fault-abort-percent", "10"]).unwrap();
        assert_eq!(
            (faults.abort_percent, faults.abort_code),
            (10, Code::Unavailable)
        );
        let faults = parse(&["--fault-abort-code", "internal"]).unwrap();
        assert_eq!(faults.abort_code, Code::Internal);
        let error = parse(&["--fault-abort-code", "BROKEN"]).unwrap_err();
        assert!(
            error.contains("invalid value 'BROKEN' for '--fault-abort-code <FAULT_ABORT_CODE>'")
                && error.contains("use one of CANCELLED, UNKNOWN, INVALID_ARGUMENT"),
            "{error}"
        );
        assert!(parse(&["--fault-abort-code", "OK"]).is_err());
    }
}
