//! [`Printer`]: a sink for programs that print a run as it happens.

use agentor_core::wire::{ndjson, Format};
use agentor_core::{Envelope, Event, EventKind, EventResult, RunStatus};
use bytes::BytesMut;
use futures_core::Stream;
use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// How a [`Printer`] writes events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PrintFormat {
    /// For people: text deltas as they arrive, everything else on its own
    /// short line (`[tool] get_weather {"city":"Paris"}`).
    #[default]
    Text,
    /// For programs: one JSON object per line, in the given shape.
    JsonLines(Format),
}

/// What the text format is in the middle of writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    LineStart,
    Text,
    Reasoning,
}

/// Writes a run to stdout (or any `AsyncWrite`) as it happens, flushing
/// after every event so each delta shows the moment it arrives.
///
/// In [`PrintFormat::Text`], text deltas are written inline; reasoning deltas
/// inline after a `[reasoning]` mark on their own line; the complete message
/// only when no delta showed its text; every other kind on one line of its
/// own (`[run]`, `[tool]`, `[tool result]`, `[usage]`, `[error]`, `[done]`).
/// A tool call's arguments and a tool's output are clipped to one short line
/// ([`Printer::TOOL_LINE`] characters). [`Printer::styled`] adds terminal
/// styles: reasoning and the bracketed lines dimmed, errors in red.
/// In [`PrintFormat::JsonLines`], one JSON object per line, `Err` items as
/// their error events.
///
/// ```
/// use agentor::print::{PrintFormat, Printer};
/// use agentor_core::source;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mut printer = Printer::new(Vec::new(), PrintFormat::Text);
/// let status = printer.print_all(source::demo_text(["Hello", ", world"])).await?;
/// assert_eq!(status, Some(agentor_core::RunStatus::Completed));
/// assert_eq!(String::from_utf8(printer.into_inner()).unwrap(), "Hello, world\n[done] completed\n");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Printer<W> {
    out: W,
    format: PrintFormat,
    channel: Channel,
    /// Whether deltas showed the current message's text already.
    streamed_text: bool,
    /// Whether to write ANSI styles (for a terminal).
    styled: bool,
    buf: BytesMut,
    /// The envelope of the events printed, for a failure's error event.
    envelope: Envelope,
}

/// ANSI: dim (faint) text.
const DIM: &str = "\x1b[2m";
/// ANSI: red text.
const RED: &str = "\x1b[31m";
/// ANSI: back to the default style.
const RESET: &str = "\x1b[0m";

impl Printer<tokio::io::Stdout> {
    /// A printer writing to standard output.
    pub fn stdout(format: PrintFormat) -> Self {
        Printer::new(tokio::io::stdout(), format)
    }
}

impl<W: AsyncWrite + Unpin> Printer<W> {
    /// A printer writing to `out`.
    pub fn new(out: W, format: PrintFormat) -> Self {
        Printer {
            out,
            format,
            channel: Channel::LineStart,
            streamed_text: false,
            styled: false,
            buf: BytesMut::new(),
            envelope: Envelope::new(),
        }
    }

    /// The most characters of a tool call's arguments or a tool's output
    /// that [`PrintFormat::Text`] shows; the rest is cut with `…`.
    pub const TOOL_LINE: usize = 100;

    /// Whether [`PrintFormat::Text`] writes ANSI styles (default `false`):
    /// reasoning and the bracketed lines dimmed, errors in red. For a
    /// terminal; JSON lines are never styled.
    ///
    /// ```
    /// use agentor::print::{PrintFormat, Printer};
    /// use agentor_core::{source, Event};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let mut printer = Printer::new(Vec::new(), PrintFormat::Text).styled(true);
    /// printer.print_all(source::iter([Event::reasoning_delta("hmm"), Event::text_delta("Hi")])).await?;
    /// let out = String::from_utf8(printer.into_inner()).unwrap();
    /// assert_eq!(out, "\x1b[2m[reasoning] hmm\x1b[0m\nHi");
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn styled(mut self, styled: bool) -> Self {
        self.styled = styled;
        self
    }

