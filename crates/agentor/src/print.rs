//! [`Printer`]: a sink for programs that print a run as it happens.

use agentor_core::wire::{ndjson, Format};
use agentor_core::{Event, EventKind, EventResult, RunStatus};
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
    buf: BytesMut,
}

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
            buf: BytesMut::new(),
        }
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
        let error_event;
        let event = match item {
            Ok(event) => event,
            Err(err) => {
                error_event = err.to_event();
                &error_event
            }
        };
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
                if self.channel != Channel::Reasoning {
                    self.switch_to(Channel::Reasoning);
                    self.buf.extend_from_slice(b"[reasoning] ");
                }
                self.buf.extend_from_slice(text.as_bytes());
            }
            EventKind::Message { text, .. } => {
                if !std::mem::take(&mut self.streamed_text) {
                    self.line(format_args!("{text}"));
                }
            }
            EventKind::RunStart { agent, model } => match model {
                Some(model) => self.line(format_args!("[run] {agent} ({model})")),
                None => self.line(format_args!("[run] {agent}")),
            },
            EventKind::ReasoningSummary { text } => self.line(format_args!("[reasoning] {text}")),
            EventKind::ToolCall(call) => {
                self.line(format_args!("[tool] {} {}", call.name, call.arguments))
            }
            EventKind::ToolResult(result) => {
                let mark = if result.is_error {
                    "tool error"
                } else {
                    "tool result"
                };
                self.line(format_args!("[{mark}] {}: {}", result.name, result.output))
            }
            EventKind::AgentUpdated { agent } => self.line(format_args!("[agent] {agent}")),
            EventKind::Handoff { from, to } => self.line(format_args!("[handoff] {from} → {to}")),
            EventKind::Usage {
                input_tokens,
                output_tokens,
                total_tokens,
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
                self.line(format_args!("[error] {kind}: {message}"))
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

    /// Writes `text` on a line of its own.
    fn line(&mut self, text: std::fmt::Arguments<'_>) {
        use std::fmt::Write as _;
        self.switch_to(Channel::LineStart);
        // Writing into memory cannot fail.
        let mut line = String::new();
        let _ = line.write_fmt(text);
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.extend_from_slice(b"\n");
        self.channel = Channel::LineStart;
    }
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
