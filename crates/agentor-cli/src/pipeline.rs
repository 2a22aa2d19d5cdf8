//! The pipeline flags (and `[chat]` defaults) as the core's layers.

use agentor_core::{
    BoxEventStream, EventStreamExt, PipelineOptions, ProgressHandle, ProgressLayer,
};

use crate::args::PipelineArgs;
use crate::config::ChatConfig;

/// The layers one run goes through, after flags, environment and file were merged.
#[derive(Clone, Debug, Default)]
pub(crate) struct PipelineSpec {
    options: PipelineOptions,
}

impl PipelineSpec {
    /// Flags (and their environment variables) first, then the file.
    pub(crate) fn resolve(args: PipelineArgs, file: &ChatConfig) -> Self {
        PipelineSpec {
            options: args.options().or(file.pipeline()),
        }
    }

    /// Applies the layers to `run`, and counts what the provider sends into
    /// `progress` (for the status line).
    ///
    /// Progress comes first (it counts what arrives), then the options in
    /// [`PipelineOptions`]' order: deadlines, the filter (which always keeps
    /// the run end and errors, as the server's does: the exit code is read
    /// from them), rebuffer, batch.
    pub(crate) fn apply(&self, run: BoxEventStream, progress: &ProgressHandle) -> BoxEventStream {
        self.options
            .apply(run.progress(ProgressLayer::new().with_handle(progress.clone())))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;
    use agentor_core::source::Script;
    use agentor_core::{Boundary, Event, Kind, KindSet, RunStatus};
    use futures::StreamExt;

    fn spec(args: PipelineArgs) -> PipelineSpec {
        PipelineSpec::resolve(args, &ChatConfig::default())
    }

    async fn kinds(spec: &PipelineSpec, run: BoxEventStream) -> Vec<String> {
        let progress = ProgressHandle::new();
        spec.apply(run, &progress)
            .map(|e| e.unwrap().kind().to_string())
            .collect()
            .await
    }

    #[tokio::test]
    async fn the_filter_keeps_the_run_end_and_errors() {
        let spec = spec(PipelineArgs {
            events: Some(KindSet::of(Kind::Message)),
            ..PipelineArgs::default()
        });
        let run = Script::new()
            .then(Event::text_delta("a"))
            .then(Event::message("a"))
            .then(Event::error(agentor_core::ErrorKind::Provider, "x"))
            .end(RunStatus::Failed)
            .into_stream();
        assert_eq!(
            kinds(&spec, Box::pin(run)).await,
            ["message", "error", "run_end"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_timeout_watches_the_provider_not_the_filter() {
        // Reasoning keeps the provider busy though the filter shows none of it.
        let spec = spec(PipelineArgs {
            events: Some(KindSet::of(Kind::TextDelta)),
            idle_timeout: Some(Duration::from_secs(1)),
            ..PipelineArgs::default()
        });
        let mut script = Script::new();
        for _ in 0..5 {
            script = script.after(Duration::from_millis(600), Event::reasoning_delta("."));
        }
        let run = script
            .then(Event::text_delta("done"))
            .end(RunStatus::Completed);
        assert_eq!(
            kinds(&spec, Box::pin(run.into_stream())).await,
            ["text_delta", "run_end"]
        );

        let stalled = Script::new()
            .after(Duration::from_secs(5), Event::text_delta("late"))
            .into_stream();
        assert_eq!(kinds(&spec, Box::pin(stalled)).await, ["error", "run_end"]);
    }

    #[tokio::test]
    async fn rebuffer_and_batch_keep_the_text() {
        let spec = spec(PipelineArgs {
            rebuffer: Some(Boundary::Words),
            batch_ms: Some(Duration::from_millis(5)),
            ..PipelineArgs::default()
        });
        let run = agentor_core::source::demo_text(["Hel", "lo wor", "ld"]);
        let progress = ProgressHandle::new();
        let text: String = spec
            .apply(Box::pin(run), &progress)
            .filter_map(|e| async move {
                let e = e.unwrap();
                (e.kind() == Kind::TextDelta).then(|| e.text().unwrap_or_default().to_owned())
            })
            .collect()
            .await;
        assert_eq!(text, "Hello world");
        assert_eq!(progress.snapshot().text_deltas, 3);
    }
}
