//! Re-cut text deltas at word, line or sentence boundaries.

mod cut;

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower_layer::Layer;

use crate::{Event, EventKind, EventResult, Kind, Origin, Text};

/// Where the rebuffer operator may cut text.
#[derive(Clone)]
#[non_exhaustive]
pub enum Boundary {
    /// UAX #29 word boundaries. Whitespace ends the piece it follows
    /// (`"Hello "`, `"world"`); text without spaces (Chinese, Japanese) is cut
    /// between words as UAX #29 defines them, so it still flows.
    Words,
    /// After each line feed.
    Lines,
    /// After `.`, `!`, `?` or `…` (with closing quotes or brackets) followed by
    /// whitespace, after a line break, and after a full-width `。！？`. A
    /// heuristic: abbreviations such as "e.g. this" also end a sentence.
    Sentences,
    /// A caller's rule: given the held text, returns how many leading bytes may
    /// be emitted now. The cut is rounded down to a `char` boundary; keeping
    /// grapheme clusters whole is up to the rule.
    Custom(Arc<dyn Fn(&str) -> usize + Send + Sync>),
}

impl Boundary {
    /// A boundary given by a function; see [`Boundary::Custom`].
    pub fn custom<F>(emittable: F) -> Self
    where
        F: Fn(&str) -> usize + Send + Sync + 'static,
    {
        Boundary::Custom(Arc::new(emittable))
    }
}

impl Boundary {
    /// The names of the built-in boundaries, as [`FromStr`] reads them.
    pub const NAMES: &'static [&'static str] = &["words", "lines", "sentences"];

    /// The name: `words`, `lines`, `sentences`, or `custom` for a
    /// [`Custom`](Boundary::Custom) rule (which no name parses back to).
    pub fn as_str(&self) -> &'static str {
        match self {
            Boundary::Words => "words",
            Boundary::Lines => "lines",
            Boundary::Sentences => "sentences",
            Boundary::Custom(_) => "custom",
        }
    }
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a built-in [`Boundary`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown boundary `{}` (expected words, lines or sentences)", crate::error::excerpt(.0))]
pub struct UnknownBoundary(String);

impl FromStr for Boundary {
    type Err = UnknownBoundary;

    /// Parses `words`, `lines` or `sentences`, ignoring ASCII case (names
    /// arrive from query strings, command lines and configuration files).
    ///
    /// ```
    /// use agentor_core::Boundary;
    ///
    /// let boundary: Boundary = "Sentences".parse().unwrap();
    /// assert_eq!(boundary.to_string(), "sentences");
    /// assert_eq!(
    ///     "pages".parse::<Boundary>().unwrap_err().to_string(),
    ///     "unknown boundary `pages` (expected words, lines or sentences)"
    /// );
    /// ```
    fn from_str(s: &str) -> Result<Self, UnknownBoundary> {
        let s = s.trim();
        [Boundary::Words, Boundary::Lines, Boundary::Sentences]
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownBoundary(s.to_owned()))
    }
}

impl fmt::Debug for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Boundary::Words => "Words",
            Boundary::Lines => "Lines",
            Boundary::Sentences => "Sentences",
            Boundary::Custom(_) => "Custom(..)",
        })
    }
}

/// The rebuffer operator's layer: re-cuts text and reasoning deltas so each
/// piece ends on a [`Boundary`].
///
/// Guarantees:
///
/// - **Nothing lost or moved**: the concatenated text of each source's deltas
///   is unchanged, whitespace included; other events keep their place after
///   the text that came before them.
/// - **Never splits** a UTF-8 character or (with the built-in boundaries) a
///   grapheme cluster (emoji with modifiers, flags, combining marks). Pieces are slices of the input where
///   possible: a word inside one delta is shared, not copied.
/// - **Flushes** held text on a non-text event of the same source, when the
///   delta kind (text, reasoning) or `message_id` changes, before an `Err`, at
///   end of stream, when more than [`max_bytes`] are held (cut at the best
///   boundary available, so a source holds at most `max_bytes` after each
///   delta), and when text has been held for [`max_hold`] while
///   the input is idle. Each source has its own buffer, so merged agents never
///   mix their text. Empty deltas are dropped.
///
/// A piece keeps the envelope (`seq`, `run_id`) of a delta it came from.
///
/// ```
/// use agentor_core::{source, Boundary, EventStreamExt};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pieces: Vec<String> = source::demo_text(["The qu", "ick br", "own fox"])
///     .rebuffer(Boundary::Words)
///     .filter_map(|e| async move { Some(e.ok()?.text()?.to_owned()) })
///     .collect()
///     .await;
/// assert_eq!(pieces, ["The ", "quick ", "brown ", "fox", "The quick brown fox"]);
/// # }
/// ```
///
/// [`max_bytes`]: RebufferLayer::max_bytes
/// [`max_hold`]: RebufferLayer::max_hold
#[derive(Clone, Debug)]
pub struct RebufferLayer {
    boundary: Boundary,
    max_bytes: usize,
    max_hold: Option<Duration>,
}

