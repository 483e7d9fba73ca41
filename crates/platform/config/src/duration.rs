//! The one parser of every duration flag: humantime's syntax (`250ms`, `2s`, `1m 30s`), refused
//! in words that name the mistake and show what a duration looks like. Servers, clients, TLS
//! settings and the tools all use it, so the same text means the same everywhere.

use std::time::Duration;

/// How every duration flag's error ends: what a duration looks like.
const DURATION_FORMS: &str = "use a number with a unit, such as 250ms, 2s or 1m";

/// Why the text of a duration flag was refused. Clap prints it after the flag and the text
/// (`invalid value 'banana' for '--upstream-timeout <UPSTREAM_TIMEOUT>': not a duration: use a
/// number with a unit, such as 250ms, 2s or 1m`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a duration: what is wrong with it, then the forms a duration takes.
    #[error("{problem}: {DURATION_FORMS}")]
    Unreadable {
        /// What is wrong, in words (`not a duration`, `unknown unit 'parsecs'`, ...).
        problem: String,
    },
    /// Zero, where zero would make every call or connection fail.
    #[error("must be more than zero, such as 250ms, 2s or 1m")]
    Zero,
}

impl From<humantime::DurationError> for DurationError {
    fn from(error: humantime::DurationError) -> Self {
        use humantime::DurationError as Humantime;
        // humantime's own words name byte offsets ("expected number at 0"); these name the
        // mistake.
        let problem = match error {
            Humantime::Empty => "no duration given".to_owned(),
            Humantime::InvalidCharacter(_) | Humantime::NumberExpected(_) => {
                "not a duration".to_owned()
            }
            Humantime::UnknownUnit { unit, value, .. } if unit.is_empty() => {
                format!("no unit after {value}")
            }
            Humantime::UnknownUnit { unit, .. } => format!("unknown unit '{unit}'"),
            Humantime::NumberOverflow => "too long, or finer than a nanosecond".to_owned(),
        };
        Self::Unreadable { problem }
    }
}

/// Parses durations such as `30s`, `500ms`, `2m` or `1m 30s` (humantime's syntax). The one
/// parser of every duration flag, so they all read the same text and refuse it in the same
/// words.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    Ok(humantime::parse_duration(text)?)
}

/// [`parse_duration`] for timeouts and periods where zero makes no sense (a zero timeout fails
/// every call, a zero period spins or panics): zero is refused at start, not discovered on
/// every call.
pub fn parse_positive_duration(text: &str) -> Result<Duration, DurationError> {
    match parse_duration(text)? {
        duration if duration.is_zero() => Err(DurationError::Zero),
        duration => Ok(duration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_humantime_s_syntax() {
        let cases = [
            ("1500ms", Duration::from_millis(1500)),
            ("2s", Duration::from_secs(2)),
            ("1m 30s", Duration::from_secs(90)),
            ("1.5s", Duration::from_millis(1500)),
            ("1ns", Duration::from_nanos(1)),
            ("0s", Duration::ZERO),
        ];
        for (text, duration) in cases {
            assert_eq!(parse_duration(text), Ok(duration), "{text:?}");
        }
    }

    #[test]
    fn a_bad_duration_says_what_a_duration_looks_like() {
        let cases = [
            ("banana", "not a duration"),
            ("", "no duration given"),
            ("5", "no unit after 5"),
            ("5 parsecs", "unknown unit 'parsecs'"),
            (
                "99999999999999999999s",
                "too long, or finer than a nanosecond",
            ),
            ("-1s", "not a duration"),
        ];
        for (text, problem) in cases {
            let error = parse_duration(text).unwrap_err().to_string();
            assert_eq!(
                error,
                format!("{problem}: use a number with a unit, such as 250ms, 2s or 1m"),
                "{text:?}"
            );
            // A positive duration refuses unreadable text in the very same words.
            assert_eq!(
                parse_positive_duration(text).unwrap_err().to_string(),
                error,
                "{text:?}"
            );
        }
    }

    #[test]
    fn positive_durations_take_everything_else_parse_duration_does() {
        for text in ["1ns", "250ms", "2s", "1m 30s", "1.5s"] {
            assert_eq!(
                parse_positive_duration(text),
                parse_duration(text),
                "{text}"
            );
            assert!(parse_positive_duration(text).unwrap() > Duration::ZERO);
        }
        for zero in ["0s", "0ms", "0", "0m 0s"] {
            assert_eq!(
                parse_positive_duration(zero),
                Err(DurationError::Zero),
                "{zero}"
            );
        }
        assert_eq!(
            DurationError::Zero.to_string(),
            "must be more than zero, such as 250ms, 2s or 1m"
        );
        assert_eq!(
            parse_positive_duration("x"),
            parse_duration("x").map(|_| Duration::ZERO)
        );
    }
}
