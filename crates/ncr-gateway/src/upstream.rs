//! The gateway's client of `bookstore.factorial.v1.FactorialService`: one lazily connected,
//! long-lived channel (so the gateway starts, and recovers, whether or not the Factorial service
//! is up), every call with the configured deadline and the caller's request id.

use std::sync::Arc;

use bookstore_client::{GrpcChannel, UpstreamConfig, UpstreamError};
use bookstore_layers::Metrics;
use bookstore_proto::factorial::v1::factorial_service_client::FactorialServiceClient;
use bookstore_proto::factorial::v1::{FactorialRequest, FactorialView};
use num_bigint::BigUint;

use crate::error::Error;

/// The Factorial service, as the gateway calls it. Cheap to clone; clones share the channel.
#[derive(Clone, Debug)]
pub struct FactorialUpstream {
    // Behind an `Arc`: axum clones the app state, and so this, for every request.
    config: Arc<UpstreamConfig>,
    client: FactorialServiceClient<GrpcChannel>,
}

impl FactorialUpstream {
    /// A client of the service at `config`, connecting on first use and recording
    /// `grpc_client_*` metrics into `metrics`.
    pub fn connect_lazy(config: UpstreamConfig, metrics: &Metrics) -> Result<Self, UpstreamError> {
        let channel = config.channel(metrics)?;
        Ok(Self {
            client: FactorialServiceClient::new(channel),
            config: Arc::new(config),
        })
    }

    /// Where the service is.
    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    /// n!, asking only for the bytes (the gateway never needs the base-10 form of a factorial,
    /// and writing it costs the service more than computing it).
    pub async fn factorial(&self, n: u64, request_id: Option<&str>) -> Result<BigUint, Error> {
        let request = self.config.request(
            FactorialRequest {
                n,
                view: FactorialView::BigEndianOnly.into(),
            },
            request_id,
        );
        let response = self
            .client
            .clone()
            .factorial(request)
            .await
            .map_err(|status| Error::from_upstream(&status, self.config.call_timeout))?
            .into_inner();
        if response.n != n {
            return Err(Error::BadUpstreamAnswer(format!(
                "asked for {n}!, got {}!",
                response.n
            )));
        }
        Ok(BigUint::from_bytes_be(&response.big_endian))
    }
}