    /// The writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Prints every item of `stream`; returns the run's final status, if a
    /// run end came.
    pub async fn print_all<S>(&mut self, stream: S) -> std::io::Result<Option<RunStatus>>
    where
        S: Stream<Item = EventResult>,
    {
        let mut stream = std::pin::pin!(stream);
        let mut status = None;
        while let Some(item) = stream.next().await {
            if let Ok(event) = &item {
                status = event.run_status().or(status);
            }
            self.print(&item).await?;
        }
        Ok(status)
    }

    /// Prints one item and flushes.
    pub async fn print(&mut self, item: &EventResult) -> std::io::Result<()> {
        // A failure is printed as an error of the run it ends.
        let event = self.envelope.event_ref(item);
        let event = &*event;
        match self.format {
            PrintFormat::JsonLines(format) => ndjson::encode(format, event, &mut self.buf),
            PrintFormat::Text => self.render(event),
        }
        self.out.write_all_buf(&mut self.buf).await?;
        self.out.flush().await
    }

    fn render(&mut self, event: &Event) {
        match &event.kind {
            EventKind::TextDelta { text, .. } => {
                self.switch_to(Channel::Text);
                self.streamed_text = true;
                self.buf.extend_from_slice(text.as_bytes());
            }
            EventKind::ReasoningDelta { text, .. } => {
                // Styled per delta: the style never outlives what it marks,
                // whatever is written next (or if the run stops here).
                if self.channel != Channel::Reasoning {
                    self.switch_to(Channel::Reasoning);
                    self.style(DIM);
                    self.buf.extend_from_slice(b"[reasoning] ");
                } else {
                    self.style(DIM);
                }
                self.buf.extend_from_slice(text.as_bytes());
                self.style(RESET);
            }
            EventKind::Message { text, .. } => {
                if !std::mem::take(&mut self.streamed_text) {
                    self.styled_line("", format_args!("{text}"));
                }
            }
            EventKind::RunStart { agent, model } => match model {
                Some(model) => self.line(format_args!("[run] {agent} ({model})")),
                None => self.line(format_args!("[run] {agent}")),
            },
            EventKind::ReasoningSummary { text } => self.line(format_args!("[reasoning] {text}")),
            EventKind::ToolCall(call) => {
                let arguments = call.arguments.to_string();
                let arguments = clip(&arguments, Self::TOOL_LINE);
                self.line(format_args!("[tool] {} {arguments}", call.name))
            }
            // The complete call follows and is printed whole.
            EventKind::ToolCallDelta(_) => {}
            EventKind::ToolResult(result) => {
                let mark = if result.is_error {
                    "tool error"
                } else {
                    "tool result"
                };
                let output = clip(&result.output, Self::TOOL_LINE);
                self.line(format_args!("[{mark}] {}: {output}", result.name))
            }
            EventKind::AgentUpdated { agent } => self.line(format_args!("[agent] {agent}")),
            EventKind::Handoff { from, to } => self.line(format_args!("[handoff] {from} → {to}")),
            EventKind::Usage {
                input_tokens,
                output_tokens,
                total_tokens,
                ..
            } => self.line(format_args!(
                "[usage] input {input_tokens}, output {output_tokens}, total {total_tokens} tokens"
            )),
            EventKind::Progress(p) => self.line(format_args!(
                "[progress] {} events, {} deltas, {} bytes, {} tool calls, {:.1}s",
                p.events,
                p.text_deltas,
                p.text_bytes,
                p.tool_calls,
                p.elapsed.as_secs_f64()
            )),
            EventKind::Error { kind, message } => {
                self.styled_line(RED, format_args!("[error] {kind}: {message}"))
            }
            EventKind::RunEnd { status } => self.line(format_args!("[done] {status}")),
            _ => self.line(format_args!("[{}]", event.kind())),
        }
    }

    /// Ends the current line if something is on it, and enters `channel`.
    fn switch_to(&mut self, channel: Channel) {
        if self.channel != channel && self.channel != Channel::LineStart {
            self.buf.extend_from_slice(b"\n");
        }
        self.channel = channel;
    }

    /// Writes `text` on a line of its own, dimmed when styled.
    fn line(&mut self, text: std::fmt::Arguments<'_>) {
        self.styled_line(DIM, text);
    }

