//! Wire encodings: agentor JSON, native JSON lines, SSE frames and NDJSON.
mod json;
pub mod native;
