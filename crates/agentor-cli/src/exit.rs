//! How a command ends, and the exit code each ending maps to.

use std::process::ExitCode;

use agentor_core::{EventKind, EventResult, RunStatus};

/// The exit codes, as `--help` and `docs/cli.md` list them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success (for `serve`: a graceful shutdown after Ctrl-C or SIGTERM)
  1    the run failed: a provider error, a timeout, an unreadable recording, ...;
       one line on stderr names the cause
  2    bad usage: an unknown flag, a bad value, a missing or malformed config file
  130  interrupted by Ctrl-C: the run was cancelled and its `cancelled` run end printed,
       or the command was stopped before its run began (`bench`, `a2a card`: at once)";

/// How a command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It did what was asked.
    Success,
    /// The run failed; the message names the cause (one line).
    Failed(String),
    /// The command line or the configuration was wrong; the message says how.
    Usage(String),
    /// Ctrl-C cancelled its run.
    Interrupted,
    /// Ctrl-C stopped it outside a run: before its run began, or a command
    /// without one (`bench`, `a2a card`).
    Aborted,
}

impl Outcome {
    /// The process exit code: 0, 1, 2 or 130.
    pub fn code(&self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed(_) => 1,
            Outcome::Usage(_) => 2,
            Outcome::Interrupted | Outcome::Aborted => 130,
        }
    }

    /// Writes the one-line explanation to stderr (if the ending has one) and
    /// returns the exit code.
    pub fn report(&self) -> ExitCode {
        match self {
            Outcome::Failed(message) => eprintln!("agentor: run failed: {}", one_line(message)),
            Outcome::Usage(message) => eprintln!("agentor: {}", one_line(message)),
            Outcome::Interrupted => eprintln!("agentor: interrupted; the run was cancelled"),
            Outcome::Aborted => eprintln!("agentor: interrupted"),
            Outcome::Success => {}
        }
        ExitCode::from(self.code())
    }
}

impl Outcome {
    /// The outcome of writing to stdout: a reader that went away
    /// (`agentor … | head`) ends the command, and that is no failure.
    pub(crate) fn of_output(written: std::io::Result<()>) -> Outcome {
        match written {
            Ok(()) => Outcome::Success,
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Outcome::Success,
            Err(err) => Outcome::Failed(format!("cannot write to stdout: {err}")),
        }
    }
}

/// Watches a run go by and tells how it ended: its run end's status and the
/// first failure it reported.
#[derive(Debug, Default)]
pub(crate) struct RunEnding {
    status: Option<RunStatus>,
    failure: Option<String>,
}

impl RunEnding {
    /// Notes what `item` says about the ending.
    pub(crate) fn observe(&mut self, item: &EventResult) {
        match item {
            Ok(event) => match &event.kind {
                EventKind::RunEnd { status } => self.status = Some(*status),
                EventKind::Error { kind, message } => {
                    self.failure
                        .get_or_insert_with(|| format!("{kind} error: {message}"));
                }
                _ => {}
            },
            Err(err) => {
                self.failure.get_or_insert_with(|| err.to_string());
            }
        }
    }

    /// The outcome: success for `completed` (and for a run that ends asking
    /// the user: `input_required`, `auth_required`), interrupted for a `cancelled`
    /// that `interrupted` (Ctrl-C) caused, a failure naming its cause
    /// otherwise (a replayed recording of a cancelled run included).
    pub(crate) fn outcome(self, interrupted: bool) -> Outcome {
        let cause = |fallback: String| self.failure.clone().unwrap_or(fallback);
        match self.status {
            // A question to the user is an answer too: it is printed.
            Some(RunStatus::Completed | RunStatus::InputRequired | RunStatus::AuthRequired) => {
                Outcome::Success
            }
            Some(RunStatus::Cancelled) if interrupted => Outcome::Interrupted,
            Some(RunStatus::MaxTurns) => Outcome::Failed(cause(
                "the agent stopped at its turn limit without a final answer (max_turns)".into(),
            )),
            Some(status) => Outcome::Failed(cause(format!("the run ended {status}"))),
            None => Outcome::Failed(cause("the run ended without a run end".into())),
        }
    }
}

/// `message` on one line: a cause spread over lines would read as several.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_end_decides_and_the_first_failure_explains() {
        use agentor_core::{Error, ErrorKind, Event};
        let ending = |items: Vec<EventResult>| {
            let mut ending = RunEnding::default();
            items.iter().for_each(|item| ending.observe(item));
            ending.outcome(true)
        };
        assert_eq!(
            ending(vec![Ok(Event::run_end(RunStatus::Completed))]),
            Outcome::Success
        );
        assert_eq!(
            ending(vec![
                Err(Error::provider("connection refused")),
                Ok(Event::error(ErrorKind::Internal, "later")),
                Ok(Event::run_end(RunStatus::Failed)),
            ]),
            Outcome::Failed("provider error: connection refused".into())
        );
        assert_eq!(
            ending(vec![
                Ok(Event::error(ErrorKind::Timeout, "no event for 1s (idle)")),
                Ok(Event::run_end(RunStatus::TimedOut)),
            ]),
            Outcome::Failed("timeout error: no event for 1s (idle)".into())
        );
        assert_eq!(
            ending(vec![Ok(Event::run_end(RunStatus::Cancelled))]),
            Outcome::Interrupted
        );
        let mut recorded = RunEnding::default();
        recorded.observe(&Ok(Event::run_end(RunStatus::Cancelled)));
        assert_eq!(
            recorded.outcome(false),
            Outcome::Failed("the run ended cancelled".into())
        );
        assert_eq!(
            ending(vec![]),
            Outcome::Failed("the run ended without a run end".into())
        );
    }

    #[test]
    fn codes() {
        assert_eq!(Outcome::Success.code(), 0);
        assert_eq!(Outcome::Failed("x".into()).code(), 1);
        assert_eq!(Outcome::Usage("x".into()).code(), 2);
        assert_eq!(Outcome::Interrupted.code(), 130);
        assert_eq!(Outcome::Aborted.code(), 130);
        assert_eq!(one_line("a\n  b\tc "), "a b c");
        use std::io::{Error, ErrorKind};
        assert_eq!(Outcome::of_output(Ok(())), Outcome::Success);
        let closed = Error::from(ErrorKind::BrokenPipe);
        assert_eq!(Outcome::of_output(Err(closed)), Outcome::Success);
        let full = Error::other("disk full");
        assert_eq!(
            Outcome::of_output(Err(full)),
            Outcome::Failed("cannot write to stdout: disk full".into())
        );
    }
}
