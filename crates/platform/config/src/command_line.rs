//! Reading a service's configuration from its command line and environment, with errors that
//! name what the user typed: a bad value from a variable names the variable.
//!
//! Clap reports every bad value as if it were a flag's: `RECOMMENDATIONS_PORT=abc
//! recommendations` says `invalid value 'abc' for '--port <PORT>'`, about a flag nobody typed.
//! [`parse_args`] says `invalid value 'abc' in RECOMMENDATIONS_PORT (--port): invalid digit
//! found in string` instead, and exits with clap's usage status (2). Errors about flags on the
//! command line, `--help` and `--version` are clap's own.
//!
//! The same holds under subcommands: `RECOMMENDATIONS_PORT=abc bookstore recommend`
//! says `invalid value 'abc' in RECOMMENDATIONS_PORT (--recommendations-port): ...`.
//!
//! How it knows where the value came from is `value_source`'s: the command line is parsed
//! again with the argument's variable ignored. (Clap reads each variable when the command is
//! built, so a test cannot hand it a made-up environment: the tests use a variable cargo always
//! sets.)

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, Command, Parser};

use crate::value_source::{VariableAtFault, variable_at_fault};

/// Parses the process's command line and environment into `C`; on a mistake, prints one line
/// naming the flag or variable at fault and exits with status 2 (`--help` and `--version`
/// print and exit 0, as clap does). A service's `main` calls it instead of `C::parse()`.
pub fn parse_args<C: Parser>() -> C {
    try_parse_args_from(std::env::args_os()).unwrap_or_else(|error| error.exit())
}

/// [`parse_args`] over the given command line (the program name first), returning the error
/// instead of exiting. The environment is the process's, as clap reads it.
pub fn try_parse_args_from<C, I, T>(args: I) -> Result<C, clap::Error>
where
    C: Parser,
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let command = C::command();
    let mut matches = command
        .clone()
        .try_get_matches_from(&args)
        .map_err(|error| name_the_variable(error, &command, &args))?;
    // What `C` itself refuses in what clap matched (a value it reads outside clap, such as the
    // shared `METRICS_PORT`) is one line too: `C::try_parse_from` would add the top-level
    // usage, which names no subcommand.
    C::from_arg_matches_mut(&mut matches).map_err(|error| error.with_cmd(&command))
}

/// `error` reworded to name the environment variable its value came from, if it came from one;
/// otherwise `error` unchanged.
fn name_the_variable(error: clap::Error, command: &Command, args: &[OsString]) -> clap::Error {
    if !matches!(
        error.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return error;
    }
    let Some(ContextValue::String(value)) = error.get(ContextKind::InvalidValue) else {
        return error;
    };
    let mut built = command.clone();
    built.build();
    let Some(VariableAtFault { arg, variable }) = variable_at_fault(&error, command, &built, args)
    else {
        return error;
    };
    let reason = match (error.kind(), error.get(ContextKind::ValidValue)) {
        (ErrorKind::InvalidValue, Some(ContextValue::Strings(valid))) => {
            format!("possible values: {}", valid.join(", "))
        }
        _ => std::error::Error::source(&error)
            .map(ToString::to_string)
            .unwrap_or_else(|| "not accepted".to_owned()),
    };
    let message = format!(
        "invalid value '{value}' in {variable} ({}): {reason}\n",
        flag_name(&arg)
    );
    clap::Error::raw(error.kind(), message).with_cmd(&built)
}

