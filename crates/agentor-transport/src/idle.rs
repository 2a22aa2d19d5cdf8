//! [`IdleBody`]: a response body that fails with a timeout error when the
//! server is silent for longer than the read timeout.
//!
//! The SSE decoder checks UTF-8 and bounds an event, so this adapter only
//! watches the clock; it hands chunks on as they came, without copying.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use agentor_core::Error;
use bytes::Bytes;
use futures_core::Stream;
use tokio::time::{Instant, Sleep};

/// A body stream with an idle timeout between chunks. After its first
/// error it ends.
pub(crate) struct IdleBody<S> {
    inner: S,
    timeout: Option<Duration>,
    /// Created lazily, on the first wait: building a timer needs a runtime,
    /// and a body that is always ready (a recording) never waits.
    idle: Option<Pin<Box<Sleep>>>,
    last_chunk: Option<Instant>,
    done: bool,
}

impl<S> IdleBody<S> {
    pub(crate) fn new(inner: S, timeout: Option<Duration>) -> Self {
        IdleBody {
            inner,
            timeout,
            idle: None,
            last_chunk: None,
            done: false,
        }
    }

    /// Whether the timeout passed since the last chunk (or since the first
    /// wait). Registers the timer's waker when it has not.
    fn expired(&mut self, timeout: Duration, cx: &mut Context<'_>) -> bool {
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

impl<S> Stream for IdleBody<S>
where
    S: Stream<Item = Result<Bytes, Error>> + Unpin,
{
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if this.timeout.is_some() {
                    this.last_chunk = Some(Instant::now());
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => {
                this.done = true;
                Poll::Ready(other)
            }
            Poll::Pending => match Option::clone(&this.timeout) {
                Some(timeout) if this.expired(timeout, cx) => {
                    this.done = true;
                    Poll::Ready(Some(Err(Error::timeout(format!(
                        "no data from the server for {} ms",
                        timeout.as_millis()
                    )))))
                }
                _ => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use agentor_core::ErrorKind;
    use futures_util::StreamExt;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, Error>> + Unpin {
        let parts: Vec<_> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        futures_util::stream::iter(parts)
    }

    #[tokio::test(start_paused = true)]
    async fn silence_times_out_and_then_the_body_ends() {
        let body = chunks(&[b"data: x\n\n"]).chain(futures_util::stream::pending());
        let mut body = IdleBody::new(body, Some(Duration::from_secs(5)));
        assert!(body.next().await.unwrap().is_ok());
        let started = Instant::now();
        let err = body.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert!(body.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn each_chunk_restarts_the_clock() {
        let slow = futures_util::stream::iter([1u64, 4, 4, 4]).then(|wait| async move {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            Ok(Bytes::from_static(b"x"))
        });
        let body = IdleBody::new(Box::pin(slow), Some(Duration::from_secs(5)));
        let all: Vec<_> = body.collect().await;
        assert_eq!(all.len(), 4);
        assert!(all.iter().all(Result::is_ok));
    }

    #[tokio::test]
    async fn without_a_timeout_chunks_pass_as_they_are() {
        let body = IdleBody::new(chunks(&[b"a", b"bc"]), None);
        let all: Vec<_> = body.map(Result::unwrap).collect().await;
        assert_eq!(all, [Bytes::from_static(b"a"), Bytes::from_static(b"bc")]);
    }
}
