//! [`Server`]: the built-in server, and [`AgentorServeExt`] for `agent.serve(8000)`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use agentor::Agentor;
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::config::ServerConfig;
use crate::router::router;
use crate::shutdown::{os_signal, Shutdown};

/// The built-in server: [`router`] on a TCP listener, with graceful shutdown.
///
/// ```no_run
/// use agentor::Agentor;
/// use agentor_server::{Server, ServerConfig};
///
/// # #[tokio::main]
/// # async fn main() -> std::io::Result<()> {
/// let agent = Agentor::builder().build();
/// Server::new(agent)
///     .config(ServerConfig::from_env().max_runs(16))
///     .bind("127.0.0.1:8000")
///     .await?
///     .serve() // until Ctrl-C or SIGTERM
///     .await
/// # }
/// ```
#[derive(Debug)]
pub struct Server {
    agent: Agentor,
    config: ServerConfig,
}

/// A [`Server`] bound to its address, ready to serve. It handles Ctrl-C and
/// SIGTERM from the moment it is bound.
pub struct BoundServer {
    listener: TcpListener,
    agent: Agentor,
    config: ServerConfig,
    /// Ctrl-C or SIGTERM, with the handlers already installed.
    os_signal: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl std::fmt::Debug for BoundServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundServer")
            .field("listener", &self.listener)
            .field("agent", &self.agent)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server for `agent`, configured by [`ServerConfig::from_env`].
    pub fn new(agent: Agentor) -> Self {
        Server {
            agent,
            config: ServerConfig::from_env(),
        }
    }

    /// Replaces the configuration.
    #[must_use]
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Binds `addr` (`"127.0.0.1:0"` picks a free port; see
    /// [`BoundServer::local_addr`]).
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<BoundServer> {
        Ok(BoundServer {
            listener: TcpListener::bind(addr).await?,
            agent: self.agent,
            config: self.config,
            os_signal: Box::pin(os_signal()),
        })
    }
}

impl BoundServer {
    /// The address bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shutdown handle: triggering it shuts the server down gracefully.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.config.shutdown.clone()
    }

    /// Serves until Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn serve(self) -> io::Result<()> {
        self.serve_with_shutdown(std::future::pending()).await
    }

    /// Serves until Ctrl-C, SIGTERM, `signal` completes or the
    /// [shutdown handle](BoundServer::shutdown_handle) is triggered; then
    /// every open stream ends with a `cancelled` run end, the server stops
    /// accepting, and this returns once every connection has closed — or at
    /// the [shutdown deadline](crate::ConnectionLimits::shutdown_deadline),
    /// dropping the connections still open (a half-sent request, a client
    /// that does not read).
    pub async fn serve_with_shutdown(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let shutdown = self.config.shutdown.clone();
        let limits = self.config.connections;
        let os_signal = self.os_signal;
        let event_log = self.config.event_log.clone();
        let app = router(self.agent, self.config);
        let trigger = shutdown.clone();
        let watcher = tokio::spawn(async move {
            tokio::select! {
                () = signal => {}
                () = os_signal => {}
                () = trigger.triggered() => {}
            }
            trigger.trigger();
        });
        let result = crate::connection::serve(self.listener, app, limits, shutdown).await;
        // A shared log writes from tasks of its own: let the run ends just
        // written reach it, so readers elsewhere see `cancelled` rather
        // than a lapsed lease.
        if let Some(log) = event_log {
            let _ = tokio::time::timeout(Duration::from_secs(5), log.close()).await;
        }
        watcher.abort();
        result
    }
}

/// `agent.serve(8000)`: the built-in server on `0.0.0.0:<port>` until Ctrl-C
/// or SIGTERM.
///
/// `0.0.0.0` (every interface) is what `serve(port)` means in Python
/// Agentor; to listen on loopback only, or in tests (`127.0.0.1:0`), use
/// [`Server::bind`].
pub trait AgentorServeExt {
    /// Serves the agent on `0.0.0.0:port`, configured by [`ServerConfig::from_env`].
    fn serve(&self, port: u16) -> impl Future<Output = io::Result<()>> + Send;
}

impl AgentorServeExt for Agentor {
    fn serve(&self, port: u16) -> impl Future<Output = io::Result<()>> + Send {
        let server = Server::new(self.clone());
        async move { server.bind(("0.0.0.0", port)).await?.serve().await }
    }
}
