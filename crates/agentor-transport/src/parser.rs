//! [`TurnParser`]: one remote source's messages turned into agentor events.

use agentor_core::{Error, Event, EventResult, RunStatus};

/// Turns the messages of one remote turn into agentor events.
///
/// A parser is a plain state machine with no I/O: the transport feeds it each
/// SSE message as it arrives — or, when the server answered with a whole
/// body instead of a stream (an A2A 1.0 server answers a streaming method's
/// error as plain JSON), that body as one unnamed message — and forwards what
/// it pushes, so the same parser serves live streams, recorded bodies and
/// benchmarks.
///
/// Parsers push bare events: the transport sets `seq`, `run_id`, `source`
/// and the run start, so a parser only says what the remote side said. A
/// model parser pushes, over a turn, text and reasoning deltas as they come,
/// each tool call once complete, and at the end the complete message, the
/// usage and the run end (see [`Provider`](agentor_core::Provider) for the
/// full contract).
///
/// ```
/// use agentor_core::{Event, EventKind, EventResult, RunStatus};
/// use agentor_transport::TurnParser;
///
/// /// Every message's data is a text delta; `end` ends the turn.
/// #[derive(Default)]
/// struct Echo { done: bool }
///
/// impl TurnParser for Echo {
///     fn message(&mut self, _event: &str, data: &str, out: &mut Vec<EventResult>) {
///         if data == "end" {
///             self.done = true;
///         } else {
///             out.push(Ok(Event::new(EventKind::TextDelta { text: data.into(), message_id: None })));
///         }
///     }
///     fn finish(&mut self, out: &mut Vec<EventResult>) {
///         out.push(Ok(Event::run_end(RunStatus::Completed)));
///     }
///     fn is_done(&self) -> bool { self.done }
/// }
///
/// let mut parser = Echo::default();
/// let mut out = Vec::new();
/// parser.message("", "hi", &mut out);
/// parser.message("", "end", &mut out);
/// assert!(parser.is_done());
/// parser.finish(&mut out);
/// assert_eq!(out.len(), 2);
/// ```
pub trait TurnParser: Send {
    /// One message: its SSE `event:` name (empty when absent) and its `data:`.
    fn message(&mut self, event: &str, data: &str, out: &mut Vec<EventResult>);

    /// The body ended. Pushes what the turn still owes: the message, usage
    /// and a `completed` run end after a proper end marker; a truncation
    /// error and a `failed` run end if the marker never came.
    fn finish(&mut self, out: &mut Vec<EventResult>);

    /// Whether the turn is over (its end marker or a failure was seen), so
    /// the transport can stop reading.
    fn is_done(&self) -> bool;

    /// The transport failed (the request, the connection, a timeout, bytes
    /// that are not UTF-8 or an event over the size bound): pushes `error`
    /// and what ends the turn. By default the error and a `failed` run end;
    /// a parser that owes more (a run start it emits itself, say) overrides it.
    fn fail(&mut self, error: Error, out: &mut Vec<EventResult>) {
        out.push(Err(error));
        out.push(Ok(Event::run_end(RunStatus::Failed)));
    }
}

/// Where a model turn's parser is, and what [`TurnParser::finish`] owes from
/// there: the one end-of-turn state machine of the model parsers.
///
/// ```
/// use agentor_core::{Event, EventResult, RunStatus};
/// use agentor_transport::TurnState;
///
/// let mut state = TurnState::Streaming;
/// let mut out: Vec<EventResult> = Vec::new();
/// state.finish("stream ended before [DONE]", &mut out, |_| unreachable!());
/// assert!(out[0].is_err());
/// assert_eq!(out[1], Ok(Event::run_end(RunStatus::Failed)));
/// assert_eq!(state, TurnState::Finished);
/// assert!(state.is_done());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TurnState {
    /// Before the end marker.
    #[default]
    Streaming,
    /// The end marker came: the turn completed.
    Ended,
    /// An error ended the turn; only the run end is owed.
    Failed,
    /// `finish` ran: nothing is owed.
    Finished,
}

impl TurnState {
    /// Pushes what the turn owes at the end of the body, then is
    /// [`Finished`](TurnState::Finished): after the end marker, what `ended`
    /// pushes (the message, usage and a `completed` run end); after a
    /// failure, a `failed` run end; with no end marker, a provider error
    /// saying `cut_short` and a `failed` run end.
    pub fn finish(
        &mut self,
        cut_short: &str,
        out: &mut Vec<EventResult>,
        ended: impl FnOnce(&mut Vec<EventResult>),
    ) {
        match *self {
            TurnState::Ended => ended(out),
            TurnState::Failed => out.push(Ok(Event::run_end(RunStatus::Failed))),
            TurnState::Streaming => {
                out.push(Err(Error::provider(format!(
                    "{cut_short}: the response was cut short"
                ))));
                out.push(Ok(Event::run_end(RunStatus::Failed)));
            }
            TurnState::Finished => {}
        }
        *self = TurnState::Finished;
    }

    /// Whether the turn is over ([`TurnParser::is_done`]).
    pub fn is_done(self) -> bool {
        self != TurnState::Streaming
    }
}
