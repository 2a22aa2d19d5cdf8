//! The OpenAI **Responses API** (`POST /v1/responses`, streaming): the
//! request body ([`request_body`]) and the stream parser ([`ResponsesParser`]).
//!
//! This module does no HTTP: a transport sends the body, splits the answer
//! into SSE messages and feeds them to the parser.

mod calls;
mod parser;
mod request;
mod wire;

#[cfg(test)]
mod tests;

pub use parser::ResponsesParser;
pub use request::request_body;
