//! Traces across every hop, end to end: the services run as separate processes (`bookstore
//! serve ...`), exporting over OTLP/gRPC to a receiver in this test, and the spans they send
//! form the trees the semantic conventions describe — one trace id from the caller through both
//! services, every SERVER span the child of the CLIENT span that called it, the gateway's three
//! factorial calls three siblings, a failing call's status code recorded — and the log lines
//! written inside those calls carry their trace and span ids.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bookstore_testing::{OtlpReceiver, ReceivedSpan, free_port};

/// The caller's own trace: every span below must carry its trace id.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// A service process, killed if the test ends early.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where a service's log lines (JSON) go: a file of this test's own.
fn log_file(service: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "bookstore-traces-{}-{service}.log",
        std::process::id()
    ))
}

/// `bookstore serve SERVICE FLAGS...`, exporting to `endpoint`, logging JSON to `log_file`.
fn serve(endpoint: &str, service: &str, flags: &[String]) -> Process {
    let log = std::fs::File::create(log_file(service)).unwrap();
    Process(
        Command::new(env!("CARGO_BIN_EXE_bookstore"))
            .args(["serve", service, "--host", "127.0.0.1"])
            .args(flags)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            .env("OTEL_BSP_SCHEDULE_DELAY", "50")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env_remove("OTEL_SERVICE_NAME")
            .env_remove("OTEL_SDK_DISABLED")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

/// The log lines of `service` so far, parsed; the file is removed.
fn log_lines(service: &str) -> Vec<serde_json::Value> {
    let path = log_file(service);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(Path::new(&path));
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

/// Waits until `url` answers 200 with everything behind it up (the processes start side by
/// side; the homepage is 200 with a notice until Recommendations answers). Untraced, so the
/// attempts leave no spans in the caller's trace.
async fn wait_until_up(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = http.get(url).send().await
            && response.status() == 200
            && !response.text().await.unwrap().contains("unavailable")
        {
            return;
        }
        assert!(Instant::now() < deadline, "{url} never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GETs `url` as a call inside the caller's trace.
async fn traced_get(http: &reqwest::Client, url: &str) -> String {
    let response = http
        .get(url)
        .header("traceparent", traceparent())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{CALLER_SPAN}-01")
}

fn find(spans: &[ReceivedSpan], what: impl Fn(&ReceivedSpan) -> bool) -> Vec<&ReceivedSpan> {
    spans.iter().filter(|span| what(span)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_crosses_every_hop() {
    let receiver = OtlpReceiver::start().await;
    let endpoint = receiver.endpoint();
    let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
    let flag = |name: &str, port: u16| [format!("--{name}"), port.to_string()];
    let (recommendations, factorial) = (ports[0], ports[1]);
    let (marketplace, gateway) = (ports[2], ports[3]);
    let _processes = [
        serve(
            &endpoint,
            "recommendations",
            &[
                flag("port", recommendations),
                flag("metrics-port", ports[4]),
            ]
            .concat(),
        ),
        serve(
            &endpoint,
            "factorial",
            &[flag("port", factorial), flag("metrics-port", ports[5])].concat(),
        ),
        serve(
            &endpoint,
            "marketplace",
            &[
                flag("port", marketplace),
                flag("recommendations-port", recommendations),
                ["--recommendations-host".into(), "127.0.0.1".into()],
            ]
            .concat(),
        ),
        serve(
            &endpoint,
            "ncr-gateway",
            &[
                flag("port", gateway),
                flag("factorial-port", factorial),
                ["--factorial-host".into(), "127.0.0.1".into()],
            ]
            .concat(),
        ),
    ];

    let http = reqwest::Client::new();
    let (homepage, ncr) = (
        format!("http://127.0.0.1:{marketplace}/"),
        format!("http://127.0.0.1:{gateway}/api/ncr/10/3"),
    );
    wait_until_up(&http, &homepage).await;
    wait_until_up(&http, &ncr).await;
    let homepage = traced_get(&http, &homepage).await;
    assert_eq!(homepage.matches("<li>").count(), 3, "{homepage}");
    let ncr = traced_get(&http, &ncr).await;
    assert!(ncr.contains("\"ncr\":120"), "{ncr}");
    // A call that fails: no category, with the caller's trace context.
    let mut client =
        RecommendationsServiceClient::connect(format!("http://127.0.0.1:{recommendations}"))
            .await
            .unwrap();
    let mut failing = tonic::Request::new(v1::RecommendRequest::default());
    failing
        .metadata_mut()
        .insert("traceparent", traceparent().parse().unwrap());
    let status = client.recommend(failing).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    // Everything the calls above made, once exported: the homepage (SERVER, CLIENT, SERVER),
    // the nCr call (SERVER, 3 CLIENT, 3 SERVER) and the failing call (SERVER).
    let in_trace = |spans: &[ReceivedSpan]| {
        spans
            .iter()
            .filter(|span| span.trace_id == TRACE_ID)
            .count()
    };
    let spans = receiver
        .wait_until(Duration::from_secs(20), |spans| in_trace(spans) >= 11)
        .await;
    let spans: Vec<ReceivedSpan> = spans
        .into_iter()
        .filter(|span| span.trace_id == TRACE_ID)
        .collect();
    assert_eq!(spans.len(), 11, "{spans:#?}");

    // The homepage: the marketplace's SERVER span is the caller's child; its CLIENT span to
    // Recommendations is the SERVER span's parent there.
    let page = find(&spans, |s| {
        s.service == "marketplace" && s.kind == ReceivedSpan::SERVER
    });
    assert_eq!(page.len(), 1, "{spans:#?}");
    let page = page[0];
    assert_eq!(page.name, "GET /");
    assert_eq!(page.parent_span_id, CALLER_SPAN);
    assert_eq!(page.attribute("http.route"), Some("/"));
    assert_eq!(page.attribute("http.request.method"), Some("GET"));
    assert_eq!(page.attribute("http.response.status_code"), Some("200"));
    let call = find(&spans, |s| {
        s.service == "marketplace" && s.kind == ReceivedSpan::CLIENT
    });
    assert_eq!(call.len(), 1, "{spans:#?}");
    assert_eq!(call[0].parent_span_id, page.span_id);
    assert_eq!(call[0].attribute("rpc.system"), Some("grpc"));
    assert_eq!(call[0].attribute("rpc.grpc.status_code"), Some("0"));
    let served = find(&spans, |s| {
        s.service == "recommendations" && s.parent_span_id == call[0].span_id
    });
    assert_eq!(served.len(), 1, "{spans:#?}");
    assert_eq!(served[0].kind, ReceivedSpan::SERVER);
    assert_eq!(
        served[0].name,
        "bookstore.recommendations.v1.RecommendationsService/Recommend"
    );
    assert_eq!(served[0].attribute("rpc.method"), Some("Recommend"));

    // The nCr call: three sibling CLIENT spans under the gateway's SERVER span, each the parent
    // of one SERVER span in the factorial service.
    let request = find(&spans, |s| {
        s.service == "ncr-gateway" && s.kind == ReceivedSpan::SERVER
    });
    assert_eq!(request.len(), 1, "{spans:#?}");
    assert_eq!(request[0].name, "GET /api/ncr/{n}/{r}");
    let calls = find(&spans, |s| {
        s.service == "ncr-gateway" && s.kind == ReceivedSpan::CLIENT
    });
    assert_eq!(calls.len(), 3, "{spans:#?}");
    for call in &calls {
        assert_eq!(call.parent_span_id, request[0].span_id);
        assert_eq!(
            call.name,
            "bookstore.factorial.v1.FactorialService/Factorial"
        );
        let served = find(&spans, |s| {
            s.service == "factorial" && s.parent_span_id == call.span_id
        });
        assert_eq!(served.len(), 1, "{spans:#?}");
        assert_eq!(served[0].attribute("rpc.grpc.status_code"), Some("0"));
    }

    // The failing call: the caller's child, with its code; INVALID_ARGUMENT is the client's
    // doing, so the server's span is not an error.
    let failed = find(&spans, |s| {
        s.service == "recommendations" && s.parent_span_id == CALLER_SPAN
    });
    assert_eq!(failed.len(), 1, "{spans:#?}");
    assert_eq!(failed[0].attribute("rpc.grpc.status_code"), Some("3"));
    assert_ne!(failed[0].status, ReceivedSpan::ERROR);

    // The trace ids are the log's, not the spans' attributes.
    for span in &spans {
        assert!(
            span.attribute("trace_id").is_none() && span.attribute("span_id").is_none(),
            "{span:#?}"
        );
    }

    // The log lines written inside those calls name them: the homepage's access-log line its
    // SERVER span, the failing call's error line the recommendations SERVER span.
    let lines = log_lines("marketplace");
    let access: Vec<_> = lines
        .iter()
        .filter(|line| line["target"] == "access" && line["trace_id"] == TRACE_ID)
        .collect();
    assert_eq!(access.len(), 1, "{lines:#?}");
    assert_eq!(access[0]["path"], "/");
    assert_eq!(access[0]["span_id"], page.span_id.as_str());
    assert_eq!(access[0]["service"], "marketplace");
    let lines = log_lines("recommendations");
    let error: Vec<_> = lines
        .iter()
        .filter(|line| line["message"] == "gRPC call failed")
        .collect();
    assert_eq!(error.len(), 1, "{lines:#?}");
    assert_eq!(error[0]["trace_id"], TRACE_ID, "{lines:#?}");
    assert_eq!(error[0]["span_id"], failed[0].span_id.as_str());
    assert_eq!(error[0]["code"], "InvalidArgument");

    // The latency histograms lead to the trace: an OpenMetrics exemplar with its id.
    let metrics = http
        .get(format!("http://127.0.0.1:{}/metrics", ports[4]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let exemplar = format!("# {{trace_id=\"{TRACE_ID}\"}}");
    assert!(
        metrics.lines().any(
            |line| line.starts_with("grpc_server_handling_seconds_bucket")
                && line.contains(&exemplar)
        ),
        "no exemplar of the trace in\n{metrics}"
    );
}
