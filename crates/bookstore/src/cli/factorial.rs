//! `bookstore factorial N`: n!, exactly, from the Factorial service
//! (`bookstore.factorial.v1.FactorialService/Factorial`).
//!
//! ```text
//! $ bookstore factorial 30
//! 30! = 265252859812191058636308480000000
//! ```

use std::io::{self, Write};

use bookstore_proto::factorial::v1::factorial_service_client::FactorialServiceClient;
use bookstore_proto::factorial::v1::{FactorialRequest, FactorialView};
use bookstore_tls::UpstreamTlsSettings;
use clap::Args;
use serde::Serialize;

use crate::cli::grpc::Grpc;
use crate::cli::output::{OutputArgs, Report};
use crate::cli::{CliError, Deadline, FactorialAt};

/// Options of `bookstore factorial`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct FactorialArgs {
    /// n in n!: 0 up to the service's limit (100000 unless it was started with another
    /// --max-n).
    pub n: u64,

    /// Where the service is.
    #[command(flatten)]
    pub at: FactorialAt,

    /// The deadline.
    #[command(flatten)]
    pub deadline: Deadline,

    /// TLS or mutual TLS to the service.
    #[command(flatten)]
    pub tls: UpstreamTlsSettings,

    /// Text or JSON.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The answer: n! in base 10 (a string in JSON, as no JSON reader holds most factorials).
#[derive(Debug, Serialize)]
struct Factorial {
    n: u64,
    factorial: String,
    digits: usize,
}

impl Report for Factorial {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}! = {}", self.n, self.factorial)
    }
}

/// Asks for n! and writes it to `out`.
pub async fn run(args: &FactorialArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let grpc = Grpc::new(args.at.target(), args.deadline.timeout, &args.tls)?;
    let request = grpc.request(FactorialRequest {
        n: args.n,
        view: FactorialView::Full.into(),
    });
    let response = FactorialServiceClient::new(grpc.channel.clone())
        // The answer to the service's own limit is about 650 kB: above tonic's default 4 MiB
        // only for limits far past the default one.
        .max_decoding_message_size(usize::MAX)
        .factorial(request)
        .await
        .map_err(|status| grpc.error(&status))?
        .into_inner();
    let bad = |reason: String| CliError::BadAnswer {
        service: grpc.target.service,
        reason,
    };
    if response.n != args.n {
        return Err(bad(format!("asked for {}!, got {}!", args.n, response.n)));
    }
    if response.decimal.is_empty() || !response.decimal.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("n! is not a decimal number".to_owned()));
    }
    let report = Factorial {
        n: response.n,
        digits: response.decimal.len(),
        factorial: response.decimal,
    };
    args.output.write(&report, out)
}
