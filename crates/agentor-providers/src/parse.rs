//! [`TurnParser`]: one provider's server-sent events turned into agentor events.

use agentor_core::EventResult;

/// Turns the server-sent events of one model turn into agentor events.
///
/// A parser is a plain state machine with no I/O: the HTTP transport feeds it
/// each SSE message as it arrives and forwards what it pushes, so the same
/// parser serves live streams, recorded bodies and benchmarks.
///
/// Parsers push bare events: the transport sets `seq`, `run_id` and the run
/// start, so a parser only says what the model said. A parser pushes, over a
/// turn, text and reasoning deltas as they come, each tool call once complete,
/// and at the end the complete message, the usage and the run end (see
/// [`Provider`](agentor_core::Provider) for the full contract).
pub trait TurnParser: Send {
    /// One SSE message: its `event:` name (empty when absent) and its `data:`.
    fn message(&mut self, event: &str, data: &str, out: &mut Vec<EventResult>);

    /// The body ended. Pushes what the turn still owes: the message, usage
    /// and a `completed` run end after a proper end marker; a truncation
    /// error and a `failed` run end if the marker never came.
    fn finish(&mut self, out: &mut Vec<EventResult>);

    /// Whether the turn is over (its end marker or a failure was seen), so
    /// the transport can stop reading.
    fn is_done(&self) -> bool;
}
