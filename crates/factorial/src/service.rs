//! The two gRPC faces of the service — the nCr article's legacy `Factorial` and
//! `bookstore.factorial.v1.FactorialService`. This file only translates between protobuf and
//! the domain; the arithmetic lives in `math.rs`, the scheduling in `calculator.rs`.

use bookstore_proto::factorial::v1;
use bookstore_proto::legacy;
use tonic::{Request, Response, Status};

use crate::calculator::{Calculator, Representation};
use crate::error::Error;
use crate::math::legacy_factorial;

/// The article's `Factorial` service, wire-compatible with its Python clients. Its answers
/// (at most 34!) are cheap, so they are computed inline.
#[derive(Clone, Copy, Debug, Default)]
pub struct LegacyFactorial;

#[tonic::async_trait]
impl legacy::factorial_server::Factorial for LegacyFactorial {
    async fn factorial(
        &self,
        request: Request<legacy::Number>,
    ) -> Result<Response<legacy::Number>, Status> {
        let value = legacy_factorial(request.into_inner().value)?;
        Ok(Response::new(legacy::Number { value }))
    }
}

/// `bookstore.factorial.v1.FactorialService`: exact results.
#[derive(Clone, Debug)]
pub struct FactorialV1 {
    calculator: Calculator,
}

impl FactorialV1 {
    /// Serves from `calculator`.
    pub fn new(calculator: Calculator) -> Self {
        Self { calculator }
    }
}

fn representation(view: i32) -> Result<Representation, Error> {
    match v1::FactorialView::try_from(view) {
        Ok(v1::FactorialView::Unspecified | v1::FactorialView::Full) => Ok(Representation::Full),
        Ok(v1::FactorialView::BigEndianOnly) => Ok(Representation::BigEndianOnly),
        Err(_) => Err(Error::UnknownView(view)),
    }
}

#[tonic::async_trait]
impl v1::factorial_service_server::FactorialService for FactorialV1 {
    async fn factorial(
        &self,
        request: Request<v1::FactorialRequest>,
    ) -> Result<Response<v1::FactorialResponse>, Status> {
        let request = request.into_inner();
        let representation = representation(request.view)?;
        let computed = self.calculator.factorial(request.n, representation).await?;
        Ok(Response::new(v1::FactorialResponse {
            n: computed.n,
            decimal: computed.decimal.unwrap_or_default(),
            big_endian: computed.big_endian,
        }))
    }
}

#[cfg(test)]
mod tests {
    //! The tutorial's unit test style: call the servicer methods directly, no network.

    use std::num::NonZeroUsize;

    use bookstore_proto::factorial::v1::factorial_service_server::FactorialService as _;
    use bookstore_proto::legacy::factorial_server::Factorial as _;
    use tonic::Code;

    use super::*;

    async fn legacy(value: f32) -> Result<f32, Status> {
        let request = Request::new(legacy::Number { value });
        LegacyFactorial
            .factorial(request)
            .await
            .map(|response| response.into_inner().value)
    }

    async fn v1(n: u64, view: i32) -> Result<v1::FactorialResponse, Status> {
        let service = FactorialV1::new(Calculator::new(1_000, NonZeroUsize::MIN));
        let request = Request::new(v1::FactorialRequest { n, view });
        service.factorial(request).await.map(Response::into_inner)
    }

    #[tokio::test]
    async fn legacy_answers_like_the_article() {
        assert_eq!(legacy(5.0).await.unwrap(), 120.0);
        assert_eq!(legacy(0.0).await.unwrap(), 1.0);
    }

    #[tokio::test]
    async fn legacy_errors_have_their_codes() {
        assert_eq!(
            legacy(-1.0).await.unwrap_err().code(),
            Code::InvalidArgument
        );
        assert_eq!(legacy(2.5).await.unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(
            legacy(f32::NAN).await.unwrap_err().code(),
            Code::InvalidArgument
        );
        assert_eq!(legacy(35.0).await.unwrap_err().code(), Code::OutOfRange);
    }

    #[tokio::test]
    async fn v1_views() {
        let full = v1(10, v1::FactorialView::Unspecified.into()).await.unwrap();
        assert_eq!((full.n, full.decimal.as_str()), (10, "3628800"));
        assert_eq!(full.big_endian, 3_628_800u32.to_be_bytes()[1..]);
        assert_eq!(v1(10, v1::FactorialView::Full.into()).await.unwrap(), full);
        let bytes = v1(10, v1::FactorialView::BigEndianOnly.into())
            .await
            .unwrap();
        assert_eq!(
            (bytes.decimal.as_str(), bytes.big_endian),
            ("", full.big_endian)
        );
    }

    #[tokio::test]
    async fn v1_errors_have_their_codes() {
        let status = v1(1_001, 0).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::OutOfRange, "n must be at most 1000, got 1001")
        );
        let status = v1(1, 42).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, "unknown view 42")
        );
    }
}
