//! gRPC's length-prefixed messages as they cross a body: each is a 1-byte compressed flag, a
//! 4-byte big-endian length, then the message. [`FrameScanner`] follows the headers through
//! data chunks of any size (to learn each message's compressed flag without copying anything);
//! [`FrameRewriter`] reassembles whole messages and gzips the ones it is told to.
//!
//! Written by hand because tonic decides compression per call, not per message (its
//! `SingleMessageCompressionOverride` reaches unary responses only), while the interop cases
//! `client_compressed_streaming` and `server_compressed_streaming` send one message compressed
//! and the next one not, and `expect_compressed` asks whether one request was compressed.

use std::io::Write as _;

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use flate2::Compression;
use flate2::write::GzEncoder;

/// The length of a message's header: flag and length.
const HEADER_LEN: usize = 5;

/// Follows message headers through a body's data chunks, reporting each message's compressed
/// flag as its header completes.
#[derive(Debug, Default)]
pub(crate) struct FrameScanner {
    header: [u8; HEADER_LEN],
    header_len: usize,
    body_left: usize,
}

impl FrameScanner {
    /// Scans `chunk`, calling `on_message(compressed)` for each message header it completes.
    pub(crate) fn scan(&mut self, mut chunk: &[u8], mut on_message: impl FnMut(bool)) {
        while !chunk.is_empty() {
            if self.body_left > 0 {
                let skipped = self.body_left.min(chunk.len());
                self.body_left -= skipped;
                chunk = &chunk[skipped..];
                continue;
            }
            let taken = (HEADER_LEN - self.header_len).min(chunk.len());
            self.header[self.header_len..self.header_len + taken].copy_from_slice(&chunk[..taken]);
            self.header_len += taken;
            chunk = &chunk[taken..];
            if self.header_len == HEADER_LEN {
                on_message(self.header[0] == 1);
                self.body_left = u32::from_be_bytes([
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ]) as usize;
                self.header_len = 0;
            }
        }
    }
}

/// Reassembles whole messages from data chunks and re-frames each, gzipped or as it was.
#[derive(Debug, Default)]
pub(crate) struct FrameRewriter {
    buffered: BytesMut,
}

impl FrameRewriter {
    /// Adds `chunk`, and returns the messages it completes, re-framed: gzipped when
    /// `compress()` (asked once per message, in order) says so and the message is not
    /// compressed already. `None` when no message is complete yet.
    pub(crate) fn push(
        &mut self,
        chunk: &[u8],
        mut compress: impl FnMut() -> bool,
    ) -> std::io::Result<Option<Bytes>> {
        self.buffered.extend_from_slice(chunk);
        let mut out = BytesMut::new();
        while let Some(length) = self.complete_message_len() {
            let mut message = self.buffered.split_to(HEADER_LEN + length);
            let already_compressed = message[0] == 1;
            message.advance(HEADER_LEN);
            if compress() && !already_compressed {
                let gzipped = gzip(&message)?;
                out.put_u8(1);
                out.put_u32(frame_len(gzipped.len())?);
                out.extend_from_slice(&gzipped);
            } else {
                out.put_u8(u8::from(already_compressed));
                out.put_u32(frame_len(message.len())?);
                out.extend_from_slice(&message);
            }
        }
        Ok((!out.is_empty()).then(|| out.freeze()))
    }

    /// Whether bytes of an unfinished message are still held (a body that ends so is cut).
    pub(crate) fn is_holding(&self) -> bool {
        !self.buffered.is_empty()
    }

    fn complete_message_len(&self) -> Option<usize> {
        let header = self.buffered.get(..HEADER_LEN)?;
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        (self.buffered.len() >= HEADER_LEN + length).then_some(length)
    }
}

fn gzip(message: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(message.len() / 4), Compression::fast());
    encoder.write_all(message)?;
    encoder.finish()
}

fn frame_len(len: usize) -> std::io::Result<u32> {
    u32::try_from(len).map_err(|_| std::io::Error::other("message longer than 4 GiB"))
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use flate2::read::GzDecoder;

    use super::*;

    fn frame(compressed: bool, message: &[u8]) -> Vec<u8> {
        let mut framed = vec![u8::from(compressed)];
        framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
        framed.extend_from_slice(message);
        framed
    }

    #[test]
    fn the_scanner_reports_flags_across_any_chunking() {
        let mut body = frame(true, b"first");
        body.extend(frame(false, &[0; 300]));
        body.extend(frame(true, b""));
        for chunk_size in [1, 2, 4, 5, 6, 7, 300, body.len()] {
            let mut scanner = FrameScanner::default();
            let mut flags = Vec::new();
            for chunk in body.chunks(chunk_size) {
                scanner.scan(chunk, |compressed| flags.push(compressed));
            }
            assert_eq!(flags, [true, false, true], "chunks of {chunk_size}");
        }
    }

    #[test]
    fn the_rewriter_gzips_exactly_the_messages_it_is_told_to() {
        let mut body = frame(false, &[7; 1000]);
        body.extend(frame(false, b"left alone"));
        let mut plan = [true, false].into_iter();
        let mut rewriter = FrameRewriter::default();
        let mut out = Vec::new();
        for chunk in body.chunks(3) {
            if let Some(bytes) = rewriter.push(chunk, || plan.next().unwrap()).unwrap() {
                out.extend_from_slice(&bytes);
            }
        }
        assert!(!rewriter.is_holding());

        assert_eq!(out[0], 1, "the first message is flagged compressed");
        let length = u32::from_be_bytes(out[1..5].try_into().unwrap()) as usize;
        let mut unzipped = Vec::new();
        GzDecoder::new(&out[5..5 + length])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, [7; 1000]);
        assert_eq!(&out[5 + length..], frame(false, b"left alone"));
    }

    #[test]
    fn an_unfinished_message_is_held_back() {
        let mut rewriter = FrameRewriter::default();
        let body = frame(false, b"abc");
        assert_eq!(rewriter.push(&body[..6], || false).unwrap(), None);
        assert!(rewriter.is_holding());
        let rest = rewriter.push(&body[6..], || false).unwrap().unwrap();
        assert_eq!(&rest[..], &body[..]);
    }
}
