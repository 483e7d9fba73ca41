//! `bookstore ncr N R`: nCr from the nCr gateway's JSON API (`GET /api/ncr/{n}/{r}`), exactly:
//! a big answer is written in full, from the gateway's decimal string.
//!
//! ```text
//! $ bookstore ncr 10 3
//! C(10, 3) = 120
//! ```

use std::io::{self, Write};

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::cli::output::{OutputArgs, Report};
use crate::cli::{CliError, Deadline, NcrGatewayAt, web};

/// Options of `bookstore ncr`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct NcrArgs {
    /// n: how many to choose from.
    pub n: u64,

    /// r: how many to choose (at most n).
    pub r: u64,

    /// Where the gateway is.
    #[command(flatten)]
    pub at: NcrGatewayAt,

    /// The deadline.
    #[command(flatten)]
    pub deadline: Deadline,

    /// Text or JSON.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The gateway's answer, success or not: `{"input", "ncr", "ncr_decimal", "msg"}`.
#[derive(Debug, Deserialize)]
struct GatewayAnswer {
    /// The answer: a number up to 2^53 − 1, else the decimal string; null on failure.
    ncr: serde_json::Value,
    /// The exact answer in base 10; only on success.
    ncr_decimal: Option<String>,
    /// "Success", or what went wrong.
    msg: String,
}

/// The answer as this command writes it (`ncr` as the gateway gives it, `ncr_decimal` always
/// exact).
#[derive(Debug, Serialize)]
struct Ncr {
    n: u64,
    r: u64,
    ncr: serde_json::Value,
    ncr_decimal: String,
}

impl Report for Ncr {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "C({}, {}) = {}", self.n, self.r, self.ncr_decimal)
    }
}

/// Asks the gateway for nCr and writes it to `out`.
pub async fn run(args: &NcrArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let target = args.at.target();
    let path = format!("/api/ncr/{}/{}", args.n, args.r);
    let answer = web::get(&target, &path, args.deadline.timeout).await?;
    let bad = |reason: String| CliError::BadAnswer {
        service: target.service,
        reason,
    };
    let parsed: Result<GatewayAnswer, _> = serde_json::from_slice(&answer.body);
    if !answer.status.is_success() {
        // The gateway's own words when it gave some (a 400's says what to send instead).
        let message = match parsed {
            Ok(parsed) => parsed.msg,
            Err(_) => String::from_utf8_lossy(&answer.body).trim().to_owned(),
        };
        return Err(CliError::Refused {
            service: target.service,
            status: answer.status.to_string(),
            message,
        });
    }
    let parsed = parsed.map_err(|error| bad(format!("not the gateway's JSON: {error}")))?;
    let decimal = parsed
        .ncr_decimal
        .filter(|decimal| !decimal.is_empty() && decimal.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| bad("no decimal answer".to_owned()))?;
    let report = Ncr {
        n: args.n,
        r: args.r,
        ncr: parsed.ncr,
        ncr_decimal: decimal,
    };
    args.output.write(&report, out)
}