impl RebufferLayer {
    /// Default bound on held text per source.
    pub const DEFAULT_MAX_BYTES: usize = 1024;
    /// Default bound on how long text is held while the input is idle.
    pub const DEFAULT_MAX_HOLD: Duration = Duration::from_millis(250);

    /// Re-cuts at `boundary`, holding at most 1 KiB per source for at most 250 ms.
    pub fn new(boundary: Boundary) -> Self {
        RebufferLayer {
            boundary,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_hold: Some(Self::DEFAULT_MAX_HOLD),
        }
    }

    /// Emits held text once a source holds more than `bytes` (at least 1),
    /// cut at the best boundary available. A single grapheme cluster is still
    /// kept whole, up to 1 KiB.
    #[must_use]
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes.max(1);
        self
    }

    /// Emits held text once it has been held `hold`, counted from the first
    /// moment the input waited after the held text began (the clock is read
    /// only when the input waits). What goes out is everything but the last
    /// grapheme cluster, which follows after one more period. `None` waits
    /// for a boundary however long it takes (and needs no timer, so the stream
    /// also runs outside a tokio runtime).
    #[must_use]
    pub fn max_hold(mut self, hold: Option<Duration>) -> Self {
        self.max_hold = hold;
        self
    }
}

impl From<Boundary> for RebufferLayer {
    fn from(boundary: Boundary) -> Self {
        RebufferLayer::new(boundary)
    }
}

impl<S> Layer<S> for RebufferLayer {
    type Service = Rebuffer<S>;

    fn layer(&self, inner: S) -> Rebuffer<S> {
        Rebuffer {
            inner,
            timer: None,
            config: self.clone(),
            buffers: Vec::new(),
            last: 0,
            ready: VecDeque::new(),
            restart_timer: false,
            done: false,
        }
    }
}

/// Longest grapheme cluster kept whole when `max_bytes` is smaller: real
/// clusters (family emoji, Indic conjuncts) are tens of bytes.
const LONGEST_CLUSTER: usize = 1024;

/// Text held for one source (one source *and* parent: the same agent may
/// run as two nested sub-runs at once, whose texts must not mix).
struct Held {
    /// Envelope of the delta the held text starts in; its source and parent
    /// are the buffer's.
    origin: Origin,
    seq: u64,
    kind: Kind,
    message_id: Option<Text>,
    text: HeldText,
}

/// The held text: a delta's tail shared with the delta while only one delta
/// contributes, else a copy in `joined`. `joined` keeps its allocation
/// between pieces, so joining deltas costs one allocation per few KiB of
/// text, not one per word.
#[derive(Default)]
struct HeldText {
    one: Text,
    joined: BytesMut,
    /// While `joined` is the text held before the latest delta followed by
    /// that delta, and that delta is not all ASCII: the two. A piece is then
    /// made of them without checking copied bytes as UTF-8 again (several
    /// instructions per character of non-ASCII text), and what a cut leaves
    /// of the latest delta becomes a slice of it again.
    parts: Option<(Text, Text)>,
    /// Whether the held text is known to be ASCII (made of short ASCII
    /// deltas), where the word cut needs no Unicode rule: kept up to date by
    /// `push`, known after a cut only when it was true before.
    ascii: bool,
}

impl HeldText {
    /// Capacity of a fresh `joined` buffer.
    const JOIN_CAPACITY: usize = 4096;

    fn len(&self) -> usize {
        self.one.len() + self.joined.len()
    }

    fn as_str(&self) -> &str {
        if self.joined.is_empty() {
            &self.one
        } else {
            // Only ever filled with whole `str`s, so always UTF-8.
            std::str::from_utf8(&self.joined).unwrap_or_default()
        }
    }

