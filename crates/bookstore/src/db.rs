//! `bookstore db migrate`: brings a catalog database's schema up to date with the migrations
//! embedded in this binary (the Recommendations service's own), for an operator who migrates
//! before rolling out rather than letting each replica do it at start.
//!
//! ```text
//! $ bookstore db migrate --database-url sqlite://data/catalog.db
//! applied 1 migration: 1 create books
//! $ bookstore db migrate --database-url sqlite://data/catalog.db
//! the database is up to date
//! ```

use std::io::{self, Write};

use clap::{Args, Subcommand};
use recommendations::database::{self, AppliedMigration, StoreError};

/// `bookstore db`: the catalog's database.
#[derive(Subcommand, Debug, Clone)]
pub enum DbCommand {
    /// Applies the catalog's migrations that the database lacks, and says which.
    Migrate(MigrateArgs),
}

/// Options of `bookstore db migrate`.
#[derive(Args, Debug, Clone)]
pub struct MigrateArgs {
    /// The database: sqlite://PATH (the file is created if missing) or
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
}

/// Why `bookstore db` failed: one line, printed by `main`.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database could not be reached or migrated (its own one-line explanation).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the answer failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] io::Error),
}

impl DbCommand {
    /// Does it, writing what was done to `out`.
    pub async fn run(&self, out: &mut dyn Write) -> Result<(), DbError> {
        match self {
            Self::Migrate(args) => {
                let applied = database::migrate(&args.database_url).await?;
                writeln!(out, "{}", applied_summary(&applied))?;
                out.flush()?;
                Ok(())
            }
        }
    }
}

/// "applied 2 migrations: 1 create books, 2 add isbn", or that there was nothing to do.
fn applied_summary(applied: &[AppliedMigration]) -> String {
    if applied.is_empty() {
        return "the database is up to date".to_owned();
    }
    let plural = if applied.len() == 1 { "" } else { "s" };
    let list: Vec<String> = applied.iter().map(ToString::to_string).collect();
    format!(
        "applied {} migration{plural}: {}",
        applied.len(),
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_each_migration_applied() {
        assert_eq!(applied_summary(&[]), "the database is up to date");
        let migration = |version: i64, description: &str| AppliedMigration {
            version,
            description: description.to_owned(),
        };
        assert_eq!(
            applied_summary(&[migration(1, "create books")]),
            "applied 1 migration: 1 create books"
        );
        assert_eq!(
            applied_summary(&[migration(1, "create books"), migration(2, "add isbn")]),
            "applied 2 migrations: 1 create books, 2 add isbn"
        );
    }
}
