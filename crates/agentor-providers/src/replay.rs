//! [`Replay`]: a provider playing a recorded run back.

mod pace;
mod playback;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agentor_core::{BoxEventStream, ChatRequest, Error, Provider};
use bytes::Bytes;
use tokio::io::AsyncBufRead;

use pace::Pace;
use playback::Playback;

/// A reader of a recording, as [`Replay`] plays it.
type Reader = Box<dyn AsyncBufRead + Send + Unpin>;

/// A provider that plays back a recording in agentor's native JSON lines
/// (what [`record`](agentor_core::EventStreamExt::record) writes), read with
/// [`read_json_lines`](agentor_core::wire::native::read_json_lines).
///
/// Every [`stream`](Provider::stream) call plays the whole recording from the
/// start. **The request is ignored except its `run_id`**: when set, it
/// replaces the recorded `run_id` of every event (so a replayed run joins the
/// caller's run); otherwise the recorded ones stay. Events keep their
/// recorded `seq`.
///
/// Failures are values, never panics:
///
/// - a malformed line yields the decoder's `Err` naming its line, and the
///   playback goes on;
/// - a recording that cannot be opened yields an `Err` and a `failed` run end;
/// - a recording whose last event is not a run end (cut short, or empty)
///   gets a protocol `Err` and a `failed` run end after what it holds, so
///   the stream still ends explicitly.
///
/// # Pace
///
/// [`speed`](Replay::speed) `0.0` (the default) plays as fast as the reader
/// goes. With a speed `s > 0` the replay follows the *recorded pace*, divided
/// by `s` (`1.0` recorded pace, `2.0` twice as fast):
///
/// - a line with a `t_ms` offset (what the record operator writes) is played
///   at that offset from the first event: the recorded timing, exactly;
/// - a line without one (a recording written by hand or by an older
///   version) is placed from what it carries: a text or reasoning delta
///   [`Replay::DELTA_GAP`] after the previous event (a typical model's token
///   rate), other events at once, and a `progress` event no earlier than its
///   `elapsed`.
///
/// Waiting uses tokio's clock, so tests run it under a paused clock.
///
/// ```
/// use agentor_core::{ChatRequest, Provider};
/// use agentor_providers::Replay;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let recording = concat!(
///     r#"{"type":"text_delta","seq":0,"text":"Hi"}"#, "\n",
///     r#"{"type":"run_end","seq":1,"status":"completed"}"#, "\n",
/// );
/// let replay = Replay::from_bytes(recording);
/// let request = ChatRequest::new("ignored", vec![]).with_run_id("r7");
/// let events: Vec<_> = replay.stream(request).map(Result::unwrap).collect().await;
/// assert_eq!(events[0].text(), Some("Hi"));
/// assert_eq!(events[1].origin.run_id.as_deref(), Some("r7"));
/// # }
/// ```
#[derive(Clone)]
pub struct Replay {
    source: Source,
    speed: f64,
}

/// Where a recording is read from.
#[derive(Clone)]
enum Source {
    File(PathBuf),
    Bytes(Bytes),
    Reader(Arc<dyn Fn() -> Reader + Send + Sync>),
}

impl Replay {
    /// The gap before each text or reasoning delta at speed `1.0`; see
    /// [the pace](Replay#pace).
    pub const DELTA_GAP: Duration = Duration::from_millis(20);

    /// Plays the recording in the file at `path`. The file is opened anew
    /// by each [`stream`](Provider::stream) call; a file that cannot be
    /// opened fails that stream (an `Err`, then a `failed` run end).
    pub fn open(path: impl Into<PathBuf>) -> Self {
        Replay::with_source(Source::File(path.into()))
    }

    /// Plays a recording held in memory.
    pub fn from_bytes(recording: impl Into<Bytes>) -> Self {
        Replay::with_source(Source::Bytes(recording.into()))
    }

    /// Plays what `make_reader` reads; it is called once per
    /// [`stream`](Provider::stream) call.
    ///
    /// ```
    /// use agentor_providers::Replay;
    ///
    /// let replay = Replay::from_reader(|| std::io::Cursor::new(b"".to_vec()));
    /// # let _ = replay;
    /// ```
    pub fn from_reader<F, R>(make_reader: F) -> Self
    where
        F: Fn() -> R + Send + Sync + 'static,
        R: AsyncBufRead + Send + Unpin + 'static,
    {
        Replay::with_source(Source::Reader(Arc::new(move || {
            Box::new(make_reader()) as Reader
        })))
    }

    fn with_source(source: Source) -> Self {
        Replay { source, speed: 0.0 }
    }

    /// Sets the playback speed: `0.0` as fast as possible (the default),
    /// `1.0` the recorded pace, `2.0` twice as fast; see
    /// [the pace](Replay#pace). A negative or NaN speed means as fast as
    /// possible.
    #[must_use]
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = speed;
        self
    }
}

impl Source {
    async fn open(self) -> Result<Reader, Error> {
        match self {
            Source::File(path) => match tokio::fs::File::open(&path).await {
                Ok(file) => Ok(Box::new(tokio::io::BufReader::new(file))),
                Err(err) => Err(Error::internal(format!(
                    "cannot open recording {}: {err}",
                    path.display()
                ))),
            },
            Source::Bytes(bytes) => Ok(Box::new(std::io::Cursor::new(bytes))),
            Source::Reader(make_reader) => Ok(make_reader()),
        }
    }
}

impl Provider for Replay {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let playback = Playback::new(self.source.clone(), request.run_id, Pace::new(self.speed));
        Box::pin(futures_util::stream::unfold(playback, Playback::next))
    }

    fn name(&self) -> &str {
        "replay"
    }
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source: &dyn fmt::Debug = match &self.source {
            Source::File(path) => path,
            Source::Bytes(bytes) => &bytes.len(),
            Source::Reader(_) => &"reader",
        };
        f.debug_struct("Replay")
            .field("source", source)
            .field("speed", &self.speed)
            .finish()
    }
}
