//! Where the bad value of a clap error came from: the command line, or an argument's
//! environment variable, at whatever depth of subcommands the argument is declared
//! ([`variable_at_fault`], which `command_line` uses to word its errors).
//!
//! Clap's error names the argument as `--help` shows it (`--port <PORT>`) and the value, not
//! where either came from. So the argument is looked for along the subcommands the command line
//! goes through (clap's own matching, run again with errors ignored so the bad value does not
//! stop it short), innermost first, and the command line is parsed again with that argument's
//! variable ignored: if the same complaint comes back, the command line said it; if not, the
//! variable did.

use std::ffi::OsString;

use clap::builder::{OsStr, Resettable};
use clap::error::{ContextKind, ContextValue};
use clap::{Arg, Command, Id};

/// The argument whose environment variable held the value an error complains about.
pub(crate) struct VariableAtFault {
    /// The argument, as declared where clap complained about it.
    pub(crate) arg: Arg,
    /// Its variable (`RECOMMENDATIONS_PORT`).
    pub(crate) variable: String,
}

/// The argument and variable the value `error` complains about came from, when it came from a
/// variable; `None` when the command line said it, or clap names no argument. `command` is
/// the command `args` were parsed with, `built` the same command built.
pub(crate) fn variable_at_fault(
    error: &clap::Error,
    command: &Command,
    built: &Command,
    args: &[OsString],
) -> Option<VariableAtFault> {
    let Some(ContextValue::String(shown)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let path = subcommand_path(command, args);
    // The commands the line went through, innermost first: a subcommand's arguments are read
    // before its parent's variables, so clap's complaint is most often about the innermost.
    let mut levels = vec![built];
    for name in &path {
        match levels.last().and_then(|level| level.find_subcommand(name)) {
            Some(subcommand) => levels.push(subcommand),
            None => break,
        }
    }
    // A global argument is shown the same at every level, and any of them may be at fault.
    levels
        .iter()
        .rev()
        .flat_map(|level| level.get_arguments())
        .filter(|arg| arg.to_string() == *shown)
        .filter_map(|arg| Some((arg, arg.get_env()?.to_string_lossy().into_owned())))
        .find(|(arg, variable)| came_from_variable(error, command, &path, arg, variable, args))
        .map(|(arg, variable)| VariableAtFault {
            arg: arg.clone(),
            variable,
        })
}

/// The names of the subcommands `args` goes through, outermost first, as clap matches them:
/// parsed again with errors ignored, so that the bad value does not stop it short.
fn subcommand_path(command: &Command, args: &[OsString]) -> Vec<String> {
    let Ok(matches) = command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(args)
    else {
        return Vec::new();
    };
    let mut path = Vec::new();
    let mut level = &matches;
    while let Some((name, matches)) = level.subcommand() {
        path.push(name.to_owned());
        level = matches;
    }
    path
}

/// Whether the value `error` complains about came from `variable`, read by `arg` on the
/// subcommands of `path`: parsed again without the variable, the same complaint does not come
/// back.
fn came_from_variable(
    error: &clap::Error,
    command: &Command,
    path: &[String],
    arg: &Arg,
    variable: &str,
    args: &[OsString],
) -> bool {
    let without_variable = without_variable(command.clone(), path, arg.get_id(), variable);
    match without_variable.try_get_matches_from(args) {
        Ok(_) => true,
        Err(again) => {
            let complaint = |error: &clap::Error| {
                (
                    error.kind(),
                    error.get(ContextKind::InvalidArg).map(ToString::to_string),
                    error
                        .get(ContextKind::InvalidValue)
                        .map(ToString::to_string),
                )
            };
            complaint(&again) != complaint(error)
        }
    }
}

/// `command` with argument `id` no longer reading `variable`, wherever it is declared along
/// `path` (a global argument is declared once, above the subcommand that reports it).
fn without_variable(command: Command, path: &[String], id: &Id, variable: &str) -> Command {
    let declared_here = command
        .get_arguments()
        .any(|arg| arg.get_id() == id && arg.get_env().is_some_and(|env| env == variable));
    let command = if declared_here {
        command.mut_arg(id, |arg| arg.env(Resettable::<OsStr>::Reset))
    } else {
        command
    };
    match path.split_first() {
        Some((name, rest)) if command.get_subcommands().any(|sub| sub.get_name() == name) => {
            command.mut_subcommand(name, |sub| without_variable(sub, rest, id, variable))
        }
        _ => command,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::{Parser, Subcommand};

    use super::*;
    use crate::duration::parse_positive_duration;

    /// A variable every test process has, with a value no number or duration parser takes:
    /// cargo sets `CARGO_PKG_NAME` for the tests it runs.
    const VARIABLE: &str = "CARGO_PKG_NAME";

    /// A variable no test sets.
    const UNSET: &str = "BOOKSTORE_CONFIG_TEST_UNSET_PORT";

    /// A launcher in the shape of `bookstore`: a client as a subcommand, and services one level
    /// further down, two of them with a `--port` of their own.
    #[derive(Parser, Debug)]
    struct Launcher {
        #[arg(long)]
        port: Option<u16>,
        #[command(subcommand)]
        command: LauncherCommand,
    }

    #[derive(Subcommand, Debug)]
    enum LauncherCommand {
        Recommend {
            #[arg(long, env = VARIABLE)]
            recommendations_port: u16,
        },
        #[command(subcommand)]
        Serve(Served),
    }

    /// The service declared first reads a variable that is not set, so only the one the command
    /// line names can be at fault.
    #[derive(Subcommand, Debug)]
    enum Served {
        Factorial {
            #[arg(long, env = UNSET, default_value_t = 50052)]
            port: u16,
        },
        Recommendations {
            #[arg(long, env = VARIABLE)]
            port: u16,
        },
    }

    /// A client in the shape of `demo`: a global deadline, then the call to make.
    #[derive(Parser, Debug)]
    struct Client {
        #[arg(long, env = VARIABLE, global = true, value_parser = parse_positive_duration)]
        timeout: Option<Duration>,
        #[command(subcommand)]
        call: Call,
    }

    #[derive(Subcommand, Debug)]
    enum Call {
        Unary { message: String },
    }

    /// The variable and the flag blamed for the error of parsing `args` as `C`.
    fn blamed<C: Parser + std::fmt::Debug>(args: &[&str]) -> Option<(String, String)> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let error = C::try_parse_from(&args).unwrap_err();
        let command = C::command();
        let mut built = command.clone();
        built.build();
        let fault = variable_at_fault(&error, &command, &built, &args)?;
        let flag = fault.arg.get_long().expect("every flag here is long");
        Some((fault.variable, flag.to_owned()))
    }

    fn blame(flag: &str) -> Option<(String, String)> {
        Some((VARIABLE.to_owned(), flag.to_owned()))
    }

    #[test]
    fn the_argument_is_found_on_the_subcommands_of_the_line() {
        assert_eq!(
            blamed::<Launcher>(&["bookstore", "recommend"]),
            blame("recommendations-port")
        );
        // Two levels down, where a sibling declared first has a `--port` too (and the top level
        // one, without a variable): the subcommand the line names is the one.
        assert_eq!(
            blamed::<Launcher>(&["bookstore", "serve", "recommendations"]),
            blame("port")
        );
        // The sibling's own variable is not set: it parses.
        let launcher =
            Launcher::try_parse_from(["bookstore", "--port", "1", "serve", "factorial"]).unwrap();
        assert!(matches!(
            launcher.command,
            LauncherCommand::Serve(Served::Factorial { port: 50052 })
        ));
    }

    #[test]
    fn a_value_on_the_command_line_blames_no_variable() {
        let value = std::env::var(VARIABLE).expect("cargo sets it: run with cargo test");
        let lines: [&[&str]; 4] = [
            &["bookstore", "recommend", "--recommendations-port", "abc"],
            &["bookstore", "recommend", "--recommendations-port", &value],
            &["bookstore", "serve", "recommendations", "--port", "abc"],
            &["bookstore", "--port", "abc", "serve", "factorial"],
        ];
        for args in lines {
            assert_eq!(blamed::<Launcher>(args), None, "{args:?}");
        }
    }

    #[test]
    fn a_global_argument_is_found_at_any_level() {
        assert_eq!(blamed::<Client>(&["demo", "unary", "hi"]), blame("timeout"));
        // Even with the flag given: a global argument reads its variable at every level the flag
        // was not given at (clap-rs/clap#5588), so the variable is still at fault.
        for args in [
            ["demo", "--timeout", "2s", "unary", "hi"],
            ["demo", "unary", "hi", "--timeout", "2s"],
        ] {
            assert_eq!(blamed::<Client>(&args), blame("timeout"), "{args:?}");
        }
        assert_eq!(
            blamed::<Client>(&["demo", "unary", "hi", "--timeout", "0s"]),
            None
        );
    }
}
