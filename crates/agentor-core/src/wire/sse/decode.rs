//! The incremental event-stream decoder: [`Decoder`], [`SseEvent`], [`SseError`].

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_core::Stream;
use pin_project_lite::pin_project;

use crate::{Error, Text};

/// The default bound on one event: 8 MiB.
const DEFAULT_MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched server-sent event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; empty when absent (callers treat empty as `message`).
    pub event: Text,
    /// The `data:` lines joined with `\n`, without a final `\n`.
    pub data: Text,
    /// The last event ID as of this event: `None` when never set, or set empty.
    pub id: Option<Text>,
}

/// Why an event stream cannot be decoded. Both are final: every later call
/// of [`Decoder::next_event`] and [`Decoder::finish`] returns the same error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// One event (or one unterminated line) is larger than the decoder's bound.
    #[error("an SSE event exceeds {limit} bytes")]
    TooLarge {
        /// The bound, [`Decoder::max_event_bytes`].
        limit: usize,
    },
    /// The body is not UTF-8, as the event-stream format requires.
    #[error("the event stream is not valid UTF-8 (byte {offset})")]
    InvalidUtf8 {
        /// Where the first invalid byte is, counted from the start of the body
        /// (a byte order mark included).
        offset: u64,
    },
}

impl From<SseError> for Error {
    fn from(err: SseError) -> Self {
        Error::protocol(err.to_string())
    }
}

/// The data buffer of the event being accumulated.
///
/// A single `data:` line stays a slice of the line it came from (so of the
/// body chunk, when the line lies within one); only a second line costs a copy.
#[derive(Debug, Default)]
enum Data {
    #[default]
    Empty,
    One(Text),
    Many(String),
}