    /// Writes `text` on a line of its own, in `style` when styled.
    fn styled_line(&mut self, style: &str, text: std::fmt::Arguments<'_>) {
        use std::fmt::Write as _;
        self.switch_to(Channel::LineStart);
        // Writing into memory cannot fail.
        let mut line = String::new();
        let _ = line.write_fmt(text);
        self.style(style);
        self.buf.extend_from_slice(line.as_bytes());
        if !style.is_empty() {
            self.style(RESET);
        }
        self.buf.extend_from_slice(b"\n");
        self.channel = Channel::LineStart;
    }

    /// Writes an ANSI style, when styled.
    fn style(&mut self, style: &str) {
        if self.styled {
            self.buf.extend_from_slice(style.as_bytes());
        }
    }
}

/// `text` on one line of at most `max` characters: line breaks become
/// spaces, and what is cut is marked with `…`.
fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let short = text.chars().count() <= max && !text.contains(['\n', '\r']);
    if short {
        return text.into();
    }
    let mut line: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .take(max)
        .collect();
    if text.chars().count() > max {
        line.push('…');
    }
    line.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentor_core::{source, Error, ErrorKind};
    use serde_json::json;

    async fn printed(format: PrintFormat, items: Vec<EventResult>) -> String {
        let mut printer = Printer::new(Vec::new(), format);
        printer
            .print_all(source::iter_results(items))
            .await
            .unwrap();
        String::from_utf8(printer.into_inner()).unwrap()
    }

    #[tokio::test]
    async fn text_flows_and_other_kinds_take_their_own_lines() {
        let items = vec![
            Ok(Event::new(EventKind::RunStart {
                agent: "Weather".into(),
                model: Some("gpt".into()),
            })),
            Ok(Event::reasoning_delta("Need the ")),
            Ok(Event::reasoning_delta("tool.")),
            Ok(Event::text_delta("Let me ")),
            Ok(Event::text_delta("check.")),
            Ok(Event::message("Let me check.")),
            Ok(Event::tool_call(
                "c1",
                "get_weather",
                json!({"city": "Paris"}),
            )),
            Ok(Event::tool_result("c1", "get_weather", "sunny")),
            Ok(Event::message("It is sunny.")),
            Err(Error::provider("hiccup")),
            Ok(Event::run_end(RunStatus::Completed)),
        ];
        let out = printed(PrintFormat::Text, items).await;
        assert_eq!(
            out,
            "[run] Weather (gpt)\n\
             [reasoning] Need the tool.\n\
             Let me check.\n\
             [tool] get_weather {\"city\":\"Paris\"}\n\
             [tool result] get_weather: sunny\n\
             It is sunny.\n\
             [error] provider: hiccup\n\
             [done] completed\n"
        );
    }

    #[tokio::test]
    async fn tool_lines_stay_short() {
        let long = "x".repeat(300);
        let items = vec![
            Ok(Event::tool_call("c1", "search", json!({ "q": long }))),
            Ok(Event::tool_result("c1", "search", "first\nsecond")),
        ];
        let out = printed(PrintFormat::Text, items).await;
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(
            lines[0].ends_with('…') && lines[0].chars().count() < 120,
            "{out}"
        );
        assert_eq!(lines[1], "[tool result] search: first second");
    }

    #[tokio::test]
    async fn styles_never_leak_past_what_they_mark() {
        let mut printer = Printer::new(Vec::new(), PrintFormat::Text).styled(true);
        let items = vec![
            Ok(Event::reasoning_delta("think")),
            Ok(Event::text_delta("answer")),
            Err(Error::provider("boom")),
            Ok(Event::run_end(RunStatus::Failed)),
        ];
        printer
            .print_all(source::iter_results(items))
            .await
            .unwrap();
        let out = String::from_utf8(printer.into_inner()).unwrap();
        assert_eq!(
            out,
            "\x1b[2m[reasoning] think\x1b[0m\nanswer\n\x1b[31m[error] provider: boom\x1b[0m\n\x1b[2m[done] failed\x1b[0m\n"
        );
    }

    #[tokio::test]
    async fn json_lines_are_one_event_per_line() {
        let items = vec![
            Ok(Event::text_delta("a\nb")),
            Ok(Event::error(ErrorKind::Timeout, "slow")),
        ];
        let out = printed(PrintFormat::JsonLines(Format::Native), items).await;
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["text"], "a\nb");
        assert_eq!(lines[1]["error_kind"], "timeout");
    }
}
