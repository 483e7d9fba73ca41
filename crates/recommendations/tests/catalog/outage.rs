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

/// The recommendations service's health status.
async fn health(server: &Running<RunError>) -> ServingStatus {
    health_of(
        server,
        "bookstore.recommendations.v1.RecommendationsService",
    )
    .await
}

/// The health status of `service` ("" for the server as a whole).
async fn health_of(server: &Running<RunError>, service: &str) -> ServingStatus {
    let mut health = HealthClient::new(server.channel().await);
    let response = health
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    ServingStatus::try_from(response.status).unwrap()
}

/// The status code of `GET path` on `server`'s admin endpoint.
async fn admin_status(server: &Running<RunError>, path: &str) -> Option<u16> {
    admin_get(server, path)
        .await?
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
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

/// The response to `GET path` on `server`'s admin endpoint, status line and all.
async fn admin_get(server: &Running<RunError>, path: &str) -> Option<String> {
    let mut stream = tokio::net::TcpStream::connect(server.admin_addr())
        .await
        .ok()?;
    let request = format!("GET {path} HTTP/1.0\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await.ok()?;
    Some(text)
}

/// The value of the `catalog_database_up` gauge on `server`'s metrics endpoint.
async fn database_up(server: &Running<RunError>) -> Option<f64> {
    admin_get(server, "/metrics")
        .await?
        .lines()
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
    // A write before the replica has noticed: its connections are cut under it.
    let first = catalog
        .create_book(bookstore_proto::catalog::v1::CreateBookRequest {
            book: Some(book(
                "The Man in the Queue",
                "Josephine Tey",
                Category::Mystery,
                1929,
            )),
        })
        .await
        .unwrap_err();
    assert_eq!(first.code(), Code::Unavailable, "{first:?}");
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
    assert_eq!(admin_status(&server, "/readyz").await, Some(200));
    // Once it has noticed, writes fail at once, without waiting for a connection.
    let started = std::time::Instant::now();
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
    assert!(
        started.elapsed() < recommendations::database::ACQUIRE_TIMEOUT,
        "failed fast: {:?}",
        started.elapsed()
    );
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
    // Alive (restarting it would not help) but not ready.
    assert_eq!(health_of(&server, "").await, ServingStatus::Serving);
    assert_eq!(admin_status(&server, "/healthz").await, Some(200));
    assert_eq!(admin_status(&server, "/readyz").await, Some(503));
    let write = client(&server)
        .await
        .create_book(bookstore_proto::catalog::v1::CreateBookRequest {
            book: Some(book("Kif", "Josephine Tey", Category::Classics, 1929)),
        })
        .await
        .unwrap_err();
    assert_eq!(write.code(), Code::Unavailable, "{write:?}");
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
    assert_eq!(admin_status(&server, "/readyz").await, Some(200));
    server.stop_cleanly().await;
}