    /// The held text's bytes, UTF-8 without checking them again (the word
    /// cut reads them on every delta; it validates only what it decodes).
    fn as_bytes(&self) -> &[u8] {
        if self.joined.is_empty() {
            self.one.as_bytes()
        } else {
            &self.joined
        }
    }

    #[inline]
    fn push(&mut self, more: Text) {
        let more_ascii = is_short_ascii(more.as_bytes());
        if self.len() == 0 {
            self.one = more;
            self.ascii = more_ascii;
            return;
        }
        self.ascii &= more_ascii;
        if !self.joined.is_empty() {
            self.joined.extend_from_slice(more.as_bytes());
            self.parts = None;
            return;
        }
        let needed = self.one.len() + more.len();
        if self.joined.capacity() < needed {
            self.joined = BytesMut::with_capacity(needed.max(Self::JOIN_CAPACITY));
        }
        self.joined.extend_from_slice(self.one.as_bytes());
        self.joined.extend_from_slice(more.as_bytes());
        let before = std::mem::take(&mut self.one);
        // ASCII is split out of `joined` as cheaply as it would be made of
        // the parts: keeping them pays only for other text.
        self.parts = (!(more_ascii || more.is_ascii())).then_some((before, more));
    }

    /// Removes and returns the first `at` bytes (a `char` boundary).
    #[inline]
    fn split_to(&mut self, at: usize) -> Text {
        if self.joined.is_empty() {
            let head = self.one.slice(0..at);
            self.one = self.one.slice(at..self.one.len());
            return head;
        }
        let parts = self.parts.take();
        let Some((before, latest, in_latest)) = parts.and_then(|(before, latest)| {
            let in_latest = at.checked_sub(before.len())?;
            Some((before, latest, in_latest))
        }) else {
            return self.split_joined(at);
        };
        let head = if in_latest == 0 {
            // The delta before ended where the cut is: nothing to copy.
            before
        } else if self.joined[..at].is_ascii() {
            // ASCII passes the UTF-8 check at a few instructions per eight
            // bytes: cheaper than an allocation of its own.
            self.split_joined(at)
        } else {
            let mut head = String::with_capacity(at);
            head.push_str(&before);
            head.push_str(&latest[..in_latest]);
            Text::from(head)
        };
        self.one = latest.slice(in_latest..latest.len());
        self.joined.clear();
        head
    }

    #[inline]
    fn split_joined(&mut self, at: usize) -> Text {
        Text::from_utf8(self.joined.split_to(at).freeze()).unwrap_or_default()
    }
}

/// Whether a delta is short ASCII text, which the word cut takes in one
/// pass. A long delta is not looked at: the general cut reads only its tail
/// (checking kilobytes for ASCII would cost more than the cut itself).
#[inline]
fn is_short_ascii(bytes: &[u8]) -> bool {
    bytes.len() <= 64 && bytes.iter().fold(0, |seen, &b| seen | b) < 0x80
}

impl Held {
    fn piece(&self, text: Text) -> Event {
        let kind = match self.kind {
            Kind::ReasoningDelta => EventKind::ReasoningDelta {
                text,
                message_id: self.message_id.clone(),
            },
            _ => EventKind::TextDelta {
                text,
                message_id: self.message_id.clone(),
            },
        };
        Event {
            seq: self.seq,
            origin: self.origin.clone(),
            kind,
        }
    }

    /// The first `at` bytes as a piece, if any.
    fn take(&mut self, at: usize) -> Option<Event> {
        (at > 0).then(|| {
            let text = self.text.split_to(at);
            self.piece(text)
        })
    }

    fn emit(&mut self, at: usize, out: &mut VecDeque<EventResult>) {
        if let Some(piece) = self.take(at) {
            out.push_back(Ok(piece));
        }
    }

    fn flush(&mut self, out: &mut VecDeque<EventResult>) {
        let len = self.text.len();
        self.emit(len, out);
    }
}

pin_project! {
    /// Stream for [`EventStreamExt::rebuffer`](crate::EventStreamExt::rebuffer).
    #[must_use = "streams do nothing unless polled"]
    pub struct Rebuffer<S> {
        #[pin]
        inner: S,
        // Boxed so the stream is `Unpin` whenever its input is.
        timer: Option<Pin<Box<Sleep>>>,
        config: RebufferLayer,
        buffers: Vec<Held>,
        // Index of the buffer used last: merged streams come in runs per source.
        last: usize,
        ready: VecDeque<EventResult>,
        // The held text changed its start: the hold clock restarts.
        restart_timer: bool,
        done: bool,
    }
}

