//! `agentor chat "<prompt>"`: one agent run, streamed to stdout.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};

use agentor_core::{BoxEventStream, EventStreamExt};
use tokio::io::{AsyncWrite, BufWriter};

use crate::args::ChatArgs;
use crate::config::Config;
use crate::exit::Outcome;
use crate::interrupt::{stop, Interruptible};
use crate::provider::ProviderChoice;
use crate::render;

pub(crate) async fn run(args: ChatArgs, config: Config) -> Outcome {
    let agent = ProviderChoice::resolve(args.provider, config.provider).agent(None);

    let run = Interruptible::new(agent.stream_chat(args.prompt).into_inner(), stop());
    // The recording is of the run as the provider made it (and as Ctrl-C
    // ended it): the layers shape what is shown, and a replay applies them again.
    let failure = Arc::new(OnceLock::new());
    let run: BoxEventStream = match &args.record {
        Some(path) => match tokio::fs::File::create(path).await {
            Ok(file) => {
                let writer = Recording {
                    file: BufWriter::new(file),
                    failure: Arc::clone(&failure),
                };
                Box::pin(run.record(writer))
            }
            Err(err) => {
                return Outcome::Failed(format!(
                    "cannot create recording {}: {err}",
                    path.display()
                ))
            }
        },
        None => Box::pin(run),
    };
    match (
        render::show(run, args.show, &config.chat).await,
        failure.get(),
    ) {
        // The run went well, but the file asked for is incomplete.
        (Outcome::Success, Some(err)) => Outcome::Failed(format!(
            "cannot write recording {}: {err}",
            args.record.unwrap_or_default().display()
        )),
        (outcome, _) => outcome,
    }
}

/// The recording's file, keeping its first write failure: the recorder
/// reports it as an event and goes on, and the exit code must say so too.
struct Recording {
    file: BufWriter<tokio::fs::File>,
    failure: Arc<OnceLock<io::Error>>,
}

impl Recording {
    fn keep<T>(&self, result: io::Result<T>) -> io::Result<T> {
        result.inspect_err(|err| {
            let _ = self
                .failure
                .set(io::Error::new(err.kind(), err.to_string()));
        })
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.file).poll_write(cx, buf));
        Poll::Ready(self.keep(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = ready!(Pin::new(&mut self.file).poll_flush(cx));
        Poll::Ready(self.keep(flushed))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shut = ready!(Pin::new(&mut self.file).poll_shutdown(cx));
        Poll::Ready(self.keep(shut))
    }
}