/// An incremental parser of `text/event-stream` bodies, after the WHATWG
/// HTML standard (§ 9.2.6, "Interpreting an event stream").
///
/// [`push`](Decoder::push) body chunks as they arrive, then take the events
/// they complete with [`next_event`](Decoder::next_event) until it returns
/// `Ok(None)`; when the body ends, call [`finish`](Decoder::finish).
///
/// - A UTF-8 byte order mark at the very start is skipped.
/// - Lines end with CR, LF or CRLF, also when the CR ends one chunk and the
///   LF starts the next.
/// - A line starting with `:` is a comment; a line without a colon is a field
///   name with an empty value; one space after the colon is removed.
/// - `data` lines are joined with `\n`; the last `event` wins; an `id`
///   containing NUL is ignored; `retry` counts only when all ASCII digits;
///   other fields are ignored.
/// - A blank line dispatches the event, unless no `data` line came (then the
///   event type is reset and nothing is returned).
/// - An event not ended by a blank line when the body ends is dropped.
///
/// The decoder is also the body's UTF-8 guard: a line that is not UTF-8 is an
/// [`SseError::InvalidUtf8`] as soon as its invalid bytes arrive. An event
/// (the bytes of its field lines, comments not counted, plus a pending
/// unterminated line) is bounded by [`max_event_bytes`](Decoder::max_event_bytes),
/// 8 MiB unless set; a larger one is an [`SseError::TooLarge`].
///
/// A `data` value lying within one pushed chunk is returned as a slice of
/// that chunk, not a copy; lines spanning chunks, and events of several
/// `data` lines, are copied once.
///
/// ```
/// use agentor_core::wire::sse::{Decoder, SseError};
/// use bytes::Bytes;
///
/// let mut decoder = Decoder::new();
/// decoder.push(Bytes::from_static(b"id: 1\nevent: delta\ndata: {\"text\":\"Hel\"}\n\ndata: a\r"));
/// let event = decoder.next_event()?.expect("a whole event");
/// assert_eq!((event.event.as_str(), event.data.as_str()), ("delta", "{\"text\":\"Hel\"}"));
/// assert_eq!(event.id.as_deref(), Some("1"));
/// assert_eq!(decoder.next_event()?, None); // the second event is not complete yet
///
/// decoder.push(Bytes::from_static(b"\ndata: b\n\n: a comment\n"));
/// let event = decoder.next_event()?.expect("the second event");
/// assert_eq!((event.event.as_str(), event.data.as_str()), ("", "a\nb"));
/// assert_eq!(decoder.next_event()?, None);
/// decoder.finish()?;
/// # Ok::<(), SseError>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    max_event_bytes: usize,
    /// Pushed chunks not yet parsed; the front one may be partly consumed.
    chunks: VecDeque<Bytes>,
    /// The start of a line that spans chunks.
    partial: BytesMut,
    /// How much of `partial` is known to be UTF-8 (a char boundary).
    partial_checked: usize,
    /// The body offset of the first byte not yet moved out of `chunks`.
    offset: u64,
    /// Bytes pushed in all.
    pushed: u64,
    /// The last line ended with CR: an LF right after it belongs to it.
    after_cr: bool,
    /// No line has been read yet, so a byte order mark may come.
    at_start: bool,
    /// Bytes of the field lines of the event being accumulated.
    event_bytes: usize,
    data: Data,
    event_type: Option<Text>,
    id_buffer: Option<Text>,
    last_event_id: Option<Text>,
    retry: Option<Duration>,
    ended: bool,
    failed: Option<SseError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder at the start of a body, bounding one event to 8 MiB.
    pub fn new() -> Self {
        Decoder {
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            chunks: VecDeque::new(),
            partial: BytesMut::new(),
            partial_checked: 0,
            offset: 0,
            pushed: 0,
            after_cr: false,
            at_start: true,
            event_bytes: 0,
            data: Data::Empty,
            event_type: None,
            id_buffer: None,
            last_event_id: None,
            retry: None,
            ended: false,
            failed: None,
        }
    }

    /// Bounds one event (all its field lines) to `limit` bytes, and so also
    /// one unterminated line.
    #[must_use]
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.max_event_bytes = limit;
        self
    }

    /// Appends the next chunk of the body. Nothing is parsed until
    /// [`next_event`](Decoder::next_event); bytes pushed after
    /// [`finish`](Decoder::finish) or an error are ignored.
    pub fn push(&mut self, chunk: Bytes) {
        if self.ended || self.failed.is_some() || chunk.is_empty() {
            return;
        }
        self.pushed += chunk.len() as u64;
        self.chunks.push_back(chunk);
    }

    /// The next event completed by the bytes pushed so far, or `Ok(None)`
    /// when more input is needed.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        match self.parse() {
            Ok(event) => Ok(event),
            Err(err) => {
                self.fail(err.clone());
                Err(err)
            }
        }
    }

    /// Ends the body. An event not yet ended by a blank line is dropped, as
    /// the standard says; events already complete can still be taken with
    /// [`next_event`](Decoder::next_event).
    ///
    /// The unterminated tail must still be UTF-8: a body that ends inside a
    /// character, or whose last line is invalid, is an
    /// [`SseError::InvalidUtf8`] here (nothing can complete that character
    /// any more).
    pub fn finish(&mut self) -> Result<(), SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        self.ended = true;
        if let Some(offset) = self.invalid_tail() {
            let err = SseError::InvalidUtf8 { offset };
            self.fail(err.clone());
            return Err(err);
        }
        Ok(())
    }

    /// The last event ID as of the last blank line: what a reconnecting
    /// client sends as `Last-Event-ID`. `None` when never set, or set empty.
    pub fn last_event_id(&self) -> Option<&Text> {
        self.last_event_id.as_ref()
    }

    /// The reconnection time from the last valid `retry:` field, if any.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    fn fail(&mut self, err: SseError) {
        self.failed = Some(err);
        // Nothing will be parsed any more: free the buffers.
        self.chunks = VecDeque::new();
        self.partial = BytesMut::new();
        self.data = Data::Empty;
    }

    fn parse(&mut self) -> Result<Option<SseEvent>, SseError> {
        while let Some((line, start)) = self.next_line()? {
            if let Some(event) = self.process(line, start)? {
                return Ok(Some(event));
            }
        }
        Ok(None)
    }

    /// The next complete line (without its line end) and its body offset.
    fn next_line(&mut self) -> Result<Option<(Bytes, u64)>, SseError> {
        let (event_bytes, limit) = (self.event_bytes, self.max_event_bytes);
        loop {
            let Some(chunk) = self.chunks.front_mut() else {
                return Ok(None);
            };
            if self.after_cr {
                self.after_cr = false;
                if chunk[0] == b'\n' {
                    chunk.advance(1);
                    self.offset += 1;
                    if chunk.is_empty() {
                        self.chunks.pop_front();
                        continue;
                    }
                }
            }
            match memchr::memchr2(b'\n', b'\r', chunk) {
                Some(end) => {
                    self.after_cr = chunk[end] == b'\r';
                    let (line, start) = if self.partial.is_empty() {
                        let line = chunk.split_to(end);
                        let start = self.offset;
                        self.offset += end as u64;
                        (line, start)
                    } else {
                        check_size(event_bytes, limit, self.partial.len() + end)?;
                        let start = self.offset - self.partial.len() as u64;
                        self.partial.extend_from_slice(&chunk[..end]);
                        chunk.advance(end);
                        self.offset += end as u64;
                        self.partial_checked = 0;
                        (self.partial.split().freeze(), start)
                    };
                    chunk.advance(1);
                    self.offset += 1;
                    if chunk.is_empty() {
                        self.chunks.pop_front();
                    }
                    check_size(event_bytes, limit, line.len())?;
                    return Ok(Some((line, start)));
                }
                None => {
                    check_size(event_bytes, limit, self.partial.len() + chunk.len())?;
                    self.partial.extend_from_slice(chunk);
                    self.offset += chunk.len() as u64;
                    self.chunks.pop_front();
                    self.check_partial()?;
                }
            }
        }
    }

    /// Reports invalid UTF-8 in an unterminated line as soon as it arrives,
    /// rather than when (if ever) its line ends.
    fn check_partial(&mut self) -> Result<(), SseError> {
        match std::str::from_utf8(&self.partial[self.partial_checked..]) {
            Ok(_) => self.partial_checked = self.partial.len(),
            Err(err) => {
                let at = self.partial_checked + err.valid_up_to();
                if err.error_len().is_some() {
                    let start = self.offset - self.partial.len() as u64;
                    return Err(SseError::InvalidUtf8 {
                        offset: start + at as u64,
                    });
                }
                // A character cut by the chunk boundary: the next chunk decides.
                self.partial_checked = at;
            }
        }
        Ok(())
    }

    /// Applies one line to the event being accumulated; a blank line may
    /// dispatch it.
    fn process(&mut self, mut line: Bytes, mut start: u64) -> Result<Option<SseEvent>, SseError> {
        if self.at_start {
            self.at_start = false;
            if line.starts_with(BOM) {
                line.advance(BOM.len());
                start += BOM.len() as u64;
            }
        }
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line[0] == b':' {
            validate(&line, start)?;
            return Ok(None);
        }
        self.event_bytes += line.len();
        let (name_end, value_start) = match memchr::memchr(b':', &line) {
            Some(colon) if line.get(colon + 1) == Some(&b' ') => (colon, colon + 2),
            Some(colon) => (colon, colon + 1),
            None => (line.len(), line.len()),
        };
        // A colon is ASCII, so it never splits a character: the name and the
        // value are validated apart.
        let value_text = |line: &Bytes| {
            Text::from_utf8(line.slice(value_start..)).map_err(|err| SseError::InvalidUtf8 {
                offset: start + (value_start + err.valid_up_to()) as u64,
            })
        };
        match &line[..name_end] {
            b"data" => {
                let value = value_text(&line)?;
                self.data = match std::mem::take(&mut self.data) {
                    Data::Empty => Data::One(value),
                    Data::One(first) => {
                        let mut joined = String::with_capacity(first.len() + 1 + value.len());
                        joined.push_str(&first);
                        joined.push('\n');
                        joined.push_str(&value);
                        Data::Many(joined)
                    }
                    Data::Many(mut joined) => {
                        joined.push('\n');
                        joined.push_str(&value);
                        Data::Many(joined)
                    }
                };
            }
            b"event" => self.event_type = Some(value_text(&line)?),
            b"id" => {
                let value = value_text(&line)?;
                if memchr::memchr(0, value.as_bytes()).is_none() {
                    self.id_buffer = (!value.is_empty()).then_some(value);
                }
            }
            b"retry" => {
                let value = &line[value_start..];
                if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
                    let millis = value.iter().fold(0u64, |n, d| {
                        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                    });
                    self.retry = Some(Duration::from_millis(millis));
                } else {
                    validate(&line, start)?;
                }
            }
            _ => validate(&line, start)?,
        }
        Ok(None)
    }

    /// The blank line: the standard's "dispatch the event" steps.
    fn dispatch(&mut self) -> Option<SseEvent> {
        self.event_bytes = 0;
        self.last_event_id.clone_from(&self.id_buffer);
        let event = self.event_type.take().unwrap_or_default();
        let data = match std::mem::take(&mut self.data) {
            Data::Empty => return None,
            Data::One(data) => data,
            Data::Many(data) => Text::from(data),
        };
        Some(SseEvent {
            event,
            data,
            id: self.id_buffer.clone(),
        })
    }

    /// The body offset of the first invalid byte after the last line end, if
    /// there is one.
    fn invalid_tail(&self) -> Option<u64> {
        let mut tail_chunks = 0;
        let mut tail_start_in_first = 0;
        for chunk in self.chunks.iter().rev() {
            if let Some(end) = memchr::memrchr2(b'\n', b'\r', chunk) {
                tail_start_in_first = end + 1;
                tail_chunks += 1;
                break;
            }
            tail_chunks += 1;
        }
        let first = self.chunks.len() - tail_chunks;
        let terminated = tail_start_in_first > 0;
        let mut tail = Vec::new();
        if !terminated {
            tail.extend_from_slice(&self.partial);
        }
        for (i, chunk) in self.chunks.iter().enumerate().skip(first) {
            let from = if i == first { tail_start_in_first } else { 0 };
            tail.extend_from_slice(&chunk[from..]);
        }
        let err = std::str::from_utf8(&tail).err()?;
        Some(self.pushed - tail.len() as u64 + err.valid_up_to() as u64)
    }
}

