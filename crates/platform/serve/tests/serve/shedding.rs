//! Overload shedding on a web app (`serve_http`): past the server's limit of requests in
//! progress, the next request is answered at once with 503, `Retry-After: 1` and a line saying
//! why, counted by the request metrics; `/healthz` and `/metrics` are still answered.

use std::sync::Arc;

use bookstore_layers::Metrics;
use bookstore_serve::{ServeError, ServerSettings, serve_http};
use bookstore_testing::{Running, eventually, spawn};
use tokio::sync::Notify;

/// A web app admitting one request at a time, where `/slow` waits until `release` is notified.
async fn serve_with_a_limit_of_one(release: Arc<Notify>) -> (Running<ServeError>, Metrics) {
    let make_app = move || {
        let release = release.clone();
        Ok(axum::Router::new()
            .route(
                "/slow",
                axum::routing::get(move || {
                    let release = release.clone();
                    async move {
                        release.notified().await;
                        "slow"
                    }
                }),
            )
            .route("/fast", axum::routing::get(|| async { "fast" }))
            .route("/healthz", axum::routing::get(|| async { "ok" })))
    };
    let settings = ServerSettings {
        max_concurrent_calls: 1,
        server_threads: 0,
        ..ServerSettings::default()
    };
    let metrics = Metrics::new();
    let serving = metrics.clone();
    let running = spawn(|listeners, shutdown| async move {
        serve_http(listeners.main, make_app, &serving, &settings, shutdown).await
    })
    .await;
    (running, metrics)
}

#[tokio::test]
async fn a_request_past_the_limit_gets_503_with_retry_after_and_probes_still_answer() {
    let release = Arc::new(Notify::new());
    let (running, metrics) = serve_with_a_limit_of_one(release.clone()).await;
    let url = running.url();
    let client = reqwest::Client::new();
    let slow = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move { client.get(format!("{url}/slow")).send().await?.text().await }
    });
    assert!(
        eventually(|| metrics.sample("http_requests_in_flight") == 1.0).await,
        "the slow request never started"
    );

    let refused = client.get(format!("{url}/fast")).send().await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.text().await.unwrap(),
        "server overloaded: 1 requests in progress (the limit, --max-concurrent-calls); \
         try again shortly\n"
    );
    assert!(
        !slow.is_finished(),
        "refused before the slow request finished"
    );
    let healthz = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(healthz.status(), reqwest::StatusCode::OK);
    let scrape = client.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(scrape.status(), reqwest::StatusCode::OK);

    release.notify_one();
    assert_eq!(slow.await.unwrap().unwrap(), "slow");
    let fast = client.get(format!("{url}/fast")).send().await.unwrap();
    assert_eq!(
        fast.text().await.unwrap(),
        "fast",
        "admitted again once the load is gone"
    );
    let series = r#"http_requests_total{method="GET",route="/fast",status="503"}"#;
    assert_eq!(metrics.sample(series), 1.0, "{}", metrics.encode());
    running.stop_cleanly().await;
}
