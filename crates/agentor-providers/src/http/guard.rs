//! [`GuardedBody`]: the checks a response body passes before SSE parsing.
//!
//! `eventsource-stream` holds back bytes that are not yet valid UTF-8 until
//! more arrive, so a body with a stray invalid byte would be buffered to its
//! end (without bound) before failing, and a body that never sends a newline
//! grows its line buffer forever. This adapter fails both early, as protocol
//! errors, and turns a silence longer than the read timeout into a timeout
//! error. It never copies the bytes it checks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use agentor_core::Error;
use bytes::Bytes;
use futures_core::Stream;
use tokio::time::{Instant, Sleep};

/// The longest SSE line accepted: far above any real chunk, low enough that
/// a misbehaving server cannot make the client buffer without bound.
pub(crate) const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// The largest piece handed to the SSE parser at once. `eventsource-stream`
/// moves the rest of its buffer down after every line it takes, so the cost
/// of a piece grows with its square: a 16 KiB chunk of a replayed or bursty
/// body costs several times its parsing. Slicing (which copies nothing) keeps
/// that cost linear; network chunks are mostly smaller than this anyway.
pub(crate) const MAX_PIECE_BYTES: usize = 1024;

/// A body stream checked for UTF-8, line length and idleness, handed on in
/// pieces of at most [`MAX_PIECE_BYTES`].
pub(crate) struct GuardedBody<S> {
    inner: S,
    /// What is left of the last chunk, already checked.
    rest: Bytes,
    read_timeout: Option<Duration>,
    /// Created lazily, on the first wait: building a timer needs a runtime,
    /// and a body that is always ready (a recording) never waits.
    idle: Option<Pin<Box<Sleep>>>,
    last_chunk: Option<Instant>,
    utf8: Utf8Tail,
    line_bytes: usize,
    done: bool,
}

impl<S> GuardedBody<S> {
    pub(crate) fn new(inner: S, read_timeout: Option<Duration>) -> Self {
        GuardedBody {
            inner,
            rest: Bytes::new(),
            read_timeout,
            idle: None,
            last_chunk: None,
            utf8: Utf8Tail::default(),
            line_bytes: 0,
            done: false,
        }
    }

    fn check(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.utf8.check(chunk)?;
        self.line_bytes = match memchr::memrchr2(b'\n', b'\r', chunk) {
            Some(end) => chunk.len() - end - 1,
            None => self.line_bytes.saturating_add(chunk.len()),
        };
        if self.line_bytes > MAX_LINE_BYTES {
            return Err(Error::protocol(format!(
                "an SSE line exceeds {MAX_LINE_BYTES} bytes"
            )));
        }
        Ok(())
    }

    /// Whether the read timeout passed since the last chunk (or since the
    /// first wait). Registers the timer's waker when it has not.
    fn idle_expired(&mut self, timeout: Duration, cx: &mut Context<'_>) -> bool {
        let start = *self.last_chunk.get_or_insert_with(Instant::now);
        let deadline = start + timeout;
        let sleep = self
            .idle
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // Chunks only record their time; the timer is moved here, on a wait,
        // so a fast stream pays no timer update per chunk.
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        sleep.as_mut().poll(cx).is_ready()
    }
}

impl<S> Stream for GuardedBody<S>
where
    S: Stream<Item = Result<Bytes, Error>> + Unpin,
{
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if !this.rest.is_empty() {
            let piece = this.rest.len().min(MAX_PIECE_BYTES);
            return Poll::Ready(Some(Ok(this.rest.split_to(piece))));
        }
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(mut chunk))) => {
                if this.read_timeout.is_some() {
                    this.last_chunk = Some(Instant::now());
                }
                if let Err(err) = this.check(&chunk) {
                    this.done = true;
                    return Poll::Ready(Some(Err(err)));
                }
                if chunk.len() > MAX_PIECE_BYTES {
                    this.rest = chunk.split_off(MAX_PIECE_BYTES);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(err))) => {
                this.done = true;
                Poll::Ready(Some(Err(err)))
            }
            Poll::Ready(None) => {
                this.done = true;
                match this.utf8.finish() {
                    Ok(()) => Poll::Ready(None),
                    Err(err) => Poll::Ready(Some(Err(err))),
                }
            }
            Poll::Pending => {
                let timeout = this.read_timeout;
                match timeout {
                    Some(timeout) if this.idle_expired(timeout, cx) => {
                        this.done = true;
                        Poll::Ready(Some(Err(Error::timeout(format!(
                            "no data from the server for {} ms",
                            timeout.as_millis()
                        )))))
                    }
                    _ => Poll::Pending,
                }
            }
        }
    }
}

