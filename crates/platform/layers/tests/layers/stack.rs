//! Why each layer of the one server stack sits where it does, shown through a real server: every
//! status a layer inside decides — a panic, a refusal, a call shed under overload, the grace
//! deadline, the time limit, an injected fault, the size limit — reaches the client, is counted by the metrics and reported by the error log as
//! the client saw it (they sit outside it), and a panic's message reaches the error log through
//! the call's context (the context layer sits outside them all); a request that is not gRPC
//! reaches none of them (the content-type check sits outside them all). Dropping a layer, or
//! moving one outside the observers, fails one of these.

use std::sync::Arc;
use std::time::Duration;

use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use bookstore_serve::{FaultSettings, GrpcServer, ServeError, ServerSettings};
use bookstore_testing::{
    DUMMY, DummyService, RecordingReporter, Running, SpecialCases, WAIT, eventually, req, series,
    spawn,
};
use bookstore_tls::TlsSettings;
use http::StatusCode;
use tonic::Code;
use tonic::transport::Channel;

use crate::content_type::{framed, send_raw};

/// The dummy service on the whole stack, recording into fresh metrics and a recording reporter.
struct Stacked {
    running: Running<ServeError>,
    client: DummyServiceClient<Channel>,
    metrics: Metrics,
    reporter: Arc<RecordingReporter>,
}

async fn serve(settings: ServerSettings, tls: TlsSettings, cases: SpecialCases) -> Stacked {
    serve_with_faults(settings, tls, FaultSettings::default(), cases).await
}

/// As [`serve`], injecting `faults`.
async fn serve_with_faults(
    settings: ServerSettings,
    tls: TlsSettings,
    faults: FaultSettings,
    cases: SpecialCases,
) -> Stacked {
    let (metrics, reporter) = (Metrics::new(), Arc::new(RecordingReporter::new()));
    let server = GrpcServer::new(&settings, &metrics)
        .tls(&tls)
        .faults(&faults)
        .error_reporter(reporter.clone())
        .add_service(DummyServiceServer::new(DummyService::new(cases)));
    let running = spawn(|listeners, shutdown| server.serve(listeners, shutdown)).await;
    let client = DummyServiceClient::new(running.channel().await);
    Stacked {
        running,
        client,
        metrics,
        reporter,
    }
}

impl Stacked {
    /// Asserts that the metrics counted one `Execute` call with `code` and the error log
    /// reported it with that code, once the server has let go of the call.
    async fn assert_observed(&self, code: Code) {
        let handled = series(
            "grpc_server_handled_total",
            "unary",
            "Execute",
            Some(bookstore_layers::code_name(code)),
        );
        assert!(
            eventually(|| self.metrics.sample(&handled) == 1.0).await,
            "the metrics did not count {code:?}:\n{}",
            self.metrics.encode()
        );
        let reports = self.reporter.wait_for(1, WAIT).await;
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0].code, code, "{reports:?}");
        assert_eq!(reports[0].method, format!("/{DUMMY}/Execute"));
    }
}

#[tokio::test]
async fn a_panic_is_caught_counted_and_reported_with_its_message() {
    let cases = SpecialCases::new().panic("boom", "the handler's own words");
    let mut stacked = serve(ServerSettings::default(), TlsSettings::default(), cases).await;
    let status = stacked.client.execute(req("boom")).await.unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::Internal, "internal error")
    );
    stacked.assert_observed(Code::Internal).await;
    let reports = stacked.reporter.reports();
    assert_eq!(reports[0].panic.as_deref(), Some("the handler's own words"));
    stacked.running.stop_cleanly().await;
}

