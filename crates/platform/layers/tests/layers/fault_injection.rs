//! Fault injection through a real server: with every call aborted, every call fails with the
//! configured code and message while health checks still say SERVING; with every call
//! delayed, a call takes at least the delay; with no faults asked for, nothing is injected.
//! Each fault is counted, and an aborted call is reported like any failure.

use std::time::{Duration, Instant};

use bookstore_layers::{ABORT_MESSAGE, Metrics};
use bookstore_serve::{FaultSettings, ServerSettings};
use bookstore_testing::{DUMMY, SpecialCases, WAIT, assert_status, collect, req};
use tonic::Code;

use crate::{PlatformServer, serve_on_platform};
use tonic_health::pb::health_check_response::ServingStatus;

async fn serve_with(faults: FaultSettings) -> PlatformServer {
    serve_on_platform(&ServerSettings::default(), &faults, SpecialCases::new()).await
}

/// The count of `fault` injected into `Execute`.
fn injected(metrics: &Metrics, method: &str, fault: &str) -> f64 {
    metrics.sample(&format!(
        r#"grpc_server_injected_faults_total{{grpc_service="{DUMMY}",grpc_method="{method}",fault="{fault}"}}"#
    ))
}

#[tokio::test]
async fn with_every_call_aborted_every_call_fails_but_health_still_serves() {
    let mut server = serve_with(FaultSettings {
        fault_abort_percent: 100,
        fault_abort_code: bookstore_layers::parse_abort_code("aborted").unwrap(),
        ..FaultSettings::default()
    })
    .await;
    for _ in 0..3 {
        let status = server.client.execute(req("hi")).await.unwrap_err();
        assert_status(&status, Code::Aborted, ABORT_MESSAGE);
    }
    let streamed = collect(server.client.execute_server_stream(req("hi")).await).await;
    assert_status(&streamed.unwrap_err(), Code::Aborted, ABORT_MESSAGE);

    let health = crate::dummy_health(server.running.channel().await).await;
    assert_eq!(health, ServingStatus::Serving);

    assert_eq!(injected(&server.metrics, "Execute", "abort"), 3.0);
    assert_eq!(
        injected(&server.metrics, "ExecuteServerStream", "abort"),
        1.0
    );
    assert_eq!(injected(&server.metrics, "Execute", "delay"), 0.0);
    let reports = server.reporter.wait_for(4, WAIT).await;
    assert_eq!(reports.len(), 4, "{reports:?}");
    assert!(
        reports
            .iter()
            .all(|report| report.code == Code::Aborted && report.message == ABORT_MESSAGE),
        "{reports:?}"
    );
    server.running.stop_cleanly().await;
}

#[tokio::test]
async fn with_every_call_delayed_a_call_takes_at_least_the_delay() {
    let delay = Duration::from_millis(200);
    let mut server = serve_with(FaultSettings {
        fault_delay: Some(delay),
        ..FaultSettings::default()
    })
    .await;
    let started = Instant::now();
    let reply = server.client.execute(req("hi")).await.unwrap();
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
    assert_eq!(
        reply.into_inner().output,
        "hi",
        "a delayed call still succeeds"
    );
    assert_eq!(injected(&server.metrics, "Execute", "delay"), 1.0);
    assert_eq!(injected(&server.metrics, "Execute", "abort"), 0.0);
    server.running.stop_cleanly().await;
}

#[tokio::test]
async fn without_faults_nothing_is_injected_or_registered() {
    for faults in [
        FaultSettings::default(),
        FaultSettings {
            fault_delay: Some(Duration::from_secs(5)),
            fault_delay_percent: Some(0),
            ..FaultSettings::default()
        },
    ] {
        let mut server = serve_with(faults.clone()).await;
        for _ in 0..20 {
            let reply = server.client.execute(req("hi")).await.unwrap();
            assert_eq!(reply.into_inner().output, "hi", "{faults:?}");
        }
        assert!(
            !server
                .metrics
                .encode()
                .contains("grpc_server_injected_faults"),
            "{faults:?}: {}",
            server.metrics.encode()
        );
        assert!(server.reporter.reports().is_empty());
        server.running.stop_cleanly().await;
    }
}
