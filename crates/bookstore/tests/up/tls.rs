//! `bookstore up --tls`: every gRPC hop over mutual TLS with certificates made for the run;
//! only the `admin` certificate may change the catalog.

use std::process::Command;
use std::time::Duration;

use crate::launcher::{homepage_with_recommendations, launch, signal, wait_for_exit};

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

    // `bookstore health` and `recommend` over mutual TLS, with the same flags. Every
    // certificate names localhost, whatever address it is dialled at.
    let tls = [
        "--upstream-ca".to_owned(),
        format!("{dir}/ca.pem"),
        "--upstream-cert".to_owned(),
        format!("{dir}/loadgen.pem"),
        "--upstream-key".to_owned(),
        format!("{dir}/loadgen.key"),
        "--upstream-server-name".to_owned(),
        "localhost".to_owned(),
    ];
    let hosts = [
        "MARKETPLACE_HOST",
        "NCR_GATEWAY_HOST",
        "RECOMMENDATIONS_HOST",
        "FACTORIAL_HOST",
        "DEMO_HOST",
    ]
    .map(|variable| (variable, TLS_HOST));
    let health = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .arg("health")
        .args(&tls)
        .envs(hosts)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&health.stdout);
    assert!(health.status.success(), "{table}{health:?}");
    assert_eq!(table.matches(" serving ").count(), 5, "{table}");
    let recommend = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .args(["recommend", "--json"])
        .args(&tls)
        .envs(hosts)
        .output()
        .unwrap();
    assert!(recommend.status.success(), "{recommend:?}");
    let books: serde_json::Value = serde_json::from_slice(&recommend.stdout).unwrap();
    assert_eq!(books["books"].as_array().unwrap().len(), 3, "{books}");

    // Only the admin certificate may change the catalog; any other may read it.
    let add_as = |identity: &str| {
        Command::new(env!("CARGO_BIN_EXE_bookstore"))
            .args([
                "books",
                "add",
                "--title",
                "Gaudy Night",
                "--author",
                "Dorothy L. Sayers",
            ])
            .args(["--category", "mystery", "--year", "1935"])
            .args(["--upstream-ca", &format!("{dir}/ca.pem")])
            .args(["--upstream-cert", &format!("{dir}/{identity}.pem")])
            .args(["--upstream-key", &format!("{dir}/{identity}.key")])
            .args(["--upstream-server-name", "recommendations"])
            .env("RECOMMENDATIONS_HOST", TLS_HOST)
            .output()
            .unwrap()
    };
    let forbidden = add_as("loadgen");
    assert_eq!(forbidden.status.code(), Some(1), "{forbidden:?}");
    let line = String::from_utf8_lossy(&forbidden.stderr);
    assert!(
        line.starts_with("bookstore: recommendations answered PERMISSION_DENIED: "),
        "{line}"
    );
    let added = add_as("admin");
    assert!(added.status.success(), "{added:?}");
    assert!(String::from_utf8_lossy(&added.stdout).starts_with("books/"));

    signal(&launcher.0, "-TERM");
    assert!(wait_for_exit(&mut launcher.0, Duration::from_secs(10)).success());
    assert!(
        !std::path::Path::new(&dir).exists(),
        "the run's certificates are deleted"
    );
}