#[tokio::test]
async fn a_refused_client_is_counted_and_reported() {
    // An allow-list on a plaintext port: no caller can show a certificate, so every call but a
    // health check is refused.
    let tls = TlsSettings {
        allowed_clients: vec!["marketplace".to_owned()],
        ..TlsSettings::default()
    };
    let mut stacked = serve(ServerSettings::default(), tls, SpecialCases::new()).await;
    let status = stacked.client.execute(req("hi")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    stacked.assert_observed(Code::Unauthenticated).await;
    stacked.running.stop_cleanly().await;
}

#[tokio::test]
async fn a_shed_call_is_counted_and_reported() {
    let settings = ServerSettings {
        max_concurrent_calls: 1,
        ..ServerSettings::default()
    };
    let cases = SpecialCases::new().delay("slow", Duration::from_millis(300));
    let mut stacked = serve(settings, TlsSettings::default(), cases).await;
    let mut client = stacked.client.clone();
    let slow = tokio::spawn(async move { client.execute(req("slow")).await });
    let in_flight = "grpc_server_in_flight_requests";
    assert!(eventually(|| stacked.metrics.sample(in_flight) == 1.0).await);
    let status = stacked.client.execute(req("hi")).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    stacked.assert_observed(Code::ResourceExhausted).await;
    slow.await.unwrap().unwrap();
    stacked.running.stop_cleanly().await;
}

#[tokio::test]
async fn an_injected_fault_is_counted_and_reported() {
    let faults = FaultSettings {
        fault_abort_percent: 100,
        ..FaultSettings::default()
    };
    let mut stacked = serve_with_faults(
        ServerSettings::default(),
        TlsSettings::default(),
        faults,
        SpecialCases::new(),
    )
    .await;
    let status = stacked.client.execute(req("hi")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    stacked.assert_observed(Code::Unavailable).await;
    stacked.running.stop_cleanly().await;
}

#[tokio::test]
async fn the_time_limit_cuts_an_injected_delay_as_it_would_a_slow_handler() {
    let settings = ServerSettings {
        request_timeout: Duration::from_millis(100),
        ..ServerSettings::default()
    };
    let faults = FaultSettings {
        fault_delay: Some(Duration::from_secs(30)),
        ..FaultSettings::default()
    };
    let mut stacked = serve_with_faults(
        settings,
        TlsSettings::default(),
        faults,
        SpecialCases::new(),
    )
    .await;
    let status = stacked.client.execute(req("hi")).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    stacked.assert_observed(Code::DeadlineExceeded).await;
    stacked.running.stop_cleanly().await;
}

#[tokio::test]
async fn the_time_limit_is_counted_and_reported() {
    let settings = ServerSettings {
        request_timeout: Duration::from_millis(100),
        ..ServerSettings::default()
    };
    let cases = SpecialCases::new().hang("forever");
    let mut stacked = serve(settings, TlsSettings::default(), cases).await;
    let status = stacked.client.execute(req("forever")).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    stacked.assert_observed(Code::DeadlineExceeded).await;
    stacked.running.stop_cleanly().await;
}

#[tokio::test]
async fn the_size_limit_is_counted_and_reported() {
    let settings = ServerSettings {
        max_message_bytes: 64,
        ..ServerSettings::default()
    };
    let mut stacked = serve(settings, TlsSettings::default(), SpecialCases::new()).await;
    let status = stacked
        .client
        .execute(req(&"x".repeat(1000)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    stacked.assert_observed(Code::ResourceExhausted).await;
    stacked.running.stop_cleanly().await;
}

#[tokio::test]
async fn the_grace_deadline_is_counted_and_reported() {
    let settings = ServerSettings {
        grace_period: Duration::from_millis(200),
        ..ServerSettings::default()
    };
    let cases = SpecialCases::new().hang("stuck");
    let stacked = serve(settings, TlsSettings::default(), cases).await;
    let mut client = stacked.client.clone();
    let call = tokio::spawn(async move { client.execute(req("stuck")).await });
    let in_flight = "grpc_server_in_flight_requests";
    assert!(eventually(|| stacked.metrics.sample(in_flight) == 1.0).await);
    stacked.running.trigger_shutdown();
    let status = call.await.unwrap().unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::Unavailable, "the server is shutting down")
    );
    stacked.assert_observed(Code::Unavailable).await;
    stacked.running.stop_cleanly().await;
}

#[tokio::test]
async fn a_request_that_is_not_grpc_is_no_call_counted_or_reported() {
    let mut stacked = serve(
        ServerSettings::default(),
        TlsSettings::default(),
        SpecialCases::new(),
    )
    .await;
    let refused = send_raw(stacked.running.addr(), Some("text/plain"), framed("hi")).await;
    assert_eq!(refused.head.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A call after it: once the metrics count it, they would have counted the refused one.
    stacked.client.execute(req("hi")).await.unwrap();
    let handled = series("grpc_server_handled_total", "unary", "Execute", Some("OK"));
    assert!(eventually(|| stacked.metrics.sample(&handled) == 1.0).await);
    let started = series("grpc_server_started_total", "unary", "Execute", None);
    assert_eq!(
        stacked.metrics.sample(&started),
        1.0,
        "{}",
        stacked.metrics.encode()
    );
    let reports = stacked.reporter.reports();
    assert!(reports.is_empty(), "{reports:?}");
    stacked.running.stop_cleanly().await;
}