impl<S: fmt::Debug> fmt::Debug for Rebuffer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rebuffer")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .field(
                "held_bytes",
                &self.buffers.iter().map(|b| b.text.len()).sum::<usize>(),
            )
            .finish()
    }
}

/// Whether two names are equal, comparing pointers first: a source's events
/// usually share one allocation of its name.
fn same_name(a: &Option<Text>, b: &Option<Text>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b,
        (None, None) => true,
        _ => false,
    }
}

#[inline]
fn find_buffer(buffers: &[Held], last: usize, origin: &Origin) -> Option<usize> {
    // One source's deltas share one origin: the buffer used last, by pointer.
    if buffers.get(last).is_some_and(|b| b.origin.same_as(origin)) {
        return Some(last);
    }
    find_buffer_by_name(buffers, last, origin)
}

fn find_buffer_by_name(buffers: &[Held], last: usize, origin: &Origin) -> Option<usize> {
    let mine = |b: &Held| {
        b.origin.same_as(origin)
            || (same_name(&b.origin.source, &origin.source)
                && same_name(&b.origin.parent, &origin.parent))
    };
    if buffers.get(last).is_some_and(mine) {
        return Some(last);
    }
    buffers.iter().position(mine)
}

impl RebufferLayer {
    /// How many leading bytes of `held` end on a boundary, given that bytes
    /// before `old_len` were examined when they arrived.
    #[inline]
    fn cut(&self, held: &HeldText, old_len: usize) -> usize {
        match &self.boundary {
            Boundary::Words if held.ascii => cut::words_ascii(held.as_bytes(), old_len),
            Boundary::Words => {
                let bytes = held.as_bytes();
                match cut::words_fast(bytes, old_len) {
                    Some(p) => p,
                    None if bytes.is_ascii() => 0,
                    None => {
                        cut::words_cjk(bytes).unwrap_or_else(|| cut::words_unicode(held.as_str()))
                    }
                }
            }
            Boundary::Lines => cut::lines(held.as_str(), old_len).unwrap_or(0),
            Boundary::Sentences => cut::sentences(held.as_str(), old_len).unwrap_or(0),
            Boundary::Custom(f) => {
                let held = held.as_str();
                cut::floor_char_boundary(held, f(held))
            }
        }
    }

    /// A cut for text over `max_bytes`: the best word boundary, else before
    /// the last grapheme cluster; one cluster is held whole unless it is
    /// pathological.
    fn size_cut(&self, held: &str) -> usize {
        match cut::forced(held) {
            0 if held.len() > self.max_bytes.max(LONGEST_CLUSTER) => held.len(),
            p => p,
        }
    }
}

impl<S> Rebuffer<S> {
    /// Takes in a text or reasoning delta. Returns true when `event` has
    /// become the piece it cut, to go out now (most deltas make at most one
    /// piece, which then skips the queue); any other piece is queued.
    ///
    /// The piece is made of the delta itself, its text and `seq` replaced:
    /// its kind and `message_id` are the held text's (a change flushes), and
    /// its origin usually is too (one producer's events share one), so
    /// nothing else is built, moved or reference-counted.
    fn on_delta(self: Pin<&mut Self>, event: &mut Event) -> bool {
        let this = self.project();
        let (kind, slot, message_id) = match &mut event.kind {
            EventKind::TextDelta { text, message_id } => (Kind::TextDelta, text, message_id),
            EventKind::ReasoningDelta { text, message_id } => {
                (Kind::ReasoningDelta, text, message_id)
            }
            _ => return false,
        };
        if slot.is_empty() {
            return false;
        }
        let index = match find_buffer(this.buffers, *this.last, &event.origin) {
            Some(i) => i,
            None => {
                this.buffers.push(Held {
                    origin: event.origin.clone(),
                    seq: 0,
                    kind,
                    message_id: None,
                    text: HeldText::default(),
                });
                this.buffers.len() - 1
            }
        };
        *this.last = index;
        let held = &mut this.buffers[index];
        if held.text.len() > 0 && (held.kind != kind || held.message_id != *message_id) {
            held.flush(this.ready);
        }
        let old_len = held.text.len();
        if old_len == 0 {
            held.kind = kind;
            held.message_id.clone_from(message_id);
            held.seq = event.seq;
            if !held.origin.same_as(&event.origin) {
                held.origin = event.origin.clone();
            }
        }
        held.text.push(std::mem::take(slot));
        let cut = this.config.cut(&held.text, old_len);
        let mut emit = false;
        if cut > 0 {
            *slot = held.text.split_to(cut);
            // The piece keeps the envelope its text starts in: the buffer's.
            let piece_seq = held.seq;
            if cut >= old_len {
                // The rest starts in this delta: the buffer takes its envelope.
                held.seq = event.seq;
                if !held.origin.same_as(&event.origin) {
                    std::mem::swap(&mut held.origin, &mut event.origin);
                }
            } else if !held.origin.same_as(&event.origin) {
                event.origin = held.origin.clone();
            }
            event.seq = piece_seq;
            emit = true;
            if !this.ready.is_empty() {
                // Behind the text a change of kind or message flushed.
                let piece = std::mem::replace(event, Event::text_delta(Text::new()));
                this.ready.push_back(Ok(piece));
                emit = false;
            }
        }
        while held.text.len() > this.config.max_bytes {
            match this.config.size_cut(held.text.as_str()) {
                0 => break,
                at => held.emit(at, this.ready),
            }
        }
        if old_len == 0 || cut > 0 {
            *this.restart_timer = true;
        }
        emit
    }

