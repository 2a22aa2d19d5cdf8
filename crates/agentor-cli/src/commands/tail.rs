//! `agentor tail --redis URL --run ID | --all`: a run (or every run from
//! now on) read from the shared Redis log, printed as `chat` prints its own.

use agentor_core::Error;
use agentor_redis::{RedisLog, RedisLogConfig};
use agentor_server::event_log::{EventLog, LogError};
use futures::StreamExt;

use crate::args::TailArgs;
use crate::config::Config;
use crate::exit::Outcome;
use crate::interrupt::{stop, Interruptible};
use crate::render;

pub(crate) async fn run(args: TailArgs, config: Config) -> Outcome {
    let log = match RedisLog::connect(&args.redis, RedisLogConfig::default()).await {
        Ok(log) => log,
        Err(err) => return Outcome::Failed(err.to_string()),
    };
    let Some(run_id) = args.run else {
        // --all: every run from now on, until Ctrl-C.
        let run = log
            .all_runs()
            .map(|item| item.map_err(|e| Error::internal(e.to_string())));
        let run = Box::pin(Interruptible::new(Box::pin(run), stop()));
        return render::show(run, args.show, &config.chat).await;
    };
    let from = match args.after.map(|id| id.checked_add(1)) {
        Some(Some(from)) => from,
        Some(None) => return Outcome::Usage("--after is too large".into()),
        None => 0,
    };
    let batches = match log.read(&run_id, from).await {
        Ok(batches) => batches,
        Err(err) => return Outcome::Failed(describe(&run_id, &err)),
    };
    let run = batches.flat_map(|batch| {
        let items: Vec<_> = match batch {
            Ok(events) => events.into_iter().map(Ok).collect(),
            // Mid-stream: the log failed (Redis lost, or a gap); the error
            // is printed and ends the output, as any failed run.
            Err(err) => vec![Err(Error::internal(err.to_string()))],
        };
        futures::stream::iter(items)
    });
    let run = Box::pin(Interruptible::new(Box::pin(run), stop()));
    render::show(run, args.show, &config.chat).await
}

/// Why the run cannot be read, in one line.
fn describe(run_id: &str, err: &LogError) -> String {
    match err {
        LogError::UnknownRun => {
            format!("run `{run_id}` is not in the log (unknown, or past its retention)")
        }
        LogError::Gone { oldest } => {
            format!("the events asked for are no longer kept; the oldest is id {oldest}")
        }
        other => other.to_string(),
    }
}
