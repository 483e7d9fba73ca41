//! Reading the command lines of Online Books For You: what every binary, server or client,
//! shares when it turns its flags and environment into a configuration.
//!
//! - `duration`: [`parse_duration`] and [`parse_positive_duration`], the one parser of every
//!   duration flag (so they all read the same text and refuse it in the same words,
//!   [`DurationError`]).
//! - `command_line`: [`parse_args`] (and [`try_parse_args_from`]), clap's parse with errors
//!   that name the environment variable a bad value came from, at any depth of subcommands.
//! - `value_source`: how `command_line` finds that variable (which argument, on which
//!   subcommand, and whether its variable or the command line gave the value).
//!
//! It depends on nothing of this workspace, so every crate can use it: servers
//! (`bookstore-serve`), clients (`bookstore-client`), TLS settings (`bookstore-tls`) and the
//! tools.

mod command_line;
mod duration;
mod value_source;

pub use command_line::{parse_args, try_parse_args_from};
pub use duration::{DurationError, parse_duration, parse_positive_duration};
