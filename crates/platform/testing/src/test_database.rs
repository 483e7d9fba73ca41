//! A database of its own for each test: an SQLite file in a temporary directory, or a fresh
//! PostgreSQL database on the server `TEST_DATABASE_URL` names (a role that may create
//! databases; `.ci/run` starts one). Without `TEST_DATABASE_URL` the PostgreSQL tests are
//! skipped — loudly, on stderr — unless `BOOKSTORE_REQUIRE_POSTGRES=1` (CI) makes that a
//! failure. Each PostgreSQL database is dropped when its test ends.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection as _;

/// The engines a database test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// An SQLite file.
    Sqlite,
    /// A database on the PostgreSQL server of `TEST_DATABASE_URL`.
    Postgres,
}

impl Engine {
    /// Both engines.
    pub const ALL: [Self; 2] = [Self::Sqlite, Self::Postgres];
}

/// A database for one test (see the module docs).
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    /// Kept for as long as the file is used.
    _dir: Option<tempfile::TempDir>,
    /// The server's URL and the database's name, to drop it.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A new, empty database on `engine`; `None` (after saying so) when PostgreSQL is not
    /// configured and not required.
    pub async fn new(engine: Engine) -> Option<Self> {
        match engine {
            Engine::Sqlite => Some(Self::sqlite()),
            Engine::Postgres => Self::postgres().await,
        }
    }

    /// An SQLite file in a new temporary directory (not created yet: the service creates it).
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("catalog.db").display());
        Self {
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new database on the server of `TEST_DATABASE_URL` (see the module docs).
    pub async fn postgres() -> Option<Self> {
        let Ok(server) = std::env::var("TEST_DATABASE_URL") else {
            if std::env::var("BOOKSTORE_REQUIRE_POSTGRES").is_ok_and(|value| value == "1") {
                panic!("BOOKSTORE_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set");
            }
            eprintln!(
                "SKIPPED: PostgreSQL tests need TEST_DATABASE_URL=postgres://USER:PASSWORD@HOST/postgres \
                 (a role that may create databases); deploy/ci/postgres.sh starts one"
            );
            return None;
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "bookstore_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to TEST_DATABASE_URL: {error}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        let _ = admin.close().await;
        let url = with_database(&server, &name);
        Some(Self {
            url,
            _dir: None,
            postgres: Some((server, name)),
        })
    }

    /// The URL to give the service as `DATABASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop may run inside the test's runtime, which cannot be blocked on: a thread of its
        // own, with a runtime of its own, drops the database.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&server).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(&drop).execute(&mut admin).await;
                }
            });
        });
        let _ = dropped.join();
    }
}

/// `server` (a PostgreSQL URL) naming database `name` instead of its own.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = server
        .split_once('?')
        .map_or((server, None), |(b, q)| (b, Some(q)));
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5432/postgres", "t1"),
            "postgres://u:p@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/postgres?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
    }
}
