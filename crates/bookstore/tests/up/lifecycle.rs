//! The system's life: up, the tutorial's integration test, a graceful stop; and one request id
//! logged by both services of a page view.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::launcher::{
    HOST, Launcher, homepage_with_recommendations, launch, signal, up_command, wait_for_exit,
};

#[tokio::test]
async fn up_runs_the_system_and_stops_gracefully() {
    let (mut launcher, mut stdout, banner) = launch(HOST, &[]);
    assert!(banner.contains(&format!("http://{HOST}:5000/")), "{banner}");
    assert!(banner.contains(&format!("grpc://{HOST}:50051")), "{banner}");
    assert!(banner.contains(&format!("http://{HOST}:5001/")), "{banner}");

    // The tutorial's marketplace_integration_test, against the real system.
    let url = format!("http://{HOST}:5000/");
    let deadline = Instant::now() + Duration::from_secs(20);
    let html = loop {
        match reqwest::get(&url).await {
            Ok(response) if response.status() == 200 => {
                let html = response.text().await.unwrap();
                if html.matches("<li>").count() == 3 {
                    break html;
                }
            }
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "the homepage never showed recommendations"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(html.contains("<title>Online Books For You</title>"));
    let mystery = [
        "The Maltese Falcon",
        "Murder on the Orient Express",
        "The Hound of the Baskervilles",
    ];
    let sci_fi = reqwest::get(format!("{url}?category=science_fiction"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sci_fi.contains("Science fiction books you may like"));
    assert!(
        mystery.iter().all(|title| !sci_fi.contains(title)),
        "only science fiction is shown"
    );
    let metrics = reqwest::get(format!("http://{HOST}:9101/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("grpc_server_handled_total{grpc_type=\"unary\",grpc_service=\"bookstore.recommendations.v1.RecommendationsService\",grpc_method=\"Recommend\",grpc_code=\"OK\"}"), "{metrics}");

    // The nCr gateway over the factorial service.
    let ncr = reqwest::get(format!("http://{HOST}:5001/api/ncr/10/3"))
        .await
        .unwrap();
    assert_eq!(ncr.status(), 200);
    let ncr = ncr.text().await.unwrap();
    assert!(
        ncr.contains(r#""ncr":120"#) && ncr.contains(r#""msg":"Success""#),
        "{ncr}"
    );

    // The demo service, through `bookstore demo`.
    let demo = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .args([
            "demo",
            "--server",
            &format!("http://{HOST}:50053"),
            "unary",
            "Hello Server! Are you listening?",
        ])
        .output()
        .unwrap();
    assert!(demo.status.success(), "{demo:?}");
    let demo = String::from_utf8_lossy(&demo.stdout);
    assert!(
        demo.contains("Hello Server! Are you listening?") && demo.contains("received"),
        "{demo}"
    );

    signal(&launcher.0, "-TERM");
    let status = wait_for_exit(&mut launcher.0, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(rest.contains("stopped"), "{rest}");
}

#[tokio::test]
async fn one_request_id_is_logged_by_the_marketplace_and_recommendations() {
    const LOG_HOST: &str = "127.0.0.7";
    let log = tempfile::NamedTempFile::new().unwrap();
    let (mut command, data) = up_command(LOG_HOST);
    let child = command
        .env("RUST_LOG", "debug,h2=info,hyper=info")
        .stdout(Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut launcher = Launcher(child, Some(data));
    let url = format!("http://{LOG_HOST}:5000/");
    homepage_with_recommendations(&url).await;
    let response = reqwest::Client::new()
        .get(&url)
        .header("x-request-id", "trace-me-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-4711");
    signal(&launcher.0, "-TERM");
    assert!(wait_for_exit(&mut launcher.0, Duration::from_secs(10)).success());

    let logs = std::fs::read_to_string(log.path()).unwrap();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("trace-me-4711"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line.contains(" marketplace access: request") && line.contains("route=/ ")),
        "the marketplace's access log names the service and the id: {lines:#?}"
    );
    assert!(
        lines.iter().any(|line| line.contains(" recommendations ")
            && line.contains("gRPC call succeeded")
            && line.contains("/bookstore.recommendations.v1.RecommendationsService/Recommend")),
        "recommendations logs the same id, naming itself: {lines:#?}"
    );
}
