//! `bookstore certs`: a development CA and a certificate and key for every service, for running
//! the system over mutual TLS (`bookstore up --tls`, the mTLS compose file, the Kubernetes mTLS
//! overlay). Keys are written with mode 0600 and never replaced without `--force`.
//!
//! Besides the services, two identities are only ever clients: `loadgen`, which may call the
//! gRPC services for load tests, and `admin`, the one client that may change the catalog
//! (`bookstore books add|update|delete`) when the Recommendations service runs under mutual TLS.

use std::path::PathBuf;

use bookstore_tls::dev_certs::{CertsError, write_bundle};
use clap::Args;

/// Every identity in the system: the services, and the clients that are not services.
pub const IDENTITIES: [&str; 7] = [
    "recommendations",
    "marketplace",
    "factorial",
    "ncr-gateway",
    "demo",
    "loadgen",
    ADMIN,
];

/// The identity that may write the catalog under mutual TLS.
pub const ADMIN: &str = "admin";

/// The identities that are only clients, and what each is for (printed by `bookstore certs`).
pub const CLIENT_ROLES: [(&str, &str); 2] = [
    (
        "loadgen",
        "may call recommendations and factorial under mutual TLS (load tests, ad-hoc calls)",
    ),
    (
        ADMIN,
        "may write the catalog under mutual TLS (bookstore books add|update|delete)",
    ),
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
    println!("Client-only identities:");
    for (identity, role) in CLIENT_ROLES {
        println!("  {identity}: {role}");
    }
    println!("Never commit these: they are for development and tests only.");
    Ok(())
}
