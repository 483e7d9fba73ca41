//! The demo's gRPC services — the article's `unary.Unary` and `bidirectional.Bidirectional`, and
//! `bookstore.demo.v1.DemoService` — implemented by one [`Demo`]. This file only translates
//! between protobuf and the domain; the rules live in `replies.rs`, `countdown.rs` and `sum.rs`.

use bookstore_proto::demo::v1::demo_service_server::DemoService;
use bookstore_proto::demo::v1::{CountdownRequest, CountdownResponse, SumRequest, SumResponse};
use bookstore_proto::legacy::bidirectional::bidirectional_server::Bidirectional;
use bookstore_proto::legacy::{bidirectional, unary};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tonic::{Request, Response, Status, Streaming};

use crate::activity::StreamActivity;
use crate::countdown::Countdown;
use crate::replies::{bidirectional_replies, unary_reply};
use crate::sum::Sum;

/// All four kinds of RPC, sharing one [`StreamActivity`]. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Demo {
    activity: StreamActivity,
}

impl Demo {
    /// The counters of this service's streaming work (clones share them).
    pub fn activity(&self) -> StreamActivity {
        self.activity.clone()
    }
}

#[tonic::async_trait]
impl unary::unary_server::Unary for Demo {
    async fn get_server_response(
        &self,
        request: Request<unary::Message>,
    ) -> Result<Response<unary::MessageResponse>, Status> {
        Ok(Response::new(unary_reply(request.get_ref())?))
    }
}

#[tonic::async_trait]
impl Bidirectional for Demo {
    type GetServerResponseStream = BoxStream<'static, Result<bidirectional::Message, Status>>;

    async fn get_server_response(
        &self,
        request: Request<Streaming<bidirectional::Message>>,
    ) -> Result<Response<Self::GetServerResponseStream>, Status> {
        let replies = bidirectional_replies(request.into_inner(), self.activity.clone());
        Ok(Response::new(replies.boxed()))
    }
}

#[tonic::async_trait]
impl DemoService for Demo {
    type CountdownStream = BoxStream<'static, Result<CountdownResponse, Status>>;

    async fn countdown(
        &self,
        request: Request<CountdownRequest>,
    ) -> Result<Response<Self::CountdownStream>, Status> {
        let countdown = Countdown::from_request(request.get_ref())?;
        Ok(Response::new(
            countdown.numbers(self.activity.clone()).map(Ok).boxed(),
        ))
    }

    async fn sum(
        &self,
        request: Request<Streaming<SumRequest>>,
    ) -> Result<Response<SumResponse>, Status> {
        let _open = self.activity.open_stream();
        let mut values = request.into_inner();
        let mut sum = Sum::default();
        while let Some(request) = values.message().await? {
            sum.add(request.value)?;
        }
        Ok(Response::new(sum.into()))
    }
}

#[cfg(test)]
mod tests {
    //! The article's unit-test style: call the servicer methods directly, no network.

    use bookstore_proto::legacy::unary::unary_server::Unary;
    use tonic::Code;

    use super::*;

    #[tokio::test]
    async fn unary_answers_and_rejects_empty_messages() {
        let demo = Demo::default();
        let request = Request::new(unary::Message {
            message: "Are you listening?".into(),
        });
        let reply = Unary::get_server_response(&demo, request)
            .await
            .unwrap()
            .into_inner();
        assert!(reply.received);
        assert!(reply.message.contains("\"Are you listening?\""));
        let empty = Request::new(unary::Message::default());
        let status = Unary::get_server_response(&demo, empty).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, "message must not be empty")
        );
    }

    #[tokio::test]
    async fn countdown_validates_before_streaming() {
        let demo = Demo::default();
        let request = Request::new(CountdownRequest {
            start: 0,
            interval_ms: 0,
        });
        let status = demo.countdown(request).await.err().unwrap();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(demo.activity().open_streams(), 0);

        let request = Request::new(CountdownRequest {
            start: 3,
            interval_ms: 0,
        });
        let numbers: Vec<u32> = demo
            .countdown(request)
            .await
            .unwrap()
            .into_inner()
            .map(|r| r.unwrap().number)
            .collect()
            .await;
        assert_eq!(numbers, [3, 2, 1]);
    }
}
