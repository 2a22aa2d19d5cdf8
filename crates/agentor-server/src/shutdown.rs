//! [`Shutdown`]: the signal that ends every open stream, and the OS signals
//! that trigger it.

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_util::task::TaskTracker;

/// A shutdown signal shared by the server and every open stream.
///
/// Cheap to clone; triggering any clone triggers all. Open streams stop
/// pulling their run, drop it (cancelling the model request and tools),
/// send a `cancelled` run end and end.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    token: CancellationToken,
    /// Upgraded connections (WebSockets), which the HTTP server does not
    /// wait for: the server waits for them itself before it returns.
    connections: TaskTracker,
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Self {
        Shutdown::default()
    }

    /// Triggers the shutdown (idempotent).
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Whether it was triggered.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Completes once triggered.
    pub async fn triggered(&self) {
        self.token.cancelled().await;
    }

    /// A token cancelled when the shutdown is triggered, and cancellable on
    /// its own (one run's `POST /runs/{id}/cancel`).
    pub(crate) fn child(&self) -> CancellationToken {
        self.token.child_token()
    }

    /// An owned future completing once triggered, for a stream to hold.
    pub(crate) fn triggered_owned(&self) -> WaitForCancellationFutureOwned {
        self.token.clone().cancelled_owned()
    }

    /// Runs `connection` as one the server waits for when it shuts down.
    pub(crate) fn track<F: std::future::Future>(
        &self,
        connection: F,
    ) -> impl std::future::Future<Output = F::Output> {
        self.connections.track_future(connection)
    }

    /// Waits (at most `limit`) for tracked connections to finish their last
    /// frames after a shutdown.
    pub(crate) async fn drain(&self, limit: std::time::Duration) {
        self.connections.close();
        let _ = tokio::time::timeout(limit, self.connections.wait()).await;
    }
}

/// Completes on Ctrl-C, or on SIGTERM on Unix (what `docker stop` and
/// Kubernetes send). If a handler cannot be installed, that signal is
/// simply not awaited.
///
/// The Unix handlers are installed when this is called, not when the future
/// is first polled: a server installs them as it binds, so a SIGTERM that
/// comes right after it said it is listening is a graceful shutdown, not the
/// default action that kills the process.
pub(crate) fn os_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (mut term, mut int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: &mut Option<tokio::signal::unix::Signal>| {
                let signal = signal.take();
                async move {
                    match signal {
                        Some(mut signal) => {
                            signal.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                }
            };
            tokio::select! {
                () = wait(&mut term) => {}
                () = wait(&mut int) => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
