//! The schema's migrations, embedded in the binary: applied at start (and by `bookstore db
//! migrate`), each in its own transaction, so one that fails leaves the database as it was.
//!
//! Built from `include_str!` rather than sqlx's `migrate!` macro, which would pull sqlx's
//! proc-macro crate (and a second build of its drivers) into every build for one list of
//! files. Each engine has its own SQL (`migrations/sqlite`, `migrations/postgres`), numbered
//! alike.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// A migration applied now: its version and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Its number.
    pub version: i64,
    /// What it does.
    pub description: String,
}

impl std::fmt::Display for AppliedMigration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.version, self.description)
    }
}

/// One engine's migrations: (version, description, SQL).
type Sources = [(i64, &'static str, &'static str)];

/// SQLite's migrations.
pub(super) const SQLITE: &Sources = &[(
    1,
    "create books",
    include_str!("../../migrations/sqlite/0001_create_books.sql"),
)];

/// PostgreSQL's migrations.
pub(super) const POSTGRES: &Sources = &[(
    1,
    "create books",
    include_str!("../../migrations/postgres/0001_create_books.sql"),
)];

/// A migrator for `sources`.
pub(super) fn migrator(sources: &Sources) -> Migrator {
    let migrations = sources
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        // A replica one release behind, restarting against a database a newer replica has
        // migrated, must still start: migrations only add (expand, then contract a release
        // later), so the older schema's statements keep working.
        ignore_missing: true,
        ..Migrator::DEFAULT
    }
}

/// The migrations of `sources` newer than `before` (the versions applied before a run).
pub(super) fn applied_since(sources: &Sources, before: &[i64]) -> Vec<AppliedMigration> {
    sources
        .iter()
        .filter(|(version, _, _)| !before.contains(version))
        .map(|(version, description, _)| AppliedMigration {
            version: *version,
            description: (*description).to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_have_the_same_migrations_in_order() {
        let numbers = |sources: &Sources| -> Vec<(i64, &str)> {
            sources.iter().map(|(v, d, _)| (*v, *d)).collect()
        };
        assert_eq!(numbers(SQLITE), numbers(POSTGRES));
        assert!(numbers(SQLITE).windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert_eq!(migrator(SQLITE).iter().count(), SQLITE.len());
    }
}
