//! Terminal output: a run printed to stdout as it happens, with the live
//! status line on stderr, ending in an [`Outcome`].

use std::io::IsTerminal;

use agentor::print::{PrintFormat, Printer};
use agentor_core::wire::Format;
use agentor_core::{BoxEventStream, ProgressHandle};
use futures::StreamExt;

use crate::args::{OutputArgs, OutputFormat, ShowArgs};
use crate::config::ChatConfig;
use crate::exit::{Outcome, RunEnding};
use crate::pipeline::PipelineSpec;
use crate::status::Status;

/// `--json` or `--format`, else the file's `format`, else text.
fn output_format(args: &OutputArgs, file: &ChatConfig) -> OutputFormat {
    if args.json {
        return OutputFormat::Native;
    }
    args.format.or(file.format).unwrap_or(OutputFormat::Text)
}

/// Runs `run` through the layers the flags (else the file's `[chat]`) ask
/// for and prints it in the format they ask for; the outcome says how the
/// run ended.
///
/// Text is styled (reasoning dimmed) only when stdout is a terminal and
/// `NO_COLOR` is not set.
pub(crate) async fn show(run: BoxEventStream, args: ShowArgs, file: &ChatConfig) -> Outcome {
    let format = output_format(&args.output, file);
    let spec = PipelineSpec::resolve(args.pipeline, file);
    let progress = ProgressHandle::new();
    let mut events = spec.apply(run, &progress);
    let status = Status::start(progress);
    let print_format = match format {
        OutputFormat::Text => PrintFormat::Text,
        OutputFormat::Native => PrintFormat::JsonLines(Format::Native),
        OutputFormat::Agentor => PrintFormat::JsonLines(Format::Agentor),
    };
    let styled = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut printer = Printer::new(status.writer(tokio::io::stdout()), print_format).styled(styled);
    let mut ending = RunEnding::default();
    while let Some(item) = events.next().await {
        ending.observe(&item);
        if let Err(err) = printer.print(&item).await {
            status.finish();
            if err.kind() == std::io::ErrorKind::BrokenPipe {
                // The reader went away (`| head`): the run is cancelled as by
                // Ctrl-C and drained unprinted, so a recording gets its run
                // end and is flushed, where dropping it would cut the file.
                crate::interrupt::reader_gone();
                let rest = async { while events.next().await.is_some() {} };
                let _ = tokio::time::timeout(crate::interrupt::SETTLE, rest).await;
            }
            return Outcome::of_output(Err(err));
        }
    }
    status.finish();
    ending.outcome(crate::interrupt::was_interrupted())
}