/// Fails when an event of `event_bytes` so far plus a line of `line_len`
/// bytes would exceed `limit`.
fn check_size(event_bytes: usize, limit: usize, line_len: usize) -> Result<(), SseError> {
    if event_bytes.saturating_add(line_len) > limit {
        return Err(SseError::TooLarge { limit });
    }
    Ok(())
}

pin_project! {
    /// The events of a body stream, decoded by a [`Decoder`].
    ///
    /// An error of the body, or of decoding, is yielded once and ends the
    /// stream; so does the end of the body (after [`Decoder::finish`]).
    ///
    /// ```
    /// use agentor_core::wire::sse::{SseError, SseStream};
    /// use bytes::Bytes;
    /// use futures_util::StreamExt;
    ///
    /// # futures::executor::block_on(async {
    /// let body = futures_util::stream::iter(["data: a\n", "\ndata: b\n\n"])
    ///     .map(|s| Ok::<_, SseError>(Bytes::from(s)));
    /// let data: Vec<String> = SseStream::new(body)
    ///     .map(|event| event.map(|e| String::from(e.data)))
    ///     .collect::<Vec<_>>()
    ///     .await
    ///     .into_iter()
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(data, ["a", "b"]);
    /// # Ok::<(), SseError>(())
    /// # }).unwrap();
    /// ```
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct SseStream<S> {
        #[pin]
        body: S,
        decoder: Decoder,
        done: bool,
    }
}

