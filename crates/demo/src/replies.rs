//! What the streaming article's Unary and Bidirectional examples answer, and the one rule both
//! apply to every message they receive.
//!
//! The Bidirectional reply stream is built lazily on top of the request stream: a message is read
//! only when the client is ready for the next reply, so a client that stops reading stops the
//! server reading too (HTTP/2 flow control then stops the client sending), and nothing is ever
//! buffered on the server beyond the message being answered.
//!
//! A Bidirectional call has no length limit: it keeps no state between messages, and it lasts
//! as long as the client keeps talking, like a chat (the server's `max_concurrent_streams`
//! bounds how many such calls one connection holds).

use bookstore_proto::legacy::{bidirectional, unary};
use futures_util::stream::{self, Stream, StreamExt};
use tonic::Status;

use crate::activity::StreamActivity;
use crate::error::Error;

/// The longest message text accepted, in bytes of UTF-8: a chat line or a paragraph, not a file.
/// Larger messages fail with `INVALID_ARGUMENT` (and anything above the server's message size
/// limit never gets this far: it fails with `RESOURCE_EXHAUSTED`).
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// Checks one message's text: not empty, at most [`MAX_MESSAGE_BYTES`].
pub fn validate_message(text: &str) -> Result<(), Error> {
    if text.is_empty() {
        return Err(Error::EmptyMessage);
    }
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(Error::MessageTooLong {
            bytes: text.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    Ok(())
}

/// The Unary answer, worded as in the article's server.
pub fn unary_reply(message: &unary::Message) -> Result<unary::MessageResponse, Error> {
    validate_message(&message.message)?;
    Ok(unary::MessageResponse {
        message: format!(
            "Hello I am up and running received \"{}\" message from you",
            message.message
        ),
        received: true,
    })
}

/// The Bidirectional answer to one message.
pub fn bidirectional_reply(
    message: &bidirectional::Message,
) -> Result<bidirectional::Message, Error> {
    validate_message(&message.message)?;
    Ok(bidirectional::Message {
        message: format!("Hello from the server, received \"{}\"", message.message),
    })
}

/// Answers each message of `inbound` in order, as it arrives.
///
/// The first invalid message ends the stream with its status (the replies to the messages before
/// it have been sent by then); an error reading `inbound` ends it with that error. Dropping the
/// returned stream (the client cancelled) drops `inbound` with it.
pub fn bidirectional_replies<S>(
    inbound: S,
    activity: StreamActivity,
) -> impl Stream<Item = Result<bidirectional::Message, Status>> + Send + 'static
where
    S: Stream<Item = Result<bidirectional::Message, Status>> + Send + Unpin + 'static,
{
    let open = activity.open_stream();
    // The state is `None` once the stream has failed, so nothing after an error is read.
    stream::unfold(Some((inbound, activity, open)), |state| async move {
        let (mut inbound, activity, open) = state?;
        let reply = match inbound.next().await? {
            Ok(message) => bidirectional_reply(&message).map_err(Status::from),
            Err(status) => Err(status),
        };
        match reply {
            Ok(reply) => {
                activity.bidirectional_reply_produced();
                Some((Ok(reply), Some((inbound, activity, open))))
            }
            Err(status) => Some((Err(status), None)),
        }
    })
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    fn message(text: &str) -> bidirectional::Message {
        bidirectional::Message {
            message: text.to_owned(),
        }
    }

    #[test]
    fn unary_answers_as_the_article_does() {
        let reply = unary_reply(&unary::Message {
            message: "Hello Server! Are you listening?".into(),
        })
        .unwrap();
        assert_eq!(
            reply.message,
            "Hello I am up and running received \"Hello Server! Are you listening?\" message from you"
        );
        assert!(reply.received);
    }

    #[test]
    fn messages_must_be_non_empty_and_within_the_limit() {
        assert!(matches!(validate_message(""), Err(Error::EmptyMessage)));
        assert!(validate_message(&"é".repeat(MAX_MESSAGE_BYTES / 2)).is_ok());
        let error = validate_message(&"é".repeat(MAX_MESSAGE_BYTES / 2 + 1)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "message is 4098 bytes long; the limit is 4096 bytes"
        );
    }

    #[tokio::test]
    async fn answers_in_order_and_stops_at_the_first_bad_message() {
        let activity = StreamActivity::default();
        let inbound = stream::iter(["one", "two", "", "never read"].map(|text| Ok(message(text))));
        let replies: Vec<_> = bidirectional_replies(inbound, activity.clone())
            .collect()
            .await;
        assert_eq!(replies.len(), 3);
        assert_eq!(
            replies[0].as_ref().unwrap().message,
            "Hello from the server, received \"one\""
        );
        assert_eq!(
            replies[1].as_ref().unwrap().message,
            "Hello from the server, received \"two\""
        );
        let status = replies[2].as_ref().unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, "message must not be empty")
        );
        assert_eq!(activity.bidirectional_replies(), 2);
        assert_eq!(activity.open_streams(), 0);
    }

    #[tokio::test]
    async fn a_read_error_ends_the_stream_with_that_error() {
        let inbound = stream::iter([
            Ok(message("one")),
            Err(Status::cancelled("gone")),
            Ok(message("two")),
        ]);
        let replies: Vec<_> = bidirectional_replies(inbound, StreamActivity::default())
            .collect()
            .await;
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[1].as_ref().unwrap_err().code(), Code::Cancelled);
    }

    #[tokio::test]
    async fn nothing_is_read_before_a_reply_is_asked_for() {
        let activity = StreamActivity::default();
        let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = reads.clone();
        let inbound = stream::iter(0..100).map(move |i| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(message(&i.to_string()))
        });
        let mut replies = Box::pin(bidirectional_replies(inbound, activity.clone()));
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 0);
        replies.next().await.unwrap().unwrap();
        replies.next().await.unwrap().unwrap();
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(activity.open_streams(), 1);
        drop(replies);
        assert_eq!(activity.open_streams(), 0);
    }
}
