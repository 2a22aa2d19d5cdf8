//! [`IdleBody`]: a response body that fails with a timeout error when the
//! server makes no progress for longer than the read timeout.
//!
//! Progress is what the reader says it is ([`IdleBody::progressed`]): the
//! turn calls it when a chunk completes an SSE event, so a server that only
//! sends comments (`: keep-alive`) or dribbles bytes of an event that never
//! ends cannot keep a run alive forever. The SSE decoder checks UTF-8 and
//! bounds an event, so this adapter only watches the clock; it hands chunks
//! on as they came, without copying.

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
    last_progress: Option<Instant>,
    done: bool,
}

impl<S> IdleBody<S> {
    pub(crate) fn new(inner: S, timeout: Option<Duration>) -> Self {
        IdleBody {
            inner,
            timeout,
            idle: None,
            last_progress: None,
            done: false,
        }
    }

    /// Restarts the clock: the reader made progress (a whole event arrived).
    pub(crate) fn progressed(&mut self) {
        if self.timeout.is_some() {
            self.last_progress = Some(Instant::now());
        }
    }

    /// Whether the timeout passed since the last progress (or since the
    /// first wait). Registers the timer's waker when it has not.
    fn expired(&mut self, timeout: Duration, cx: &mut Context<'_>) -> bool {
        let start = *self.last_progress.get_or_insert_with(Instant::now);
        let deadline = start + timeout;
        let sleep = self
            .idle
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // Progress only records its time; the timer is moved here, on a
        // wait, so a fast stream pays no timer update per event.
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
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(chunk))),
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

    fn every(waits: &'static [u64]) -> impl Stream<Item = Result<Bytes, Error>> + Unpin {
        Box::pin(futures_util::stream::iter(waits).then(|wait| async move {
            tokio::time::sleep(Duration::from_secs(*wait)).await;
            Ok(Bytes::from_static(b"x"))
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn progress_restarts_the_clock() {
        let mut body = IdleBody::new(every(&[1, 4, 4, 4]), Some(Duration::from_secs(5)));
        let mut chunks = 0;
        while let Some(chunk) = body.next().await {
            chunk.unwrap();
            body.progressed();
            chunks += 1;
        }
        assert_eq!(chunks, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn chunks_without_progress_do_not() {
        // Bytes every 2 s, none of which the reader counts (SSE comments).
        let mut body = IdleBody::new(every(&[2, 2, 2, 2, 2]), Some(Duration::from_secs(5)));
        let started = Instant::now();
        let mut items = Vec::new();
        while let Some(item) = body.next().await {
            items.push(item);
        }
        let err = items.pop().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(items.len(), 2);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test]
    async fn without_a_timeout_chunks_pass_as_they_are() {
        let body = IdleBody::new(chunks(&[b"a", b"bc"]), None);
        let all: Vec<_> = body.map(Result::unwrap).collect().await;
        assert_eq!(all, [Bytes::from_static(b"a"), Bytes::from_static(b"bc")]);
    }
}