/// Incremental UTF-8 validation: the bytes of a character split across two
/// chunks wait here (at most 3) for the rest.
#[derive(Debug, Default)]
struct Utf8Tail {
    bytes: [u8; 4],
    len: usize,
    /// Bytes validated so far, to say where a bad byte was.
    offset: u64,
}

impl Utf8Tail {
    fn check(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let mut rest = chunk;
        if self.len > 0 {
            let width = utf8_width(self.bytes[0]);
            let take = (width - self.len).min(rest.len());
            self.bytes[self.len..self.len + take].copy_from_slice(&rest[..take]);
            self.len += take;
            rest = &rest[take..];
            if self.len < width {
                return Ok(());
            }
            if std::str::from_utf8(&self.bytes[..width]).is_err() {
                return Err(self.invalid(0));
            }
            self.offset += width as u64;
            self.len = 0;
        }
        match std::str::from_utf8(rest) {
            Ok(_) => {
                self.offset += rest.len() as u64;
                Ok(())
            }
            // The chunk ends inside a character: keep its first bytes.
            Err(err) if err.error_len().is_none() => {
                let tail = &rest[err.valid_up_to()..];
                self.bytes[..tail.len()].copy_from_slice(tail);
                self.len = tail.len();
                self.offset += err.valid_up_to() as u64;
                Ok(())
            }
            Err(err) => Err(self.invalid(err.valid_up_to())),
        }
    }

    fn finish(&self) -> Result<(), Error> {
        if self.len > 0 {
            return Err(Error::protocol(
                "the response body ends inside a UTF-8 character",
            ));
        }
        Ok(())
    }

    fn invalid(&self, at: usize) -> Error {
        Error::protocol(format!(
            "the response body is not valid UTF-8 (byte {})",
            self.offset + at as u64
        ))
    }
}

/// The length of the character a lead byte starts; 4 for anything else, so
/// a bad lead byte fails validation once 4 bytes are there.
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use agentor_core::ErrorKind;
    use futures_util::StreamExt;

    fn chunks(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, Error>> + Unpin {
        let parts: Vec<_> = parts
            .iter()
            .map(|p| Ok(Bytes::copy_from_slice(p)))
            .collect();
        futures_util::stream::iter(parts)
    }

    async fn run(parts: &[&[u8]]) -> Vec<Result<Bytes, Error>> {
        GuardedBody::new(chunks(parts), None).collect().await
    }

    #[tokio::test]
    async fn big_chunks_are_handed_on_in_pieces() {
        let big = vec![b'x'; MAX_PIECE_BYTES * 2 + 10];
        let sizes: Vec<usize> = run(&[&big, b"end"])
            .await
            .into_iter()
            .map(|piece| piece.unwrap().len())
            .collect();
        assert_eq!(sizes, [MAX_PIECE_BYTES, MAX_PIECE_BYTES, 10, 3]);
    }

    #[tokio::test]
    async fn characters_split_anywhere_pass() {
        let text = "é中👍".as_bytes();
        for cut in 0..=text.len() {
            let (a, b) = text.split_at(cut);
            let out = run(&[a, b]).await;
            assert!(out.iter().all(Result::is_ok), "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert!(run(&bytes).await.iter().all(Result::is_ok));
    }

    #[tokio::test]
    async fn invalid_bytes_fail_at_once() {
        let out = run(&[b"data: ok\n", b"da\xFFta", b"never read"]).await;
        assert_eq!(out.len(), 2);
        let err = out[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.message().contains("byte 11"), "{err}");
        // A bad continuation of a split character.
        let out = run(&[b"\xE4\xB8", b"A"]).await;
        assert!(out[1].is_err());
        // A body ending mid-character.
        let out = run(&[b"ok \xF0\x9F"]).await;
        assert_eq!(out[1].as_ref().unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[tokio::test]
    async fn an_endless_line_is_refused() {
        let big = vec![b'x'; MAX_LINE_BYTES / 2 + 1];
        let out = run(&[&big, b"\n", &big, &big]).await;
        let (last, before) = out.split_last().unwrap();
        assert!(before.iter().all(Result::is_ok));
        assert_eq!(last.as_ref().unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[tokio::test(start_paused = true)]
    async fn silence_times_out() {
        let body = chunks(&[b"data: x\n\n"]).chain(futures_util::stream::pending());
        let mut guarded = GuardedBody::new(body, Some(Duration::from_secs(5)));
        assert!(guarded.next().await.unwrap().is_ok());
        let err = guarded.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(guarded.next().await.is_none());
    }
}
