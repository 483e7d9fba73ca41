//! One call of each kind, writing what comes back to the output line by line as it arrives.

use std::io::Write;
use std::time::Duration;

use bookstore_proto::demo::v1::demo_service_client::DemoServiceClient;
use bookstore_proto::demo::v1::{CountdownRequest, SumRequest};
use bookstore_proto::legacy::bidirectional::bidirectional_client::BidirectionalClient;
use bookstore_proto::legacy::{bidirectional, unary};
use futures_util::stream::{self, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Request;
use tonic::transport::Channel;

use crate::error::ClientError;

/// `message` in a request carrying the call's deadline.
fn with_deadline<T>(message: T, deadline: Duration) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(deadline);
    request
}

pub(crate) async fn unary_call(
    channel: Channel,
    message: &str,
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let request = with_deadline(
        unary::Message {
            message: message.to_owned(),
        },
        deadline,
    );
    let reply = unary::unary_client::UnaryClient::new(channel)
        .get_server_response(request)
        .await?
        .into_inner();
    writeln!(out, "{}", reply.message)?;
    writeln!(out, "received: {}", reply.received)?;
    Ok(())
}

/// Sends one message, waits for its reply, then sends the next: the replies visibly arrive while
/// the request stream is still open.
pub(crate) async fn bidi_call(
    channel: Channel,
    messages: &[String],
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let Some((first, rest)) = messages.split_first() else {
        return Ok(());
    };
    let message = |text: &String| bidirectional::Message {
        message: text.clone(),
    };
    // The first message goes out with the call: some servers (Python's grpcio among them) send
    // their response headers only with their first reply, so waiting for the headers before
    // sending anything could wait forever.
    let (outbox, queued) = mpsc::channel(1);
    let outgoing = stream::iter([message(first)]).chain(ReceiverStream::new(queued));
    let mut replies = BidirectionalClient::new(channel)
        .get_server_response(with_deadline(outgoing, deadline))
        .await?
        .into_inner();
    let mut sent = first;
    for next in rest.iter().map(Some).chain([None]) {
        let reply = replies
            .message()
            .await?
            .ok_or_else(|| ClientError::Unanswered {
                message: sent.clone(),
            })?;
        writeln!(out, "{}", reply.message)?;
        out.flush()?;
        let Some(next) = next else { break };
        // A failed send means the call is already over; reading the next reply reports why.
        let _ = outbox.send(message(next)).await;
        sent = next;
    }
    drop(outbox);
    // Our stream is closed; the server's ends too, with the call's status.
    while let Some(reply) = replies.message().await? {
        writeln!(out, "{}", reply.message)?;
    }
    Ok(())
}

pub(crate) async fn countdown_call(
    channel: Channel,
    start: u32,
    interval: Duration,
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let interval_ms = u32::try_from(interval.as_millis()).unwrap_or(u32::MAX);
    let request = with_deadline(CountdownRequest { start, interval_ms }, deadline);
    let mut numbers = DemoServiceClient::new(channel)
        .countdown(request)
        .await?
        .into_inner();
    while let Some(response) = numbers.message().await? {
        writeln!(out, "{}", response.number)?;
        out.flush()?;
    }
    Ok(())
}

pub(crate) async fn sum_call(
    channel: Channel,
    values: &[i64],
    deadline: Duration,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let requests: Vec<SumRequest> = values.iter().map(|&value| SumRequest { value }).collect();
    let request = with_deadline(stream::iter(requests), deadline);
    let response = DemoServiceClient::new(channel)
        .sum(request)
        .await?
        .into_inner();
    let plural = if response.count == 1 { "" } else { "s" };
    writeln!(out, "{} ({} value{plural})", response.sum, response.count)?;
    Ok(())
}
