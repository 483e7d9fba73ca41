//! `bookstore books` and `bookstore db migrate` as a user runs them, against a real
//! Recommendations service started in this test on a free port with its catalog in an SQLite
//! file of the test's own: a book's whole life (add, get, list, update, delete), bad input
//! refused in the server's words (or by the command line before any call), writes refused by a
//! service without a database, books that outlive the service, and migrations applied once.

use std::path::Path;
use std::process::{Command, Output};

use bookstore_testing::{Running, spawn};
use serde_json::Value;

const BOOKSTORE: &str = env!("CARGO_BIN_EXE_bookstore");

/// Variables the commands read, cleared so the developer's shell cannot steer the test.
const SETTINGS: [&str; 8] = [
    "RECOMMENDATIONS_HOST",
    "RECOMMENDATIONS_PORT",
    "BOOKSTORE_TIMEOUT",
    "UPSTREAM_CA",
    "UPSTREAM_CERT",
    "UPSTREAM_KEY",
    "DATABASE_URL",
    "RUST_LOG",
];

/// The Recommendations service, with its catalog in the SQLite file `database` (or read-only,
/// built in, without one).
async fn recommendations(database: Option<&Path>) -> Running<recommendations::RunError> {
    let config = recommendations::Config {
        database_url: database.map(sqlite_url),
        ..recommendations::Config::default()
    };
    spawn(|listeners, shutdown| recommendations::run(listeners, config, shutdown)).await
}

fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// `bookstore WORDS...`, run to completion off the async runtime (the service runs on it).
async fn bookstore(words: &[&str]) -> Output {
    let words: Vec<String> = words.iter().map(|word| (*word).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(BOOKSTORE);
        for name in SETTINGS {
            command.env_remove(name);
        }
        command.args(words).output().expect("the binary runs")
    })
    .await
    .unwrap()
}

/// `bookstore books WORDS...` for the service `server`.
async fn books<E: std::fmt::Debug>(server: &Running<E>, words: &[&str]) -> Output {
    books_at(server.addr().port(), words).await
}

/// `bookstore books WORDS... --recommendations-host 127.0.0.1 --recommendations-port PORT`.
async fn books_at(port: u16, words: &[&str]) -> Output {
    let port = port.to_string();
    let mut all = vec!["books"];
    all.extend(words);
    all.extend(["--recommendations-host", "127.0.0.1"]);
    all.extend(["--recommendations-port", &port]);
    bookstore(&all).await
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap()
}

