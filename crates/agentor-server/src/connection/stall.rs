//! [`StallGuard`]: a socket whose writes fail once the peer has read nothing
//! for too long.
//!
//! A client that stops reading fills the socket's send buffer; from then on
//! every write is `Pending` and the connection, its response body and the
//! run behind it wait without end. hyper has no write timeout, so the guard
//! sits under it: the first `Pending` write arms a timer, any write that
//! goes through disarms it, and a timer that fires turns the wait into a
//! `TimedOut` error, which closes the connection and drops the run (or hands
//! it to the resume window) as any disconnect does.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

pin_project! {
    /// `inner` with a limit on how long a write may wait for the peer.
    #[derive(Debug)]
    pub(crate) struct StallGuard<T> {
        #[pin]
        inner: T,
        limit: Duration,
        // Boxed: armed rarely, and a `Sleep` is large.
        stalled: Option<Pin<Box<Sleep>>>,
    }
}

impl<T> StallGuard<T> {
    pub(crate) fn new(inner: T, limit: Duration) -> Self {
        StallGuard {
            inner,
            limit,
            stalled: None,
        }
    }
}

/// What a write that waited returns: `Pending` until the limit, then the error.
fn pending_or_timeout<R>(
    stalled: &mut Option<Pin<Box<Sleep>>>,
    limit: Duration,
    cx: &mut Context<'_>,
    polled: Poll<io::Result<R>>,
) -> Poll<io::Result<R>> {
    if polled.is_ready() {
        *stalled = None;
        return polled;
    }
    let timer = stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
    if timer.as_mut().poll(cx).is_ready() {
        return Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the client read nothing for {limit:?}"),
        )));
    }
    Poll::Pending
}

impl<T: AsyncWrite> AsyncWrite for StallGuard<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.inner.poll_write(cx, buf);
        pending_or_timeout(this.stalled, *this.limit, cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.inner.poll_write_vectored(cx, bufs);
        pending_or_timeout(this.stalled, *this.limit, cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let polled = this.inner.poll_flush(cx);
        pending_or_timeout(this.stalled, *this.limit, cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let polled = this.inner.poll_shutdown(cx);
        pending_or_timeout(this.stalled, *this.limit, cx, polled)
    }
}

impl<T: AsyncRead> AsyncRead for StallGuard<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().inner.poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_reads_nothing_times_the_write_out() {
        let (ours, mut theirs) = tokio::io::duplex(16);
        let mut guarded = StallGuard::new(ours, Duration::from_secs(5));
        guarded.write_all(&[0; 16]).await.unwrap();
        let started = tokio::time::Instant::now();
        let err = guarded.write_all(&[0; 16]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        // What was written before the stall arrived.
        let mut first = [1; 16];
        theirs.read_exact(&mut first).await.unwrap();
        assert_eq!(first, [0; 16]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_reading_is_never_cut() {
        let (ours, mut theirs) = tokio::io::duplex(8);
        let mut guarded = StallGuard::new(ours, Duration::from_secs(5));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0; 8];
            loop {
                // Each read comes 4 s after the last: under the limit.
                tokio::time::sleep(Duration::from_secs(4)).await;
                match theirs.read(&mut buf).await.unwrap() {
                    0 => return got,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        guarded.write_all(&[7; 64]).await.unwrap();
        guarded.shutdown().await.unwrap();
        drop(guarded);
        assert_eq!(reader.await.unwrap(), vec![7; 64]);
    }
}
