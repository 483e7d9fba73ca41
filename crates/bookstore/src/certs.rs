//! `bookstore certs`: a development CA and a certificate and key for every service, for running
//! the system over mutual TLS (`bookstore up --tls`, the mTLS compose file, the Kubernetes mTLS
//! overlay). Keys are written with mode 0600 and never replaced without `--force`.

use std::path::PathBuf;

use bookstore_tls::dev_certs::{CertsError, write_bundle};
use clap::Args;

/// Every identity in the system: the services, and the load generator as a client.
pub const IDENTITIES: [&str; 6] = [
    "recommendations",
    "marketplace",
    "factorial",
    "ncr-gateway",
    "demo",
    "loadgen",
];

/// Options of `bookstore certs`.
#[derive(Args, Debug, Clone)]
pub struct CertsArgs {
    /// Directory to write the certificates and keys into (created if needed).
    #[arg(long, default_value = "certs")]
    pub out: PathBuf,

    /// Replace existing keys.
    #[arg(long)]
    pub force: bool,
}

/// Writes the bundle and says what it wrote.
pub fn run(args: &CertsArgs) -> Result<(), CertsError> {
    let written = write_bundle(&args.out, &IDENTITIES, args.force)?;
    println!(
        "Wrote a development CA and certificates for {} to {}:",
        IDENTITIES.join(", "),
        args.out.display()
    );
    for path in written {
        println!("  {}", path.display());
    }
    println!("Never commit these: they are for development and tests only.");
    Ok(())
}