/// The one line the command wrote on stderr, after exit status `code` and nothing on stdout.
fn the_one_error_line(output: &Output, code: i32) -> String {
    assert_eq!(output.status.code(), Some(code), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_owned()
}

/// Clap's refusal: usage status 2, nothing on stdout, the whole message.
fn usage_error(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    String::from_utf8(output.stderr.clone()).unwrap()
}

const ADD_STRONG_POISON: [&str; 9] = [
    "add",
    "--title",
    "Strong Poison",
    "--author",
    "Dorothy L. Sayers",
    "--category",
    "mystery",
    "--year",
    "1930",
];

#[tokio::test(flavor = "multi_thread")]
async fn a_book_is_added_read_listed_changed_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let server = recommendations(Some(&dir.path().join("catalog.db"))).await;

    let added = json(&books(&server, &[&ADD_STRONG_POISON[..], &["--json"]].concat()).await);
    let name = added["name"].as_str().unwrap().to_owned();
    let id = name.strip_prefix("books/").expect("named books/{id}");
    assert!(id.parse::<u32>().unwrap() > 0, "{added}");
    assert_eq!(
        (
            &added["title"],
            &added["author"],
            &added["category"],
            &added["year"]
        ),
        (
            &Value::from("Strong Poison"),
            &Value::from("Dorothy L. Sayers"),
            &Value::from("mystery"),
            &Value::from(1930)
        )
    );
    let etag = added["etag"].as_str().unwrap().to_owned();
    assert!(!etag.is_empty(), "{added}");

    // By id or by name, as a block of fields with the etag.
    let text = stdout(&books(&server, &["get", id]).await);
    assert_eq!(
        text,
        format!(
            "{name}\n  title     Strong Poison\n  author    Dorothy L. Sayers\n  category  \
             mystery\n  year      1930\n  etag      {etag}\n"
        )
    );
    assert_eq!(
        json(&books(&server, &["get", &name, "--json"]).await),
        added
    );

    // Listed among the mysteries, on one line; every page together holds it once.
    let listed = stdout(&books(&server, &["list", "--category", "mystery", "--all"]).await);
    let line = listed
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name.as_str()))
        .unwrap_or_else(|| panic!("{name} is listed: {listed}"));
    assert!(
        line.contains("Strong Poison") && line.contains("Dorothy L. Sayers"),
        "{line}"
    );
    assert!(
        line.split_whitespace()
            .rev()
            .take(2)
            .eq(["1930", "mystery"]),
        "{line}"
    );
    let every = json(&books(&server, &["list", "--all", "--page-size", "7", "--json"]).await);
    let names: Vec<&str> = every["books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|book| book["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), every["total_size"].as_u64().unwrap() as usize);
    assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{every}");
    assert_eq!(every["next_page_token"], "");

    // One page at a time: the text says where the next one starts, and it does.
    let first = stdout(&books(&server, &["list", "--page-size", "2"]).await);
    let last = first.lines().last().unwrap();
    let total = names.len();
    assert!(
        last.starts_with(&format!("2 of {total} books; next page: --page-token ")),
        "{first}"
    );
    let token = last.rsplit(' ').next().unwrap();
    let second = json(
        &books(
            &server,
            &["list", "--page-size", "2", "--page-token", token, "--json"],
        )
        .await,
    );
    let second: Vec<&str> = second["books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|book| book["name"].as_str().unwrap())
        .collect();
    assert_eq!(second, names[2..4], "the next page continues the list");

    // An update changes the fields given and the etag; the old etag no longer matches.
    let updated = json(
        &books(
            &server,
            &[
                "update",
                id,
                "--title",
                "Strong Poison (1930)",
                "--etag",
                &etag,
                "--json",
            ],
        )
        .await,
    );
    assert_eq!(updated["title"], "Strong Poison (1930)");
    assert_eq!(updated["author"], "Dorothy L. Sayers", "unchanged");
    assert_eq!(updated["year"], 1930, "unchanged");
    assert_ne!(updated["etag"], etag.as_str());
    let stale = books(&server, &["update", id, "--year", "1931", "--etag", &etag]).await;
    let line = the_one_error_line(&stale, 1);
    assert!(
        line.starts_with("bookstore: recommendations answered ABORTED: "),
        "{line}"
    );
    let stale = books(&server, &["delete", id, "--etag", &etag]).await;
    assert!(the_one_error_line(&stale, 1).contains("ABORTED"));

    assert_eq!(
        stdout(&books(&server, &["delete", &name]).await),
        format!("Deleted {name}.\n")
    );
    let gone = the_one_error_line(&books(&server, &["get", id]).await, 1);
    assert!(
        gone.starts_with("bookstore: recommendations answered NOT_FOUND: "),
        "{gone}"
    );
    server.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_in_the_servers_words_or_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = recommendations(Some(&dir.path().join("catalog.db"))).await;
    let add = |title: &str, category: &str, year: &str| {
        let words = [
            "add",
            "--title",
            title,
            "--author",
            "A. Author",
            "--category",
            category,
            "--year",
            year,
        ]
        .map(str::to_owned);
        let port = server.addr().port();
        async move {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            books_at(port, &words).await
        }
    };

    let empty = the_one_error_line(&add("", "mystery", "1930").await, 1);
    assert!(
        empty.starts_with("bookstore: recommendations answered INVALID_ARGUMENT: ")
            && empty.contains("title must not be empty"),
        "{empty}"
    );
    let far = the_one_error_line(&add("Later", "mystery", "99999").await, 1);
    assert!(
        far.starts_with("bookstore: recommendations answered INVALID_ARGUMENT: ")
            && far.contains("year"),
        "{far}"
    );
    // A book already in the (seeded) catalog.
    let catalog = recommendations::Catalog::built_in().unwrap();
    let known = catalog.iter().next().unwrap();
    let duplicate = books(
        &server,
        &[
            "add",
            "--title",
            &known.title,
            "--author",
            &known.author,
            "--category",
            known.category.slug(),
            "--year",
            &known.year.to_string(),
        ],
    )
    .await;
    let duplicate = the_one_error_line(&duplicate, 1);
    assert!(
        duplicate.starts_with("bookstore: recommendations answered ALREADY_EXISTS: "),
        "{duplicate}"
    );

    // Refused by the command line, naming what it accepts.
    let poetry = usage_error(&add("Odes", "poetry", "1819").await);
    assert!(
        poetry.contains("'poetry'")
            && poetry.contains(
                "[possible values: mystery, science_fiction, self_help, fantasy, history, \
                 biography, classics, science]"
            ),
        "{poetry}"
    );
    let nothing = usage_error(&books(&server, &["update", "1", "--etag", "abc"]).await);
    assert!(
        nothing.contains("the following required arguments were not provided")
            && nothing.contains("--title"),
        "{nothing}"
    );
    let shelf = usage_error(&books(&server, &["get", "shelves/3"]).await);
    assert!(shelf.contains("e.g. 42 or books/42"), "{shelf}");
    server.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_without_a_database_serves_its_catalog_but_refuses_writes() {
    let server = recommendations(None).await;
    let refused = the_one_error_line(&books(&server, &ADD_STRONG_POISON).await, 1);
    assert!(
        refused.starts_with("bookstore: recommendations answered FAILED_PRECONDITION: ")
            && refused.contains("DATABASE_URL"),
        "{refused}"
    );
    let listed = json(&books(&server, &["list", "--all", "--json"]).await);
    let built_in = recommendations::Catalog::built_in().unwrap().len();
    assert_eq!(listed["books"].as_array().unwrap().len(), built_in);
    server.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn books_outlive_the_service_in_its_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog.db");
    let server = recommendations(Some(&file)).await;
    let added = json(&books(&server, &[&ADD_STRONG_POISON[..], &["--json"]].concat()).await);
    server.stop_cleanly().await;

    let restarted = recommendations(Some(&file)).await;
    let name = added["name"].as_str().unwrap();
    assert_eq!(
        json(&books(&restarted, &["get", name, "--json"]).await),
        added
    );
    restarted.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn db_migrate_applies_the_migrations_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("catalog.db"));

    let first = stdout(&bookstore(&["db", "migrate", "--database-url", &url]).await);
    assert!(
        first.starts_with("applied ")
            && first.contains(" migration")
            && first.contains(": 1 create books"),
        "{first}"
    );
    assert_eq!(first.lines().count(), 1, "{first}");
    let again = stdout(&bookstore(&["db", "migrate", "--database-url", &url]).await);
    assert_eq!(again, "the database is up to date\n");

    // The migrated file is a catalog a service can serve, and write to.
    let server = recommendations(Some(&dir.path().join("catalog.db"))).await;
    let added = books(&server, &ADD_STRONG_POISON).await;
    assert!(stdout(&added).starts_with("books/"), "{added:?}");
    server.stop_cleanly().await;

    // A database it cannot use: one line, naming no password.
    let bad = bookstore(&[
        "db",
        "migrate",
        "--database-url",
        "mysql://root:secret@db/x",
    ])
    .await;
    let line = the_one_error_line(&bad, 1);
    assert!(
        line.starts_with("bookstore: DATABASE_URL must start with"),
        "{line}"
    );
    assert!(!line.contains("secret"), "{line}");
    let missing = usage_error(&bookstore(&["db", "migrate"]).await);
    assert!(missing.contains("--database-url"), "{missing}");
}
