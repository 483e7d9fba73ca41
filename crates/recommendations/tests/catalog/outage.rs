//! The database going away and coming back (PostgreSQL behind a [`Gate`] the test closes and
//! opens; an SQLite file cannot go away): reads go on from the snapshot, health stays SERVING,
//! writes fail at once with UNAVAILABLE, the metric says so, and writes resume by themselves.
//! A replica started while its database is away waits, NOT_SERVING, and serves once it is back.

use std::net::SocketAddr;
use std::time::Duration;

use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bookstore_proto::recommendations::v1::{Category, RecommendRequest};
use bookstore_testing::{Gate, Running, TestDatabase, within};
use recommendations::RunError;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::{book, client, serve};

/// `url` with its host and port replaced by `addr`, and the address it named.
async fn through(url: &str, addr: SocketAddr) -> (String, SocketAddr) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
    let (host_port, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let upstream = tokio::net::lookup_host(host_port)
        .await
        .unwrap()
        .next()
        .unwrap();
    let at = if credentials.is_empty() {
        String::new()
    } else {
        format!("{credentials}@")
    };
    (format!("{scheme}://{at}{addr}/{path}"), upstream)
}

/// A PostgreSQL database behind a gate, or `None` (skipped).
async fn gated() -> Option<(TestDatabase, Gate, String)> {
    let database = TestDatabase::postgres().await?;
    let (_, upstream) = through(database.url(), "127.0.0.1:1".parse().unwrap()).await;
    let gate = Gate::start(upstream).await;
    let (url, _) = through(database.url(), gate.addr).await;
    Some((database, gate, url))
}

async fn health(server: &Running<RunError>) -> ServingStatus {
    let mut health = HealthClient::new(server.channel().await);
    let response = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    ServingStatus::try_from(response.status).unwrap()
}

async fn recommend(server: &Running<RunError>) -> Result<usize, tonic::Status> {
    let mut client = RecommendationsServiceClient::new(server.channel().await);
    let request = RecommendRequest {
        user_id: 1,
        category: Category::Mystery.into(),
        max_results: 3,
    };
    Ok(client.recommend(request).await?.into_inner().books.len())
}

/// The value of the `catalog_database_up` gauge on `server`'s metrics endpoint.
async fn database_up(server: &Running<RunError>) -> Option<f64> {
    let mut stream = tokio::net::TcpStream::connect(server.admin_addr())
        .await
        .ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .await
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await.ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("catalog_database_up "))
        .and_then(|value| value.trim().parse().ok())
}

/// Polls `condition` every 50 ms for up to 15 s.
async fn until<F: Future<Output = bool>>(what: &str, mut condition: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn reads_go_on_while_the_database_is_away_and_writes_resume_when_it_is_back() {
    let Some((_database, gate, url)) = gated().await else {
        return;
    };
    let server = serve(&url).await;
    let mut catalog = client(&server).await;
    crate::create(
        &mut catalog,
        book(
            "The Franchise Affair",
            "Josephine Tey",
            Category::Mystery,
            1948,
        ),
    )
    .await;
    assert_eq!(database_up(&server).await, Some(1.0));

    gate.close();
    until("the replica notices the database is away", || async {
        database_up(&server).await == Some(0.0)
    })
    .await;
    assert_eq!(
        recommend(&server).await.unwrap(),
        3,
        "reads from the snapshot"
    );
    assert_eq!(health(&server).await, ServingStatus::Serving);
    let refused = within(
        "a write while the database is away",
        catalog.create_book(bookstore_proto::catalog::v1::CreateBookRequest {
            book: Some(book(
                "A Shilling for Candles",
                "Josephine Tey",
                Category::Mystery,
                1936,
            )),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(
        refused.message().contains("unreachable"),
        "{}",
        refused.message()
    );

    gate.open();
    until("writes succeed again", || {
        let mut catalog = catalog.clone();
        async move {
            catalog
                .create_book(bookstore_proto::catalog::v1::CreateBookRequest {
                    book: Some(book(
                        "A Shilling for Candles",
                        "Josephine Tey",
                        Category::Mystery,
                        1936,
                    )),
                })
                .await
                .is_ok()
        }
    })
    .await;
    assert_eq!(database_up(&server).await, Some(1.0));
    server.stop_cleanly().await;
}

#[tokio::test]
async fn a_replica_started_without_its_database_waits_not_serving() {
    let Some((_database, gate, url)) = gated().await else {
        return;
    };
    gate.close();
    let server = serve(&url).await;
    until("the server answers health checks", || async {
        HealthClient::new(server.channel().await)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .is_ok()
    })
    .await;
    assert_eq!(health(&server).await, ServingStatus::NotServing);
    let waiting = recommend(&server).await.unwrap_err();
    assert_eq!(waiting.code(), Code::Unavailable);
    assert!(
        waiting.message().contains("not loaded yet"),
        "{}",
        waiting.message()
    );

    gate.open();
    until("the replica serves once its database answers", || async {
        health(&server).await == ServingStatus::Serving
    })
    .await;
    assert_eq!(recommend(&server).await.unwrap(), 3);
    server.stop_cleanly().await;
}