    fn flush_source(self: Pin<&mut Self>, source: &Event) {
        let this = self.project();
        if let Some(i) = find_buffer(this.buffers, *this.last, &source.origin) {
            this.buffers[i].flush(this.ready);
        }
    }

    fn flush_all(self: Pin<&mut Self>) {
        let this = self.project();
        for held in this.buffers.iter_mut() {
            held.flush(this.ready);
        }
    }

    fn holds_text(&self) -> bool {
        self.buffers.iter().any(|b| b.text.len() > 0)
    }

    /// Emits what each source has held too long (the input is idle).
    fn flush_stale(self: Pin<&mut Self>) {
        let this = self.project();
        for held in this.buffers.iter_mut() {
            let held_str = held.text.as_str();
            if held_str.is_empty() {
                continue;
            }
            // A cluster still held after a whole idle period goes out too.
            let at = match cut::forced(held_str) {
                0 => held_str.len(),
                p => p,
            };
            held.emit(at, this.ready);
        }
    }
}

impl<S: Stream<Item = EventResult>> Stream for Rebuffer<S> {
    type Item = EventResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        loop {
            if let Some(item) = self.as_mut().project().ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            if self.done {
                return Poll::Ready(None);
            }
            // The item is passed on as the inner stream returned it, not
            // taken apart and rebuilt: each move of an `Event` costs more
            // than most of what this layer does with it.
            let mut polled = self.as_mut().project().inner.poll_next(cx);
            match &mut polled {
                Poll::Ready(Some(Ok(event))) => {
                    let is_delta = event.kind().is_delta();
                    if is_delta {
                        if !self.as_mut().on_delta(event) {
                            continue;
                        }
                    } else {
                        self.as_mut().flush_source(event);
                    }
                    if self.ready.is_empty() {
                        return polled;
                    }
                    if let Poll::Ready(Some(item)) = polled {
                        let ready = self.as_mut().project().ready;
                        if is_delta {
                            // A piece goes before those cut for the held text's bound...
                            ready.push_front(item);
                        } else {
                            // ...any other event after the held text it flushed.
                            ready.push_back(item);
                        }
                    }
                }
                Poll::Ready(Some(Err(_))) => {
                    self.as_mut().flush_all();
                    if let Poll::Ready(Some(item)) = polled {
                        self.as_mut().project().ready.push_back(item);
                    }
                }
                Poll::Ready(None) => {
                    self.as_mut().flush_all();
                    *self.as_mut().project().done = true;
                }
                Poll::Pending => {
                    let Some(hold) = self.config.max_hold else {
                        return Poll::Pending;
                    };
                    if !self.holds_text() {
                        return Poll::Pending;
                    }
                    // (Re)armed only when the input goes idle, so the clock is
                    // read once per idle period, not once per delta.
                    let this = self.as_mut().project();
                    let restart = std::mem::take(this.restart_timer);
                    let sleep = match this.timer {
                        Some(sleep) => {
                            if restart {
                                sleep.as_mut().reset(Instant::now() + hold);
                            }
                            sleep
                        }
                        None => this.timer.insert(Box::pin(tokio::time::sleep(hold))),
                    };
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *this.timer = None;
                    self.as_mut().flush_stale();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
