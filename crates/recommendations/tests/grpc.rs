//! The Recommendations service over a real gRPC channel on 127.0.0.1, both faces, every
//! category and every error case — and the binary refusing to start on a bad catalog.
//! `GetBook` and `SearchBooks` are in [`books`] and [`paging`] (modules, so the suite links once).

#[path = "grpc/books.rs"]
mod books;
#[path = "grpc/paging.rs"]
mod paging;

use std::collections::HashSet;
use std::process::Command;

use bookstore_proto::legacy;
use bookstore_proto::legacy::recommendations_client::RecommendationsClient;
use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bookstore_testing::{Running, spawn};
use recommendations::{Catalog, Category, Config, RunError};
use tonic::Code;

async fn start() -> Running<RunError> {
    spawn(|listeners, shutdown| recommendations::run(listeners, Config::default(), shutdown)).await
}

#[tokio::test]
async fn legacy_api_serves_the_tutorials_categories() {
    let server = start().await;
    let mut client = RecommendationsClient::new(server.channel().await);
    let catalog = Catalog::built_in().unwrap();
    for (value, category) in [
        (legacy::BookCategory::Mystery, Category::Mystery),
        (
            legacy::BookCategory::ScienceFiction,
            Category::ScienceFiction,
        ),
        (legacy::BookCategory::SelfHelp, Category::SelfHelp),
    ] {
        let ids: HashSet<i32> = catalog
            .books(category)
            .iter()
            .map(|b| b.id as i32)
            .collect();
        let request = legacy::RecommendationRequest {
            user_id: 1,
            category: value as i32,
            max_results: 3,
        };
        let books = client
            .recommend(request)
            .await
            .unwrap()
            .into_inner()
            .recommendations;
        assert_eq!(books.len(), 3);
        assert!(
            books.iter().all(|b| ids.contains(&b.id)),
            "{category:?}: {books:?}"
        );
        assert_eq!(
            books.iter().map(|b| b.id).collect::<HashSet<_>>().len(),
            3,
            "distinct"
        );
    }
    server.stop_cleanly().await;
}

#[tokio::test]
async fn legacy_api_errors() {
    let server = start().await;
    let mut client = RecommendationsClient::new(server.channel().await);
    let cases = [
        ((1, 7, 3), Code::NotFound, "Category not found"),
        ((1, -1, 3), Code::NotFound, "Category not found"),
        (
            (1, 0, -2),
            Code::InvalidArgument,
            "max_results must not be negative, got -2",
        ),
        (
            (-1, 0, 2),
            Code::InvalidArgument,
            "user_id must not be negative, got -1",
        ),
    ];
    for ((user_id, category, max_results), code, message) in cases {
        let request = legacy::RecommendationRequest {
            user_id,
            category,
            max_results,
        };
        let status = client.recommend(request).await.unwrap_err();
        assert_eq!((status.code(), status.message()), (code, message));
    }
    server.stop_cleanly().await;
}

#[tokio::test]
async fn v1_api_serves_every_category() {
    let server = start().await;
    let mut client = RecommendationsServiceClient::new(server.channel().await);
    let listed = client
        .list_categories(v1::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.categories.len(), Category::ALL.len());
    for summary in listed.categories {
        let request = v1::RecommendRequest {
            user_id: 7,
            category: summary.category,
            max_results: 4,
        };
        let books = client.recommend(request).await.unwrap().into_inner().books;
        assert_eq!(books.len(), 4.min(summary.book_count as usize));
        assert!(
            books
                .iter()
                .all(|b| b.category == summary.category && !b.title.is_empty())
        );
    }
    server.stop_cleanly().await;
}

#[tokio::test]
async fn v1_api_errors() {
    let server = start().await;
    let mut client = RecommendationsServiceClient::new(server.channel().await);
    let cases = [
        ((1, 0, 3), Code::InvalidArgument, "category is required"),
        ((1, 99, 3), Code::NotFound, "Category not found"),
        (
            (1, 1, -1),
            Code::InvalidArgument,
            "max_results must not be negative, got -1",
        ),
        (
            (-9, 1, 1),
            Code::InvalidArgument,
            "user_id must not be negative, got -9",
        ),
    ];
    for ((user_id, category, max_results), code, message) in cases {
        let request = v1::RecommendRequest {
            user_id,
            category,
            max_results,
        };
        let status = client.recommend(request).await.unwrap_err();
        assert_eq!((status.code(), status.message()), (code, message));
    }
    server.stop_cleanly().await;
}

#[tokio::test]
async fn a_seed_makes_the_server_reproducible() {
    async fn answers(seed: u64) -> Vec<i64> {
        let config = Config {
            seed: Some(seed),
            ..Config::default()
        };
        let server =
            spawn(|listeners, shutdown| recommendations::run(listeners, config, shutdown)).await;
        let mut client = RecommendationsServiceClient::new(server.channel().await);
        let mut ids = Vec::new();
        for _ in 0..4 {
            let request = v1::RecommendRequest {
                user_id: 1,
                category: 1,
                max_results: 3,
            };
            ids.extend(
                client
                    .recommend(request)
                    .await
                    .unwrap()
                    .into_inner()
                    .books
                    .iter()
                    .map(|b| b.id),
            );
        }
        server.stop_cleanly().await;
        ids
    }
    assert_eq!(answers(11).await, answers(11).await);
}

fn run_binary(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_recommendations"))
        .args(args)
        .env_remove("RECOMMENDATIONS_PORT")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_catalog_refuses_start_up_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let book = |id: u32, title: &str, category: &str| {
        format!(
            "[[book]]\nid = {id}\ntitle = \"{title}\"\nauthor = \"X\"\ncategory = \"{category}\"\nyear = 1\n"
        )
    };
    let cases = [
        (
            book(1, "A", "mystery") + &book(1, "B", "mystery"),
            "book id 1 appears more than once",
        ),
        (book(2, "", "mystery"), "book 2 has an empty title"),
        (
            book(3, "C", "poetry"),
            "book 3 has unknown category \"poetry\"",
        ),
        ("not toml at all [[".to_owned(), "is malformed"),
    ];
    for (i, (text, expected)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("catalog{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let (ok, stderr) = run_binary(&[
            "--port",
            "0",
            "--metrics-port",
            "0",
            "--catalog",
            path.to_str().unwrap(),
        ]);
        assert!(!ok, "must refuse to start");
        assert!(stderr.contains(expected), "{stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "one clear line: {stderr}"
        );
    }
    let (ok, stderr) = run_binary(&["--port", "0", "--catalog", "/nonexistent/catalog.toml"]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot read catalog /nonexistent/catalog.toml"),
        "{stderr}"
    );
}

#[test]
fn bad_flags_are_refused() {
    let (ok, stderr) = run_binary(&["--port", "seventy"]);
    assert!(!ok);
    assert!(stderr.contains("invalid value 'seventy'"), "{stderr}");
    let (ok, stderr) = run_binary(&["--grace-period", "forever"]);
    assert!(!ok);
    assert!(stderr.contains("--grace-period"), "{stderr}");
}
