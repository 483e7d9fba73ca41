//! End to end: `bookstore up` as a real process, the tutorial's integration test against it,
//! then a graceful stop on SIGTERM. It listens on its own loopback address (127.0.0.3) so it
//! cannot collide with anything a developer runs on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HOST: &str = "127.0.0.3";

struct Launcher(Child);

impl Drop for Launcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_for_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `bookstore up` on `host` with `extra` flags; returns it and its banner once it is up.
fn launch(host: &str, extra: &[&str]) -> (Launcher, BufReader<std::process::ChildStdout>, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .args(["up", "--host", host])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut launcher = Launcher(child);
    let mut stdout = BufReader::new(launcher.0.stdout.take().unwrap());
    let mut banner = String::new();
    while !banner.contains("Press Ctrl+C") {
        assert!(
            stdout.read_line(&mut banner).unwrap() > 0,
            "launcher exited early: {banner}"
        );
    }
    (launcher, stdout, banner)
}

/// The homepage once it shows three recommendations (the services start side by side).
async fn homepage_with_recommendations(url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = reqwest::get(url).await
            && response.status() == 200
        {
            let html = response.text().await.unwrap();
            if html.matches("<li>").count() == 3 {
                return html;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the homepage never showed recommendations"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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

#[test]
fn a_port_in_use_fails_fast_with_a_clear_message() {
    let _taken = std::net::TcpListener::bind(("127.0.0.4", 5000)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .args(["up", "--host", "127.0.0.4"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot listen on 127.0.0.4:5000"),
        "{stderr}"
    );
}

#[tokio::test]
async fn up_with_tls_runs_every_grpc_hop_over_mutual_tls() {
    const TLS_HOST: &str = "127.0.0.6";
    let (mut launcher, _stdout, banner) = launch(TLS_HOST, &["--tls"]);
    assert!(banner.contains("mutual TLS"), "{banner}");

    // Marketplace -> Recommendations and gateway -> Factorial, both over mutual TLS.
    let html = homepage_with_recommendations(&format!("http://{TLS_HOST}:5000/")).await;
    assert!(html.contains("<title>Online Books For You</title>"));
    let ncr = reqwest::get(format!("http://{TLS_HOST}:5001/api/ncr/10/3"))
        .await
        .unwrap();
    assert_eq!(ncr.status(), 200);
    assert!(ncr.text().await.unwrap().contains(r#""ncr":120"#));

    // A plaintext gRPC client is turned away at the door.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{TLS_HOST}:50051"))
        .unwrap()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .connect_lazy();
    let request = bookstore_proto::legacy::RecommendationRequest {
        user_id: 1,
        category: 0,
        max_results: 3,
    };
    let refused =
        bookstore_proto::legacy::recommendations_client::RecommendationsClient::new(channel)
            .recommend(request)
            .await;
    assert!(
        refused.is_err(),
        "plaintext must not reach a mutual-TLS port"
    );

    // `bookstore demo` over mutual TLS, with the certificates this run generated.
    let dir = banner
        .lines()
        .find_map(|line| line.split("certificates are in ").nth(1))
        .expect("the banner names the certificates' directory")
        .trim()
        .to_owned();
    let demo = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .args(["demo", "--server", &format!("{TLS_HOST}:50053")])
        .args(["--upstream-ca", &format!("{dir}/ca.pem")])
        .args(["--upstream-cert", &format!("{dir}/loadgen.pem")])
        .args(["--upstream-key", &format!("{dir}/loadgen.key")])
        .args(["--upstream-server-name", "demo", "unary", "over mTLS"])
        .output()
        .unwrap();
    assert!(demo.status.success(), "{demo:?}");
    assert!(String::from_utf8_lossy(&demo.stdout).contains("over mTLS"));

    signal(&launcher.0, "-TERM");
    assert!(wait_for_exit(&mut launcher.0, Duration::from_secs(10)).success());
    assert!(
        !std::path::Path::new(&dir).exists(),
        "the run's certificates are deleted"
    );
}

#[tokio::test]
async fn one_request_id_is_logged_by_the_marketplace_and_recommendations() {
    const LOG_HOST: &str = "127.0.0.7";
    let log = tempfile::NamedTempFile::new().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .args(["up", "--host", LOG_HOST])
        .env("RUST_LOG", "debug,h2=info,hyper=info")
        .stdout(Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut launcher = Launcher(child);
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
