//! A stand-in for `agentor_core::wire::sse::Decoder` with the same API,
//! until the core decoder lands; replaced by it, not kept beside it.

use std::time::Duration;

use agentor_core::{Error, Text};
use bytes::{Buf, Bytes, BytesMut};

pub(crate) struct SseEvent {
    pub(crate) event: Text,
    pub(crate) data: Text,
}

pub(crate) enum SseError {
    TooLarge { limit: usize },
    InvalidUtf8 { offset: u64 },
}

impl From<SseError> for Error {
    fn from(error: SseError) -> Self {
        match error {
            SseError::TooLarge { limit } => {
                Error::protocol(format!("an SSE event is larger than {limit} bytes"))
            }
            SseError::InvalidUtf8 { offset } => {
                Error::protocol(format!("the stream is not valid UTF-8 (byte {offset})"))
            }
        }
    }
}

pub(crate) struct Decoder {
    buf: BytesMut,
    limit: usize,
    event: String,
    data: String,
    has_data: bool,
    skip_lf: bool,
    event_bytes: usize,
    offset: u64,
}

impl Decoder {
    pub(crate) fn new() -> Self {
        Decoder {
            buf: BytesMut::new(),
            limit: usize::MAX,
            event: String::new(),
            data: String::new(),
            has_data: false,
            skip_lf: false,
            event_bytes: 0,
            offset: 0,
        }
    }

    pub(crate) fn max_event_bytes(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    pub(crate) fn push(&mut self, chunk: Bytes) {
        self.buf.extend_from_slice(&chunk);
    }

    pub(crate) fn next_event(&mut self) -> Result<Option<SseEvent>, SseError> {
        loop {
            if self.skip_lf && !self.buf.is_empty() {
                if self.buf[0] == b'\n' {
                    self.buf.advance(1);
                    self.offset += 1;
                }
                self.skip_lf = false;
            }
            let Some(end) = self.buf.iter().position(|&b| b == b'\n' || b == b'\r') else {
                if self.event_bytes + self.buf.len() > self.limit {
                    return Err(SseError::TooLarge { limit: self.limit });
                }
                return Ok(None);
            };
            let line = self.buf.split_to(end + 1);
            self.skip_lf = line[end] == b'\r';
            let line = std::str::from_utf8(&line[..end])
                .map_err(|e| SseError::InvalidUtf8 {
                    offset: self.offset + e.valid_up_to() as u64,
                })?
                .to_owned();
            self.offset += end as u64 + 1;
            self.event_bytes += line.len();
            if self.event_bytes > self.limit {
                return Err(SseError::TooLarge { limit: self.limit });
            }
            if line.is_empty() {
                self.event_bytes = 0;
                let event = std::mem::take(&mut self.event);
                if !std::mem::take(&mut self.has_data) {
                    continue;
                }
                let mut data = std::mem::take(&mut self.data);
                data.pop();
                return Ok(Some(SseEvent {
                    event: Text::from(event.as_str()),
                    data: Text::from(data.as_str()),
                }));
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line.as_str(), ""),
            };
            match field {
                "data" => {
                    self.data.push_str(value);
                    self.data.push('\n');
                    self.has_data = true;
                }
                "event" => value.clone_into(&mut self.event),
                _ => {}
            }
        }
    }

    pub(crate) fn finish(&mut self) -> Result<(), SseError> {
        Ok(())
    }

    #[allow(dead_code)]
    pub(crate) fn retry(&self) -> Option<Duration> {
        None
    }
}
