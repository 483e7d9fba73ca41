//! Client-side load balancing: three servers on different loopback addresses behind one name.
//! Calls spread over all three; when one stops, calls keep succeeding on the other two; when
//! it returns, it gets traffic again.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bookstore_client::{DnsResolver, Resolve};
use bookstore_client::{GrpcChannel, UpstreamConfig, UpstreamOptions};
use bookstore_layers::Metrics;
use bookstore_proto::testing::v1::DummyRequest;
use bookstore_proto::testing::v1::dummy_service_client::DummyServiceClient;
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use bookstore_serve::{GrpcServer, Listeners, ServeError, ServerSettings};
use bookstore_testing::{DummyService, Running, SpecialCases, spawn_on};
use futures_util::future::BoxFuture;

/// A name that stands for whatever addresses the test says.
#[derive(Clone, Default)]
struct TestResolver(Arc<Mutex<Vec<SocketAddr>>>);

impl Resolve for TestResolver {
    fn resolve(&self, _host: &str, _port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let addresses = self.0.lock().unwrap().clone();
        Box::pin(async move { Ok(addresses) })
    }
}

/// A server at `addr` that answers "who" with `name`.
async fn replica(addr: SocketAddr, name: &str) -> Running<ServeError> {
    let listeners = Listeners::bind(&addr.ip().to_string(), addr.port(), None)
        .await
        .unwrap();
    let server = GrpcServer::new(&ServerSettings::default(), &Metrics::new()).add_service(
        DummyServiceServer::new(DummyService::new(SpecialCases::new().reply("who", name))),
    );
    spawn_on(listeners, |listeners, shutdown| {
        server.serve(listeners, shutdown)
    })
}

async fn who(client: &mut DummyServiceClient<GrpcChannel>) -> Result<String, tonic::Status> {
    let request = DummyRequest {
        input: "who".into(),
    };
    Ok(client.execute(request).await?.into_inner().output)
}

/// Calls until `done` says so, within 15 s.
async fn until(
    client: &mut DummyServiceClient<GrpcChannel>,
    mut done: impl FnMut(&Result<String, tonic::Status>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if done(&who(client).await) {
            return;
        }
        assert!(Instant::now() < deadline, "the balancer never got there");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn tally(
    client: &mut DummyServiceClient<GrpcChannel>,
    calls: usize,
) -> HashMap<String, usize> {
    let mut answers = HashMap::new();
    for _ in 0..calls {
        let name = who(client).await.expect("every call succeeds");
        *answers.entry(name).or_insert(0) += 1;
    }
    answers
}

#[tokio::test]
async fn calls_spread_over_every_replica_and_survive_one_stopping() {
    let addresses: Vec<SocketAddr> = ["127.0.0.21", "127.0.0.22", "127.0.0.23"]
        .iter()
        .map(|ip| {
            let probe = std::net::TcpListener::bind((*ip, 0)).unwrap();
            probe.local_addr().unwrap()
        })
        .collect();
    let mut replicas = Vec::new();
    for (i, addr) in addresses.iter().enumerate() {
        replicas.push(Some(replica(*addr, &format!("replica-{i}")).await));
    }
    let resolver = TestResolver::default();
    *resolver.0.lock().unwrap() = addresses.clone();

    let options = UpstreamOptions {
        upstream_load_balance: true,
        upstream_resolve_interval: Duration::from_millis(200),
        ..UpstreamOptions::default()
    };
    let channel = UpstreamConfig::new("recommendations-headless", 0, &options)
        .channel_with_resolver(&Metrics::new(), Arc::new(resolver.clone()))
        .unwrap();
    let mut client = DummyServiceClient::new(channel);

    // Once every replica has joined, calls spread over all three.
    let mut seen = std::collections::HashSet::new();
    until(&mut client, |answer| {
        if let Ok(name) = answer {
            seen.insert(name.clone());
        }
        seen.len() == 3
    })
    .await;
    let spread = tally(&mut client, 300).await;
    assert_eq!(spread.len(), 3, "{spread:?}");
    assert!(
        spread.values().all(|count| *count >= 30),
        "each replica gets a fair share: {spread:?}"
    );

    // One stops: once the probe notices, every call succeeds on the other two.
    replicas[1].take().unwrap().stop_cleanly().await;
    let mut clean_run = 0;
    until(&mut client, |answer| {
        clean_run = match answer {
            Ok(name) if name != "replica-1" => clean_run + 1,
            _ => 0,
        };
        clean_run >= 50
    })
    .await;
    let without = tally(&mut client, 200).await;
    assert!(!without.contains_key("replica-1"), "{without:?}");
    assert_eq!(without.len(), 2, "{without:?}");

    // It comes back at the same address: it gets traffic again.
    replicas[1] = Some(replica(addresses[1], "replica-1").await);
    until(
        &mut client,
        |answer| matches!(answer, Ok(name) if name == "replica-1"),
    )
    .await;

    // A replica that leaves DNS (a pod deleted) leaves the pool too.
    resolver
        .0
        .lock()
        .unwrap()
        .retain(|addr| *addr != addresses[2]);
    let mut clean_run = 0;
    until(&mut client, |answer| {
        clean_run = match answer {
            Ok(name) if name != "replica-2" => clean_run + 1,
            _ => 0,
        };
        clean_run >= 50
    })
    .await;
    for replica in replicas.into_iter().flatten() {
        replica.stop_cleanly().await;
    }
}

#[tokio::test]
async fn the_dns_resolver_resolves_names() {
    let addresses = DnsResolver.resolve("localhost", 50051).await.unwrap();
    assert!(
        addresses
            .iter()
            .any(|addr| addr.ip().is_loopback() && addr.port() == 50051),
        "{addresses:?}"
    );
    assert!(
        DnsResolver
            .resolve("no-such-host.invalid", 1)
            .await
            .is_err()
    );
}
