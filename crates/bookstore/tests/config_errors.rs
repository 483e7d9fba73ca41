//! A bad value in an environment variable, as `bookstore` reports it under any subcommand: one
//! line naming the variable (and the flag that overrides it), clap's usage status 2, and
//! nothing run. A bad flag on the command line stays clap's own error, naming the flag.

use std::process::{Command, Output};

/// `bookstore ARGS...` with `variables` set, and the ones the commands read cleared so the
/// developer's shell cannot steer the test.
fn bookstore(args: &[&str], variables: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bookstore"));
    for name in [
        "RECOMMENDATIONS_HOST",
        "RECOMMENDATIONS_PORT",
        "RECOMMENDATIONS_METRICS_PORT",
        "METRICS_PORT",
        "BOOKSTORE_TIMEOUT",
        "RUST_LOG",
    ] {
        command.env_remove(name);
    }
    command
        .args(args)
        .envs(variables.iter().copied())
        .output()
        .expect("the binary runs")
}

/// What `output` wrote on stderr, which must be one line, after exit status 2.
fn the_one_usage_error(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap's usage status: {output:?}"
    );
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_owned()
}

#[test]
fn a_bad_variable_under_a_subcommand_is_named() {
    let output = bookstore(&["recommend"], &[("RECOMMENDATIONS_PORT", "abc")]);
    assert_eq!(
        the_one_usage_error(&output),
        "error: invalid value 'abc' in RECOMMENDATIONS_PORT (--recommendations-port): invalid \
         digit found in string"
    );
    let output = bookstore(&["health"], &[("BOOKSTORE_TIMEOUT", "0s")]);
    assert_eq!(
        the_one_usage_error(&output),
        "error: invalid value '0s' in BOOKSTORE_TIMEOUT (--timeout): must be more than zero, \
         such as 250ms, 2s or 1m"
    );
}

#[test]
fn a_bad_variable_two_subcommands_down_is_named() {
    // `serve recommendations` reads the same variable into its own `--port`.
    let output = bookstore(
        &["serve", "recommendations", "--host", "127.0.0.1"],
        &[("RECOMMENDATIONS_PORT", "abc")],
    );
    assert_eq!(
        the_one_usage_error(&output),
        "error: invalid value 'abc' in RECOMMENDATIONS_PORT (--port): invalid digit found in \
         string"
    );
}

#[test]
fn a_bad_flag_is_clap_s_own_error_naming_the_flag() {
    let output = bookstore(
        &["recommend", "--recommendations-port", "abc"],
        &[("RECOMMENDATIONS_PORT", "abc")],
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "error: invalid value 'abc' for '--recommendations-port <RECOMMENDATIONS_PORT>'"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains(" in RECOMMENDATIONS_PORT"), "{stderr}");
}
