//! [`Status`]: the live status line on stderr (elapsed time, deltas, tool
//! calls, bytes), drawn by indicatif when stderr is a terminal, cleared at
//! the end.
//!
//! When stdout is a terminal too, both share one screen: a status line drawn
//! after half a line of streamed text would be erased with it at the next
//! redraw. So the line is shown only while the text stands at the start of
//! a line (waiting for the first token, between lines, during tool calls),
//! and taken down before anything is written to stdout ([`StatusWriter`]).

use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use agentor_core::ProgressHandle;
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncWrite;
use tokio::task::JoinHandle;

/// How often the status line is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// The live status line of one run; inert when stderr is not a terminal.
#[derive(Debug)]
pub(crate) struct Status {
    shared: Option<Arc<Shared>>,
    ticker: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    bar: Mutex<Option<ProgressBar>>,
    /// Whether stdout's text stands at the start of a line (the line may show).
    at_line_start: AtomicBool,
    /// Whether stdout is on the same screen (the line must make way for it).
    shares_screen: bool,
    progress: ProgressHandle,
}

impl Shared {
    fn bar(&self) -> MutexGuard<'_, Option<ProgressBar>> {
        // A poisoned lock only means a draw panicked; the bar is still usable.
        self.bar.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the line down (stdout is about to write).
    fn hide(&self) {
        self.at_line_start.store(false, Ordering::Release);
        if let Some(bar) = self.bar().take() {
            bar.finish_and_clear();
        }
    }

    /// Redraws the line with the current counts, showing it if it may.
    fn tick(&self) {
        let mut bar = self.bar();
        if bar.is_none() && self.at_line_start.load(Ordering::Acquire) {
            *bar = Some(new_bar());
        }
        if let Some(bar) = bar.as_ref() {
            let p = self.progress.snapshot();
            let calls = if p.tool_calls == 1 { "call" } else { "calls" };
            bar.set_message(format!(
                "{:.1}s · {} deltas · {} tool {calls} · {}",
                p.elapsed.as_secs_f64(),
                p.text_deltas,
                p.tool_calls,
                HumanBytes(p.text_bytes),
            ));
            bar.tick();
        }
    }
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    // The template is a constant; should it ever not parse, the default style does.
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar
}

impl Status {
    /// Starts the status line for a run counted into `progress`, when stderr
    /// is a terminal (and `AGENTOR_NO_STATUS` is not set); otherwise does nothing.
    pub(crate) fn start(progress: ProgressHandle) -> Status {
        let wanted =
            std::io::stderr().is_terminal() && std::env::var_os("AGENTOR_NO_STATUS").is_none();
        if !wanted {
            return Status {
                shared: None,
                ticker: None,
            };
        }
        let shared = Arc::new(Shared {
            bar: Mutex::new(None),
            at_line_start: AtomicBool::new(true),
            shares_screen: std::io::stdout().is_terminal(),
            progress,
        });
        let ticking = shared.clone();
        let ticker = tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            loop {
                every.tick().await;
                ticking.tick();
            }
        });
        Status {
            shared: Some(shared),
            ticker: Some(ticker),
        }
    }

    /// `out`, taking the status line down before each write when they share
    /// a screen.
    pub(crate) fn writer<W>(&self, out: W) -> StatusWriter<W> {
        StatusWriter {
            out,
            shared: self.shared.clone().filter(|s| s.shares_screen),
            line_start: true,
        }
    }

    /// Clears the status line for good.
    pub(crate) fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Some(shared) = self.shared.take() {
            shared.hide();
        }
    }
}

impl Drop for Status {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A writer on the screen the status line shares; see [`Status::writer`].
#[derive(Debug)]
pub(crate) struct StatusWriter<W> {
    out: W,
    shared: Option<Arc<Shared>>,
    /// Whether the bytes written so far end a line.
    line_start: bool,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for StatusWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if let Some(shared) = &self.shared {
            shared.hide();
        }
        let written = Pin::new(&mut self.out).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            if n > 0 {
                self.line_start = buf[n - 1] == b'\n';
            }
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let flushed = Pin::new(&mut self.out).poll_flush(cx);
        // Only once the bytes are on the screen may the line come back.
        if let (Poll::Ready(Ok(())), Some(shared)) = (&flushed, &self.shared) {
            shared
                .at_line_start
                .store(self.line_start, Ordering::Release);
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.out).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn shared() -> Arc<Shared> {
        Arc::new(Shared {
            bar: Mutex::new(None),
            at_line_start: AtomicBool::new(true),
            shares_screen: true,
            progress: ProgressHandle::new(),
        })
    }

    #[tokio::test]
    async fn the_line_may_show_only_once_a_flushed_write_ended_a_line() {
        let shared = shared();
        let mut out = StatusWriter {
            out: Vec::new(),
            shared: Some(shared.clone()),
            line_start: true,
        };
        let may_show = |s: &Shared| s.at_line_start.load(Ordering::Acquire);

        out.write_all(b"half a li").await.unwrap();
        assert!(!may_show(&shared), "taken down before the write");
        out.flush().await.unwrap();
        assert!(!may_show(&shared), "the text stands mid-line");

        out.write_all(b"ne\n").await.unwrap();
        assert!(!may_show(&shared), "not before the flush");
        out.flush().await.unwrap();
        assert!(may_show(&shared));
        assert_eq!(out.out, b"half a line\n");
    }

    #[test]
    fn off_a_terminal_the_writer_passes_through() {
        let status = Status {
            shared: None,
            ticker: None,
        };
        assert!(status.writer(Vec::<u8>::new()).shared.is_none());
    }
}
