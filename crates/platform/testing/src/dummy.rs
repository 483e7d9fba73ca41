//! The dummy service: echoes its input in all four RPC shapes, except for special inputs.
//!
//! - `Execute`: replies with the input.
//! - `ExecuteClientStream`: replies with the concatenation of every input.
//! - `ExecuteServerStream`: replies with one message per character of the input.
//! - `ExecuteBidiStream`: replies to each input as it arrives.
//!
//! In the streaming shapes, special cases are applied while the response stream is produced,
//! so a `Panic` there panics while the response *body* is polled — the hard case for a
//! panic-catching layer.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bookstore_proto::testing::v1::dummy_service_server::DummyService as DummyApi;
use bookstore_proto::testing::v1::{DummyRequest, DummyResponse};
use futures_util::{Stream, StreamExt, stream};
use tonic::{Code, Request, Response, Status, Streaming};

/// What the dummy service does with one special input.
#[derive(Clone, Debug)]
pub enum SpecialCase {
    /// Reply with this output instead of the input.
    Reply(String),
    /// Fail with this status.
    Fail(Code, String),
    /// Panic with this message.
    Panic(String),
    /// Wait this long, then echo.
    Delay(Duration),
    /// Never answer: the call (or stream) stays open until the client or the server gives up.
    Hang,
    /// Reply with the name of the thread the handler ran on (to see which server thread
    /// served a connection).
    ThreadName,
}

/// Special inputs and what they do; every other input is echoed.
#[derive(Clone, Debug, Default)]
pub struct SpecialCases(HashMap<String, SpecialCase>);

impl SpecialCases {
    /// No special inputs.
    pub fn new() -> Self {
        Self::default()
    }

    /// `input` is answered with `output`.
    pub fn reply(mut self, input: &str, output: &str) -> Self {
        self.0
            .insert(input.to_owned(), SpecialCase::Reply(output.to_owned()));
        self
    }

    /// `input` fails with `code` and `message`.
    pub fn fail(mut self, input: &str, code: Code, message: &str) -> Self {
        self.0.insert(
            input.to_owned(),
            SpecialCase::Fail(code, message.to_owned()),
        );
        self
    }

    /// `input` makes the handler panic with `message`.
    pub fn panic(mut self, input: &str, message: &str) -> Self {
        self.0
            .insert(input.to_owned(), SpecialCase::Panic(message.to_owned()));
        self
    }

    /// `input` is echoed after `delay`.
    pub fn delay(mut self, input: &str, delay: Duration) -> Self {
        self.0.insert(input.to_owned(), SpecialCase::Delay(delay));
        self
    }

    /// `input` is never answered (in the streaming shapes: the stream never ends).
    pub fn hang(mut self, input: &str) -> Self {
        self.0.insert(input.to_owned(), SpecialCase::Hang);
        self
    }

    /// `input` is answered with the name of the thread the handler ran on.
    pub fn thread_name(mut self, input: &str) -> Self {
        self.0.insert(input.to_owned(), SpecialCase::ThreadName);
        self
    }
}

/// The dummy service.
#[derive(Clone, Debug)]
pub struct DummyService {
    cases: Arc<SpecialCases>,
}

impl DummyService {
    /// A dummy service with these special cases.
    pub fn new(cases: SpecialCases) -> Self {
        Self {
            cases: Arc::new(cases),
        }
    }
}

async fn apply(cases: &SpecialCases, input: String) -> Result<String, Status> {
    match cases.0.get(&input) {
        None => Ok(input),
        Some(SpecialCase::Reply(output)) => Ok(output.clone()),
        Some(SpecialCase::Fail(code, message)) => Err(Status::new(*code, message.clone())),
        Some(SpecialCase::Panic(message)) => panic!("{message}"),
        Some(SpecialCase::Delay(delay)) => {
            tokio::time::sleep(*delay).await;
            Ok(input)
        }
        Some(SpecialCase::Hang) => std::future::pending().await,
        Some(SpecialCase::ThreadName) => Ok(std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned()),
    }
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<DummyResponse, Status>> + Send>>;

#[tonic::async_trait]
impl DummyApi for DummyService {
    async fn execute(
        &self,
        request: Request<DummyRequest>,
    ) -> Result<Response<DummyResponse>, Status> {
        let output = apply(&self.cases, request.into_inner().input).await?;
        Ok(Response::new(DummyResponse { output }))
    }

    async fn execute_client_stream(
        &self,
        request: Request<Streaming<DummyRequest>>,
    ) -> Result<Response<DummyResponse>, Status> {
        let mut inputs = request.into_inner();
        let mut output = String::new();
        while let Some(message) = inputs.message().await? {
            output.push_str(&apply(&self.cases, message.input).await?);
        }
        Ok(Response::new(DummyResponse { output }))
    }

    type ExecuteServerStreamStream = ResponseStream;

    async fn execute_server_stream(
        &self,
        request: Request<DummyRequest>,
    ) -> Result<Response<Self::ExecuteServerStreamStream>, Status> {
        let cases = self.cases.clone();
        let input = request.into_inner().input;
        let responses = stream::once(async move { apply(&cases, input).await }).flat_map(
            |result| -> ResponseStream {
                match result {
                    Ok(output) => {
                        let chars: Vec<_> = output
                            .chars()
                            .map(|c| {
                                Ok(DummyResponse {
                                    output: c.to_string(),
                                })
                            })
                            .collect();
                        Box::pin(stream::iter(chars))
                    }
                    Err(status) => Box::pin(stream::iter([Err(status)])),
                }
            },
        );
        Ok(Response::new(Box::pin(responses)))
    }

    type ExecuteBidiStreamStream = ResponseStream;

    async fn execute_bidi_stream(
        &self,
        request: Request<Streaming<DummyRequest>>,
    ) -> Result<Response<Self::ExecuteBidiStreamStream>, Status> {
        let cases = self.cases.clone();
        let responses = request.into_inner().then(move |message| {
            let cases = cases.clone();
            async move {
                let output = apply(&cases, message?.input).await?;
                Ok(DummyResponse { output })
            }
        });
        Ok(Response::new(Box::pin(responses)))
    }
}
