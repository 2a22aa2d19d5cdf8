//! The built-in server's connections: how long a peer may be slow, how many
//! may be open, and how long a shutdown may take.
//!
//! `axum::serve` sets none of these, so a client that sends half a request,
//! sends a body at 1 byte/s, keeps an idle connection or stops reading a
//! stream holds its connection (and, at shutdown, the process) for as long
//! as it likes. The accept loop here serves the same router on hyper's
//! connection builder with:
//!
//! - a header-read timeout, which hyper also starts while a keep-alive
//!   connection waits for its next request: the idle timeout;
//! - a write-stall limit ([`stall::StallGuard`]);
//! - a cap on open connections; past it a connection gets a `503` JSON
//!   answer and is closed;
//! - a shutdown deadline: streams end with their `cancelled` run end, then
//!   connections still open at the deadline are dropped.
//!
//! The body-read deadline is a layer of the router (see `body_deadline`), so
//! it also applies where the router is mounted in another server.

mod stall;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::shutdown::Shutdown;
use stall::StallGuard;

/// Timeouts, the connection cap and the shutdown deadline of the built-in
/// [`Server`](crate::Server). See `docs/reliability.md` for what happens at
/// each.
///
/// ```
/// use std::time::Duration;
/// use agentor_server::{ConnectionLimits, ServerConfig};
///
/// let limits = ConnectionLimits::default()
///     .header_read_timeout(Duration::from_secs(5))
///     .max_connections(2_000);
/// let config = ServerConfig::default().connection_limits(limits);
/// assert_eq!(config.connection_limits_ref().max_connections_or_default(), 2_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) write_stall_timeout: Duration,
    pub(crate) max_connections: Option<usize>,
    pub(crate) shutdown_deadline: Duration,
}

impl Default for ConnectionLimits {
    /// Headers within 10 s (and idle keep-alive connections closed after
    /// 10 s), a body within 30 s, a client that reads nothing for 30 s is
    /// cut, the cap derived from the open-file limit, shutdown within 10 s.
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            write_stall_timeout: Duration::from_secs(30),
            max_connections: None,
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}

impl ConnectionLimits {
    /// How long a client may take to send a request's line and headers
    /// (default 10 s). hyper starts the same timer when a keep-alive
    /// connection becomes idle, so it is also how long an idle connection
    /// stays open. On expiry the connection is closed.
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a client may take to send a whole request body, from the
    /// request's start (default 30 s); past it the request is answered
    /// `408 body_timeout`.
    #[must_use]
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a write may wait for a client that reads nothing (default
    /// 30 s). Past it the connection is closed, which drops its run (or hands
    /// it to the resume window), as a disconnect does. A client that reads
    /// slowly but keeps reading is never cut.
    #[must_use]
    pub fn write_stall_timeout(mut self, timeout: Duration) -> Self {
        self.write_stall_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How many connections may be open at once (default: three quarters
    /// of the process's open-file limit, at most 10,000; 4,096 where the
    /// limit cannot be read). One more is answered `503 too_many_connections`
    /// and closed, so descriptors stay for the ones being served and
    /// `/health` keeps answering.
    #[must_use]
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = Some(connections.max(1));
        self
    }

    /// The cap in effect: as set, or derived from the open-file limit.
    pub fn max_connections_or_default(&self) -> usize {
        self.max_connections.unwrap_or_else(default_max_connections)
    }

    /// How long a graceful shutdown may take (default 10 s). Open streams
    /// get their `cancelled` run end at once; connections still open at the
    /// deadline (a half-sent request, a client not reading) are dropped, so
    /// the server always returns.
    #[must_use]
    pub fn shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.shutdown_deadline = deadline;
        self
    }
}

/// Three quarters of the soft open-file limit, read from `/proc` (no libc
/// call: the crate forbids `unsafe`), within [64, 10,000].
fn default_max_connections() -> usize {
    let soft_limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<usize>().ok()
        });
    match soft_limit {
        Some(limit) => (limit / 4 * 3).clamp(64, 10_000),
        None => 4_096,
    }
}

/// Serves `app` on `listener` until `shutdown` is triggered, then shuts
/// down within the deadline.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: Shutdown,
) -> io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        // HTTP/2 WebSockets (RFC 8441), as axum::serve enables.
        .enable_connect_protocol();
    let permits = Arc::new(Semaphore::new(limits.max_connections_or_default()));
    // Refusals are answered in tasks too, bounded so a flood cannot hold
    // descriptors through them.
    let refusals = Arc::new(Semaphore::new(64));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        let stream = tokio::select! {
            () = shutdown.triggered() => break,
            // Reap finished connections so the set stays small.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
        };
        // Frames are written whole; Nagle would only delay them.
        let _ = stream.set_nodelay(true);
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if let Ok(refusal) = refusals.clone().try_acquire_owned() {
                connections.spawn(async move {
                    refuse(stream).await;
                    drop(refusal);
                });
            }
            continue;
        };
        let service = TowerToHyperService::new(
            app.clone()
                .map_request(|request: Request<Incoming>| request.map(Body::new)),
        );
        let builder = builder.clone();
        let watcher = graceful.watcher();
        connections.spawn(async move {
            // hyper's header timer starts once it knows the protocol, and
            // telling HTTP/1 from HTTP/2 needs bytes: a client that sends
            // none would wait forever in between. Wait for the first byte
            // under the same timeout.
            let mut first = [0u8; 1];
            let readable =
                tokio::time::timeout(limits.header_read_timeout, stream.peek(&mut first));
            if !matches!(readable.await, Ok(Ok(n)) if n > 0) {
                return;
            }
            let io = TokioIo::new(StallGuard::new(stream, limits.write_stall_timeout));
            let connection = builder.serve_connection_with_upgrades(io, service);
            // A connection's error is the peer's business (reset, timeout).
            let _ = watcher.watch(connection.into_owned()).await;
            drop(permit);
        });
    }
    drop(listener);
    // Streams saw the shutdown already and are writing their last frames;
    // connections between requests close now, the others when their
    // response ends — or at the deadline.
    let deadline = tokio::time::sleep(limits.shutdown_deadline);
    tokio::pin!(deadline);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = &mut deadline => {}
    }
    connections.shutdown().await;
    // Upgraded connections (WebSockets) live outside hyper's sight: give
    // them what is left of the deadline for their Close frames.
    let left = deadline
        .deadline()
        .saturating_duration_since(tokio::time::Instant::now());
    shutdown.drain(left).await;
    Ok(())
}

/// After a failed accept: a peer that reset before we took it is nothing;
/// anything else (out of descriptors) is waited out briefly, not spun on.
async fn accept_failed(err: &io::Error) {
    let peers_fault = matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    );
    if !peers_fault {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Answers a connection over the cap with a `503` and closes it.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = r#"{"error":{"code":"too_many_connections","message":"the server has too many open connections; retry shortly"}}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let answer = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent until it closes, so the close is not a
        // reset that could discard our answer before it is read.
        let mut sink = [0u8; 4096];
        loop {
            match stream.try_read(&mut sink) {
                Ok(0) => return Ok::<_, io::Error>(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => stream.readable().await?,
                Err(e) => return Err(e),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}
