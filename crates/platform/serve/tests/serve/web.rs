//! Serving a web app (`serve_http`): on server threads each thread builds its own app — so
//! the gRPC channels an app owns live on the thread that uses them — and connections are spread
//! over the threads; on the caller's runtime the app is built once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bookstore_layers::Metrics;
use bookstore_serve::{ServeError, ServerSettings, serve_http};
use bookstore_testing::{Running, spawn};

/// Serves an app answering `GET /thread` with the name of the thread that served it; returns
/// the running server and how many apps were built.
async fn serve(threads: usize) -> (Running<ServeError>, Arc<AtomicUsize>) {
    let built = Arc::new(AtomicUsize::new(0));
    let make_app = {
        let built = built.clone();
        move || {
            built.fetch_add(1, Ordering::SeqCst);
            Ok(axum::Router::new().route(
                "/thread",
                axum::routing::get(|| async {
                    std::thread::current().name().unwrap_or("?").to_owned()
                }),
            ))
        }
    };
    let settings = ServerSettings {
        server_threads: threads,
        ..ServerSettings::default()
    };
    let running = spawn(|listeners, shutdown| async move {
        serve_http(
            listeners.main,
            make_app,
            &Metrics::new(),
            &settings,
            shutdown,
        )
        .await
    })
    .await;
    (running, built)
}

/// The thread that served a request on a new connection.
async fn thread_of_a_new_connection(addr: std::net::SocketAddr) -> String {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let response = client
        .get(format!("http://{addr}/thread"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{response:?}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn each_server_thread_builds_its_own_app_and_takes_its_turn() {
    let (server, built) = serve(2).await;
    let addr = server.addr();
    let mut threads = Vec::new();
    for _ in 0..4 {
        threads.push(thread_of_a_new_connection(addr).await);
    }
    assert_eq!(threads, ["http-0", "http-1", "http-0", "http-1"]);
    assert_eq!(built.load(Ordering::SeqCst), 2);
    server.stop_cleanly().await;
}

#[tokio::test]
async fn on_the_callers_runtime_the_app_is_built_once() {
    let (server, built) = serve(0).await;
    let addr = server.addr();
    for _ in 0..2 {
        let thread = thread_of_a_new_connection(addr).await;
        assert!(!thread.starts_with("http-"), "{thread}");
    }
    assert_eq!(built.load(Ordering::SeqCst), 1);
    server.stop_cleanly().await;
}