/// How the user would type `arg`: `--port`, `-p`, or its display.
fn flag_name(arg: &Arg) -> String {
    match (arg.get_long(), arg.get_short()) {
        (Some(long), _) => format!("--{long}"),
        (None, Some(short)) => format!("-{short}"),
        (None, None) => arg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::{Subcommand, ValueEnum};

    use super::*;
    use crate::duration::{parse_duration, parse_positive_duration};

    /// A variable every test process has, with a value no number or duration parser takes:
    /// cargo sets `CARGO_PKG_NAME` for the tests it runs.
    const VARIABLE: &str = "CARGO_PKG_NAME";

    fn variable_value() -> String {
        std::env::var(VARIABLE)
            .expect("cargo sets CARGO_PKG_NAME for the tests it runs: run them with cargo test")
    }

    /// A service whose port variable holds text.
    #[derive(Parser, Debug)]
    struct Service {
        #[arg(long, env = VARIABLE, default_value_t = 6100)]
        port: u16,
    }

    #[derive(Clone, Copy, Debug, ValueEnum)]
    enum Format {
        Text,
        Json,
    }

    /// Other kinds of value, each read from a variable holding text.
    #[derive(Parser, Debug)]
    struct Kinds {
        #[arg(long, env = VARIABLE, value_enum)]
        format: Option<Format>,
        #[arg(long, value_parser = parse_duration)]
        timeout: Option<Duration>,
    }

    #[derive(Parser, Debug)]
    struct Timeout {
        #[arg(long, env = VARIABLE, value_parser = parse_positive_duration)]
        upstream_timeout: Duration,
    }

    /// A launcher with a client as a subcommand, as `bookstore recommend` (`value_source`
    /// tests which argument is found at other depths).
    #[derive(Parser, Debug)]
    struct Launcher {
        #[command(subcommand)]
        command: Launched,
    }

    #[derive(Subcommand, Debug)]
    enum Launched {
        Recommend {
            #[arg(long, env = VARIABLE)]
            recommendations_port: u16,
        },
    }

    #[test]
    fn a_bad_value_from_a_variable_names_the_variable() {
        let value = variable_value();
        let error = try_parse_args_from::<Service, _, _>(["example"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "error: invalid value '{value}' in {VARIABLE} (--port): invalid digit found in string\n"
            )
        );
        assert_eq!(error.exit_code(), 2, "clap's usage status");
        assert_eq!(error.kind(), ErrorKind::ValueValidation);
    }

    #[test]
    fn durations_and_choices_from_a_variable_name_it_too() {
        let value = variable_value();
        let error = try_parse_args_from::<Timeout, _, _>(["example"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "error: invalid value '{value}' in {VARIABLE} (--upstream-timeout): not a \
                 duration: use a number with a unit, such as 250ms, 2s or 1m\n"
            )
        );
        let error = try_parse_args_from::<Kinds, _, _>(["example"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "error: invalid value '{value}' in {VARIABLE} (--format): possible values: text, json\n"
            )
        );
    }

    #[test]
    fn a_bad_value_from_a_variable_under_a_subcommand_names_the_variable() {
        let value = variable_value();
        let error = try_parse_args_from::<Launcher, _, _>(["bookstore", "recommend"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "error: invalid value '{value}' in {VARIABLE} (--recommendations-port): invalid \
                 digit found in string\n"
            )
        );
        assert_eq!(error.exit_code(), 2, "clap's usage status");
    }

    #[test]
    fn a_bad_flag_on_the_command_line_is_clap_s_own_error() {
        let error = try_parse_args_from::<Service, _, _>(["example", "--port", "abc"]).unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("error: invalid value 'abc' for '--port <PORT>'"),
            "{text}"
        );
        assert!(!text.contains(VARIABLE), "{text}");
        // Even when the variable holds the very same text: the flag is what clap read.
        let value = variable_value();
        let error = try_parse_args_from::<Service, _, _>(["example", "--port", &value])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!(
                "error: invalid value '{value}' for '--port <PORT>'"
            )),
            "{error}"
        );
        // A flag without a variable stays clap's too.
        let error =
            try_parse_args_from::<Kinds, _, _>(["example", "--format", "text", "--timeout", "x"])
                .unwrap_err()
                .to_string();
        assert!(
            error.starts_with("error: invalid value 'x' for '--timeout <TIMEOUT>'"),
            "{error}"
        );
    }

    #[test]
    fn a_flag_overrides_a_bad_variable() {
        let service = try_parse_args_from::<Service, _, _>(["example", "--port", "7000"]).unwrap();
        assert_eq!(service.port, 7000);
        let timeout =
            try_parse_args_from::<Timeout, _, _>(["example", "--upstream-timeout", "250ms"])
                .unwrap();
        assert_eq!(timeout.upstream_timeout, Duration::from_millis(250));
        let launcher = try_parse_args_from::<Launcher, _, _>([
            "bookstore",
            "recommend",
            "--recommendations-port",
            "7001",
        ])
        .unwrap();
        assert!(matches!(
            launcher.command,
            Launched::Recommend {
                recommendations_port: 7001
            }
        ));
    }

    /// Flags whose own reading refuses what clap matched, as `GrpcServeArgs` refuses a bad
    /// `METRICS_PORT`.
    #[derive(Debug)]
    struct Refusing;

    impl clap::FromArgMatches for Refusing {
        fn from_arg_matches(_: &clap::ArgMatches) -> Result<Self, clap::Error> {
            let message = "invalid value 'x' in SHARED (--shared): not a port\n";
            Err(clap::Error::raw(ErrorKind::ValueValidation, message))
        }

        fn update_from_arg_matches(&mut self, _: &clap::ArgMatches) -> Result<(), clap::Error> {
            Ok(())
        }
    }

    impl clap::Args for Refusing {
        fn augment_args(command: Command) -> Command {
            command
        }

        fn augment_args_for_update(command: Command) -> Command {
            command
        }
    }

    #[derive(Parser, Debug)]
    struct Refused {
        #[command(flatten)]
        refusing: Refusing,
    }

    #[test]
    fn what_the_flags_refuse_themselves_is_one_line_too() {
        let error = try_parse_args_from::<Refused, _, _>(["example"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "error: invalid value 'x' in SHARED (--shared): not a port\n"
        );
        assert_eq!(error.exit_code(), 2, "clap's usage status");
    }

    #[test]
    fn help_and_other_mistakes_pass_through() {
        let help =
            try_parse_args_from::<Service, _, _>(["example", "--port", "1", "--help"]).unwrap_err();
        assert_eq!(help.kind(), ErrorKind::DisplayHelp);
        assert_eq!(help.exit_code(), 0);
        let unknown = try_parse_args_from::<Service, _, _>(["example", "--port", "1", "--colour"])
            .unwrap_err();
        assert_eq!(unknown.kind(), ErrorKind::UnknownArgument);
        let help = try_parse_args_from::<Launcher, _, _>(["bookstore", "recommend", "--help"])
            .unwrap_err();
        assert_eq!(help.kind(), ErrorKind::DisplayHelp);
        let missing = try_parse_args_from::<Launcher, _, _>(["bookstore"]).unwrap_err();
        assert_eq!(
            missing.kind(),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
    }
}
