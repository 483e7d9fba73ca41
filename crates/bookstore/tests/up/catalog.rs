//! The catalog under `bookstore up`: kept in an SQLite file in the data directory, which `up`
//! creates and names in its banner, so a book added with `bookstore books add` is still there
//! after a restart.

use std::process::{Command, Output};
use std::time::Duration;

use crate::launcher::{launch, signal, wait_for_exit};

const CATALOG_HOST: &str = "127.0.0.9";

/// `bookstore books WORDS...` against the system on [`CATALOG_HOST`].
fn books(words: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .arg("books")
        .args(words)
        .env("RECOMMENDATIONS_HOST", CATALOG_HOST)
        .env_remove("RECOMMENDATIONS_PORT")
        .env_remove("UPSTREAM_CA")
        .output()
        .unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn up_keeps_the_catalog_in_its_data_directory_across_restarts() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("not-yet").join("bookstore");
    let data_dir = data.to_str().unwrap();
    let file = data.join("catalog.db");

    let (mut launcher, _stdout, banner) = launch(CATALOG_HOST, &["--data-dir", data_dir]);
    assert!(
        banner.contains(&format!("  catalog           {}\n", file.display())),
        "{banner}"
    );
    assert!(data.is_dir(), "the data directory is created");
    let added = json(&books(&[
        "add",
        "--title",
        "Strong Poison",
        "--author",
        "Dorothy L. Sayers",
        "--category",
        "mystery",
        "--year",
        "1930",
        "--json",
    ]));
    assert!(file.is_file(), "the catalog is an SQLite file in it");
    signal(&launcher.0, "-TERM");
    assert!(wait_for_exit(&mut launcher.0, Duration::from_secs(10)).success());

    let (mut launcher, _stdout, _banner) = launch(CATALOG_HOST, &["--data-dir", data_dir]);
    let name = added["name"].as_str().unwrap();
    assert_eq!(json(&books(&["get", name, "--json"])), added, "still there");
    signal(&launcher.0, "-TERM");
    assert!(wait_for_exit(&mut launcher.0, Duration::from_secs(10)).success());
}
