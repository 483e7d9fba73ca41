//! Ports: a taken port stops `up` with one line naming the setting that moves it; moved ports
//! are served, and the clients inside follow them.

use std::process::{Command, Output};
use std::time::Duration;

use bookstore_testing::free_port_on;

use crate::launcher::{
    homepage_with_recommendations, launch_with, signal, up_command, wait_for_exit,
};

/// `bookstore up` on `host` with every port free but those `settings` set, run to its end.
pub(crate) fn up_with_taken_ports(
    host: &str,
    flags: &[&str],
    variables: &[(&str, String)],
) -> Output {
    let (mut command, _data) = up_command(host);
    for variable in EVERY_PORT {
        command.env(variable, "0");
    }
    command
        .args(flags)
        .envs(variables.iter().map(|(name, value)| (name, value)))
        .output()
        .unwrap()
}

/// Every variable that moves one of `bookstore up`'s ports.
pub(crate) const EVERY_PORT: [&str; 8] = [
    "MARKETPLACE_PORT",
    "NCR_GATEWAY_PORT",
    "RECOMMENDATIONS_PORT",
    "RECOMMENDATIONS_METRICS_PORT",
    "FACTORIAL_PORT",
    "FACTORIAL_METRICS_PORT",
    "DEMO_PORT",
    "DEMO_METRICS_PORT",
];

#[test]
pub(crate) fn a_port_in_use_stops_up_with_one_line_naming_the_setting_that_moves_it() {
    const TAKEN_HOST: &str = "127.0.0.4";
    let taken = std::net::TcpListener::bind((TAKEN_HOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();

    // Set by its variable, the marketplace's port.
    let output = up_with_taken_ports(TAKEN_HOST, &[], &[("MARKETPLACE_PORT", port.to_string())]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "bookstore: marketplace cannot listen on {TAKEN_HOST}:{port}: address already in use \
             — set MARKETPLACE_PORT (or --marketplace-port) to a free port\n"
        )
    );
    assert!(output.stdout.is_empty(), "nothing ran: {output:?}");

    // Set by its flag, an admin port.
    let flag = ["--factorial-metrics-port", &port.to_string()];
    let output = up_with_taken_ports(TAKEN_HOST, &flag, &[]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "bookstore: factorial cannot listen on {TAKEN_HOST}:{port} (metrics and health): \
             address already in use — set FACTORIAL_METRICS_PORT (or --factorial-metrics-port) to \
             a free port\n"
        )
    );
}

/// The port the banner gives in the line of `service`, after `prefix` (`grpc://host:`, say).
pub(crate) fn port_in(banner: &str, service: &str, prefix: &str) -> u16 {
    let line = banner
        .lines()
        .find(|line| line.trim_start().starts_with(service))
        .unwrap_or_else(|| panic!("no line for {service}: {banner}"));
    let after = line
        .split(prefix)
        .nth(1)
        .unwrap_or_else(|| panic!("{line}"));
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

#[tokio::test]
pub(crate) async fn moved_ports_are_served_and_the_clients_inside_follow_them() {
    const MOVED_HOST: &str = "127.0.0.8";
    let marketplace = free_port_on(MOVED_HOST);
    let metrics = free_port_on(MOVED_HOST);
    // Some by variable, some by flag, the rest anywhere free (0).
    let (mut launcher, _stdout, banner) = launch_with(
        MOVED_HOST,
        &["--recommendations-port", "0", "--factorial-port", "0"],
        &[
            ("MARKETPLACE_PORT", &marketplace.to_string()),
            ("NCR_GATEWAY_PORT", "0"),
            ("RECOMMENDATIONS_METRICS_PORT", &metrics.to_string()),
            ("FACTORIAL_METRICS_PORT", "0"),
            ("DEMO_PORT", "0"),
            ("DEMO_METRICS_PORT", "0"),
        ],
    );
    let http = format!("http://{MOVED_HOST}:");
    let grpc = format!("grpc://{MOVED_HOST}:");
    assert_eq!(
        port_in(&banner, "marketplace", &http),
        marketplace,
        "{banner}"
    );
    let gateway = port_in(&banner, "ncr-gateway", &http);
    let recommendations = port_in(&banner, "recommendations", &grpc);
    let factorial = port_in(&banner, "factorial", &grpc);
    let demo = port_in(&banner, "demo", &grpc);
    for port in [gateway, recommendations, factorial, demo] {
        assert!(
            port != 0 && ![5001, 50051, 50052, 50053].contains(&port),
            "{banner}"
        );
    }
    assert!(
        banner.contains(&format!("(metrics: {http}{metrics}/metrics)")),
        "{banner}"
    );

    // The marketplace calls Recommendations where it actually is, the gateway Factorial.
    homepage_with_recommendations(&format!("{http}{marketplace}/")).await;
    let ncr = reqwest::get(format!("{http}{gateway}/api/ncr/10/3"))
        .await
        .unwrap();
    assert_eq!(ncr.status(), 200);
    let metrics = reqwest::get(format!("{http}{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("grpc_server_handled_total"), "{metrics}");

    // `bookstore health` finds every service through the same settings.
    let health = Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .arg("health")
        .envs([
            ("MARKETPLACE_HOST", MOVED_HOST),
            ("NCR_GATEWAY_HOST", MOVED_HOST),
            ("RECOMMENDATIONS_HOST", MOVED_HOST),
            ("FACTORIAL_HOST", MOVED_HOST),
            ("DEMO_HOST", MOVED_HOST),
        ])
        .envs([
            ("MARKETPLACE_PORT", marketplace.to_string()),
            ("NCR_GATEWAY_PORT", gateway.to_string()),
            ("RECOMMENDATIONS_PORT", recommendations.to_string()),
            ("FACTORIAL_PORT", factorial.to_string()),
            ("DEMO_PORT", demo.to_string()),
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&health.stdout);
    assert!(health.status.success(), "{table}{health:?}");
    assert_eq!(table.matches(" serving ").count(), 5, "{table}");

    signal(&launcher.0, "-TERM");
    assert!(wait_for_exit(&mut launcher.0, Duration::from_secs(10)).success());
}
