//! `loadgen`: parses the command line, runs it, prints the report (stdout) and exits non-zero
//! if the test could not run or any request failed.

use std::process::ExitCode;

use bookstore_config::parse_args;
use loadgen::{Cli, Outcome};

fn main() -> ExitCode {
    match loadgen::execute(parse_args::<Cli>()) {
        Ok(Outcome::Load { report, written }) => {
            print!("{report}");
            for file in written {
                println!("{file}");
            }
            if report.failed() > 0 || report.requests == 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Ok(Outcome::Ready(ready)) => {
            println!(
                "{}",
                serde_json::to_string(&ready).expect("a readiness time always serializes")
            );
            ExitCode::SUCCESS
        }
        Ok(Outcome::Plotted { written, runs }) => {
            let runs = match runs {
                1 => "1 run".to_owned(),
                runs => format!("{runs} runs"),
            };
            println!("wrote {runs} to {}", written.path.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::from(2)
        }
    }
}