impl<S> SseStream<S> {
    /// Decodes `body` with a default [`Decoder`].
    pub fn new(body: S) -> Self {
        SseStream::with_decoder(body, Decoder::new())
    }

    /// Decodes `body` with `decoder` (for another bound, say).
    pub fn with_decoder(body: S, decoder: Decoder) -> Self {
        SseStream {
            body,
            decoder,
            done: false,
        }
    }

    /// The decoder, for [`Decoder::last_event_id`] and [`Decoder::retry`].
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }
}

impl<S, E> Stream for SseStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: From<SseError>,
{
    type Item = Result<SseEvent, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            match this.decoder.next_event() {
                Ok(Some(event)) => return Poll::Ready(Some(Ok(event))),
                Ok(None) => {}
                Err(err) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(err.into())));
                }
            }
            match ready!(this.body.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => this.decoder.push(chunk),
                Some(Err(err)) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(err)));
                }
                None => {
                    *this.done = true;
                    // Complete events are all taken: `next_event` said so.
                    if let Err(err) = this.decoder.finish() {
                        return Poll::Ready(Some(Err(err.into())));
                    }
                }
            }
        }
    }
}

/// Checks a line that yields no text is still UTF-8.
fn validate(line: &[u8], start: u64) -> Result<(), SseError> {
    std::str::from_utf8(line)
        .map(drop)
        .map_err(|err| SseError::InvalidUtf8 {
            offset: start + err.valid_up_to() as u64,
        })
}

#[cfg(test)]
mod tests;
