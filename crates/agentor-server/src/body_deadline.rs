//! The body-read deadline: a request body that has not fully arrived within
//! `ConnectionLimits::body_read_timeout` of the request's start fails with
//! [`BodyTimeout`], which the extractors answer `408 body_timeout`.
//!
//! A deadline for the whole body, not a gap between frames: a client that
//! sends one byte a second sends a frame a second and would never trip an
//! idle timer, yet holds its connection and a handler for as long as it likes.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::Sleep;

/// The error of a body that did not arrive in time.
#[derive(Debug)]
pub(crate) struct BodyTimeout(pub(crate) Duration);

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the request body did not arrive within {:?}", self.0)
    }
}

impl std::error::Error for BodyTimeout {}

/// Whether `err` (or what caused it) is a [`BodyTimeout`].
pub(crate) fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<BodyTimeout>() {
            return true;
        }
        cause = err.source();
    }
    false
}

pin_project! {
    /// `inner`, failing once `deadline` passes before its end.
    struct DeadlineBody {
        #[pin]
        inner: Body,
        #[pin]
        deadline: Sleep,
        limit: Duration,
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.deadline.poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimeout(*this.limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `request` with its body under a deadline of `limit` from now.
pub(crate) fn with_deadline(request: Request, limit: Duration) -> Request {
    request.map(|inner| {
        // A body already complete needs no timer.
        if http_body::Body::is_end_stream(&inner) {
            return inner;
        }
        Body::new(DeadlineBody {
            inner,
            deadline: tokio::time::sleep(limit),
            limit,
        })
    })
}
