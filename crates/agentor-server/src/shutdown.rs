//! [`Shutdown`]: the signal that ends every open stream, and the OS signals
//! that trigger it.

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// A shutdown signal shared by the server and every open stream.
///
/// Cheap to clone; triggering any clone triggers all. Open streams stop
/// pulling their run, drop it (cancelling the model request and tools),
/// send a `cancelled` run end and end.
#[derive(Clone, Debug, Default)]
pub struct Shutdown(CancellationToken);

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Self {
        Shutdown(CancellationToken::new())
    }

    /// Triggers the shutdown (idempotent).
    pub fn trigger(&self) {
        self.0.cancel();
    }

    /// Whether it was triggered.
    pub fn is_triggered(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Completes once triggered.
    pub async fn triggered(&self) {
        self.0.cancelled().await;
    }

    /// An owned future completing once triggered, for a stream to hold.
    pub(crate) fn triggered_owned(&self) -> WaitForCancellationFutureOwned {
        self.0.clone().cancelled_owned()
    }
}

/// Completes on Ctrl-C, or on SIGTERM on Unix (what `docker stop` and
/// Kubernetes send). If a handler cannot be installed, that signal is
/// simply not awaited.
pub(crate) async fn os_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
