//! The pipeline flags (and `[chat]` defaults) as the core's layers.

use std::time::Duration;

use agentor_core::{
    BatchLayer, Boundary, BoxEventStream, EventStreamExt, FilterLayer, Kind, KindSet,
    ProgressHandle, ProgressLayer, TimeoutLayer,
};

use crate::args::{PipelineArgs, RebufferArg};
use crate::config::ChatConfig;

/// The layers one run goes through, after flags, environment and file were merged.
#[derive(Clone, Debug, Default)]
pub(crate) struct PipelineSpec {
    events: Option<KindSet>,
    rebuffer: Option<RebufferArg>,
    batch: Option<Duration>,
    total: Option<Duration>,
    idle: Option<Duration>,
}

impl PipelineSpec {
    /// Flags (and their environment variables) first, then the file.
    pub(crate) fn resolve(args: PipelineArgs, file: &ChatConfig) -> Self {
        PipelineSpec {
            events: args.events.or(file.events),
            rebuffer: args.rebuffer.or(file.rebuffer),
            batch: args.batch_ms.or(file.batch_ms).map(Duration::from_millis),
            total: args.timeout.or(file.timeout).map(Duration::from_secs_f64),
            idle: args
                .idle_timeout
                .or(file.idle_timeout)
                .map(Duration::from_secs_f64),
        }
    }

    /// Applies the layers to `run`, and counts what the provider sends into
    /// `progress` (for the status line).
    ///
    /// The order: progress (what arrives), timeouts (so "idle" means the
    /// provider is silent, not that the filter dropped everything), the
    /// filter, rebuffer, batch. The filter always keeps the run end and
    /// errors, as the server does: the exit code is read from them.
    pub(crate) fn apply(&self, run: BoxEventStream, progress: &ProgressHandle) -> BoxEventStream {
        let mut events: BoxEventStream =
            Box::pin(run.progress(ProgressLayer::new().with_handle(progress.clone())));
        if self.total.is_some() || self.idle.is_some() {
            let mut timeouts = TimeoutLayer::new();
            if let Some(total) = self.total {
                timeouts = timeouts.total(total);
            }
            if let Some(idle) = self.idle {
                timeouts = timeouts.idle(idle);
            }
            events = Box::pin(events.timeouts(timeouts));
        }
        if let Some(kinds) = self.events {
            let kinds = kinds.with(Kind::RunEnd).with(Kind::Error);
            events = Box::pin(events.filter_events(FilterLayer::new().include_kinds(kinds)));
        }
        if let Some(rebuffer) = self.rebuffer {
            let boundary = match rebuffer {
                RebufferArg::Words => Boundary::Words,
                RebufferArg::Lines => Boundary::Lines,
                RebufferArg::Sentences => Boundary::Sentences,
            };
            events = Box::pin(events.rebuffer(boundary));
        }
        if let Some(wait) = self.batch {
            events = Box::pin(events.batch(BatchLayer::new().max_wait(Some(wait)).coalesce(true)));
        }
        events
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use agentor_core::source::Script;
    use agentor_core::{Event, RunStatus};
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
            idle_timeout: Some(1.0),
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
            rebuffer: Some(RebufferArg::Words),
            batch_ms: Some(5),
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
