//! The names of the headers the server reads and writes, in one leaf module
//! so the routes that share them do not import each other.

/// The header carrying the run id.
pub const RUN_ID_HEADER: &str = "x-run-id";

/// The header an SSE client sends on reconnect with the last id it got.
pub const LAST_EVENT_ID_HEADER: &str = "last-event-id";

/// The header naming the A2A protocol version of a request.
pub(crate) const A2A_VERSION_HEADER: &str = "a2a-version";
