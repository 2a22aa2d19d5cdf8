//! [`Agentor`]: an agent with instructions, tools and a model provider.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use agentor_core::{Error, ModelSettings, Provider, RunStatus, Text, ToolSpec};
use futures_util::StreamExt;

use crate::chat_stream::ChatStream;
use crate::config::{Config, Input};
use crate::nested::SubAgent;
use crate::run::{new_run_id, run};
use crate::Tool;

/// An agent: a name, instructions, tools, and a provider answering for a model.
///
/// Cheap to clone (the configuration is shared); every call starts an
/// independent run.
///
/// ```
/// use agentor::{Agentor, Tool, ToolError};
/// use agentor_providers::Demo;
/// use futures_util::StreamExt;
/// use serde_json::json;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let agent = Agentor::builder()
///     .name("Assistant")
///     .model("gpt-5-mini")
///     .instructions("You are a helpful assistant.")
///     .provider(Demo::instant())
///     .build();
///
/// let mut events = agent.stream_chat("Explain quantum computing");
/// while let Some(event) = events.next().await {
///     let event = event.unwrap();
///     if let Some(text) = event.text() {
///         print!("{text}");
///     }
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct Agentor {
    pub(crate) inner: Arc<Config>,
}

impl Agentor {
    /// Starts building an agent.
    pub fn builder() -> AgentorBuilder {
        AgentorBuilder::default()
    }

    /// The agent's name (the `source` of its events).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The model it asks for.
    pub fn model(&self) -> &str {
        &self.inner.model
    }

    /// The provider answering.
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.inner.provider
    }

    /// The tools the model may call (an A2A agent card lists them as skills).
    pub fn tools(&self) -> &[Tool] {
        &self.inner.tools
    }

    /// This agent with tools that the *client* runs, for one request: an
    /// AG-UI frontend's `tools`, say. The model is offered them before the
    /// agent's own; when a turn calls one, the agent runs the turn's other
    /// calls, then ends the run `completed` without a result for the
    /// client's call — the client runs it and sends the result back in the
    /// next request's conversation. A client tool named like one of the
    /// agent's is left out (the agent's own wins).
    ///
    /// The configuration is copied (the tools, provider and settings are
    /// shared, not rebuilt), so calling this per request is cheap.
    ///
    /// ```
    /// use agentor::{Agentor, ToolSpec};
    /// use agentor_providers::Demo;
    /// use futures_util::StreamExt;
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let agent = Agentor::builder().provider(Demo::instant()).build();
    /// let confirm = ToolSpec {
    ///     name: "confirm".into(),
    ///     description: "Ask the user to confirm.".into(),
    ///     parameters: json!({"type": "object"}),
    /// };
    /// let events: Vec<_> = agent
    ///     .with_client_tools([confirm])
    ///     .stream_chat("Shall we?")
    ///     .map(Result::unwrap)
    ///     .collect()
    ///     .await;
    /// // The demo calls the tool; no result follows, and the run completes.
    /// assert!(events.iter().any(|e| e.tool_name() == Some("confirm")));
    /// assert!(events.iter().all(|e| e.kind() != agentor::Kind::ToolResult));
    /// assert_eq!(events.last().unwrap().run_status(), Some(agentor::RunStatus::Completed));
    /// # }
    /// ```
    #[must_use]
    pub fn with_client_tools(&self, tools: impl IntoIterator<Item = ToolSpec>) -> Agentor {
        let mut config = (*self.inner).clone();
        for spec in tools {
            let taken = config.tools.iter().any(|t| t.name() == &*spec.name)
                || config.client_tools.iter().any(|t| t.name == spec.name);
            if !taken {
                config.client_tools.push(spec);
            }
        }
        Agentor {
            inner: Arc::new(config),
        }
    }

    /// The tools the client runs (see [`with_client_tools`](Self::with_client_tools)).
    pub fn client_tools(&self) -> &[ToolSpec] {
        &self.inner.client_tools
    }

    /// Runs the agent on `input`, streaming every event: the run start, text
    /// and reasoning deltas as the model produces them, tool calls, each tool
    /// result the moment it completes, messages, usage, and a run end
    /// (`completed`, `max_turns` or `failed`; `input_required` or
    /// `auth_required` when a tool interrupts, see [`Interrupt`](crate::Interrupt)).
    ///
    /// Every event carries the run id and the agent's name as `source`, and
    /// `seq` numbers the run's events from 0. The run start names the model
    /// as the provider reports it (the offline demo says it is a demo).
    /// Dropping the stream cancels the model request and any running tools.
    ///
    /// Poll it inside a tokio runtime: tools run on spawned tasks, so a
    /// panicking tool becomes an error result instead of a crash.
    pub fn stream_chat(&self, input: impl Into<Input>) -> ChatStream {
        self.stream_chat_with_run_id(input, new_run_id())
    }

    /// [`stream_chat`](Agentor::stream_chat) with a run id chosen by the
    /// caller: a server needs the id before the first event (for a response
    /// header, or to register the run's replay log).
    pub fn stream_chat_with_run_id(
        &self,
        input: impl Into<Input>,
        run_id: impl Into<Text>,
    ) -> ChatStream {
        ChatStream::new(run(self.inner.clone(), input.into(), run_id.into()))
    }

    /// A fresh run id, in the form the agent uses (`run_<hex>`).
    pub fn new_run_id() -> Text {
        new_run_id()
    }

    /// Runs the agent on `input` and returns its final answer: the text of the
    /// last message. A run that fails, stops at `max_turns` without an
    /// answer, or ends asking the user (`input_required`), is an error.
    pub async fn chat(&self, input: impl Into<Input>) -> Result<String, Error> {
        let mut events = self.stream_chat(input);
        let mut answer = String::new();
        let mut failure = None;
        while let Some(item) = events.next().await {
            let event = match item {
                Ok(event) => event,
                Err(err) => {
                    failure.get_or_insert(err);
                    continue;
                }
            };
            // A sub-agent's events (an agent tool's run) are not this run's
            // answer, and its failures are tool errors, not this run's.
            if event.origin.parent.is_some() {
                continue;
            }
            match &event.kind {
                agentor_core::EventKind::Message { text, .. } => answer = text.to_string(),
                agentor_core::EventKind::Error { kind, message } => {
                    failure.get_or_insert(Error::new(*kind, message.clone()));
                }
                agentor_core::EventKind::RunEnd { status } => match status {
                    RunStatus::Completed => return Ok(answer),
                    RunStatus::InputRequired | RunStatus::AuthRequired => {
                        // `chat` has no way to answer; `stream_chat` does.
                        return Err(Error::internal(format!(
                            "the agent ended its turn {status}, asking: {answer}"
                        )));
                    }
                    RunStatus::MaxTurns => {
                        return Err(Error::internal(format!(
                            "stopped after {} turns without a final answer (max_turns)",
                            self.inner.max_turns
                        )))
                    }
                    _ => {
                        return Err(failure
                            .unwrap_or_else(|| Error::internal(format!("run ended: {status}"))))
                    }
                },
                _ => {}
            }
        }
        Err(failure.unwrap_or_else(|| Error::internal("run ended without a run end")))
    }
}

impl Agentor {
    /// This agent as a tool named `name` for another agent; see [`Tool::agent`].
    pub fn as_tool(&self, name: impl Into<Text>, description: impl Into<Text>) -> Tool {
        Tool::from_sub_agent(name, description, Arc::new(self.clone()))
    }
}

impl SubAgent for Agentor {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn run(&self, input: Text, run_id: Text) -> agentor_core::BoxEventStream {
        run(self.inner.clone(), Input::Text(input), run_id)
    }
}

impl Tool {
    /// `agent` as a tool: the model calls it with `{"input": "…"}`, `agent`
    /// runs on that input, and its run **streams live inside the caller's**.
    /// The tool is named after the agent, in snake case (`Research Agent` →
    /// `research_agent`); [`Agentor::as_tool`] names it yourself.
    ///
    /// In the caller's stream, the sub-run's events come as they happen,
    /// between the tool call and its result, each with the sub-agent as
    /// `source` and the calling tool call's id as
    /// [`parent`](agentor_core::OriginFields::parent) (a `/`-joined path when
    /// agents nest deeper). The sub-run's `run_start` and `run_end` are left
    /// out: the call and its result bracket it. Its final message is the
    /// tool's result; a failure (an error, `max_turns`) is an error result
    /// the caller's model sees, never the caller's failure. Dropping the
    /// caller's stream drops the sub-run and its model request. The agent
    /// default tool timeout does not apply (a sub-agent's run is bounded by
    /// its own `max_turns`); [`Tool::timeout`] sets one.
    ///
    /// ```
    /// use agentor::{Agentor, EventKind, Tool};
    /// use agentor_providers::Demo;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let researcher = Agentor::builder().name("Researcher").provider(Demo::instant()).build();
    /// let lead = Agentor::builder()
    ///     .name("Lead")
    ///     .provider(Demo::instant())
    ///     .tool(Tool::agent(researcher, "Looks things up."))
    ///     .build();
    /// let events: Vec<_> = lead.stream_chat("Find the facts").map(Result::unwrap).collect().await;
    /// let call_id = events.iter().find_map(|e| match &e.kind {
    ///     EventKind::ToolCall(call) => Some(call.call_id.clone()),
    ///     _ => None,
    /// }).unwrap();
    /// // The researcher's deltas stream inside the lead's run, tagged.
    /// let nested = events.iter().filter(|e| e.origin.parent.as_deref() == Some(call_id.as_str()));
    /// assert!(nested.clone().count() > 3);
    /// assert!(nested.into_iter().all(|e| e.origin.source.as_deref() == Some("Researcher")));
    /// # }
    /// ```
    pub fn agent(agent: Agentor, description: impl Into<Text>) -> Tool {
        let name = crate::handoff::snake_case(agent.name());
        agent.as_tool(name, description)
    }
}

impl fmt::Debug for Agentor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner;
        f.debug_struct("Agentor")
            .field("name", &c.name)
            .field("model", &c.model)
            .field("tools", &c.tools.iter().map(Tool::name).collect::<Vec<_>>())
            .field("provider", &c.provider.name())
            .field("max_turns", &c.max_turns)
            .field(
                "handoffs",
                &c.handoffs
                    .iter()
                    .map(|h| h.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Builds an [`Agentor`]; see [`Agentor::builder`].
#[must_use]
#[derive(Default)]
pub struct AgentorBuilder {
    name: Option<Text>,
    model: Option<Text>,
    instructions: Option<Text>,
    tools: Vec<Tool>,
    provider: Option<Arc<dyn Provider>>,
    settings: ModelSettings,
    max_turns: Option<usize>,
    tool_timeout: Option<Duration>,
    handoffs: Vec<Arc<Config>>,
    capture_content: Option<bool>,
}

impl AgentorBuilder {
    /// The agent's name; default `Assistant`.
    pub fn name(mut self, name: impl Into<Text>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The model to ask for; default `OPENAI_MODEL`, else `gpt-4o-mini`.
    pub fn model(mut self, model: impl Into<Text>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The system instructions.
    pub fn instructions(mut self, instructions: impl Into<Text>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Adds tools.
    pub fn tools(mut self, tools: impl IntoIterator<Item = Tool>) -> Self {
        self.tools.extend(tools);
        self
    }

    /// The provider answering; default [`default_provider`](crate::default_provider).
    pub fn provider(mut self, provider: impl Provider + 'static) -> Self {
        self.provider = Some(Arc::new(provider));
        self
    }

    /// A shared provider.
    pub fn shared_provider(mut self, provider: Arc<dyn Provider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Sampling and length settings.
    pub fn settings(mut self, settings: ModelSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Model turns before the run stops with `max_turns`; default 10, at least 1.
    pub fn max_turns(mut self, turns: usize) -> Self {
        self.max_turns = Some(turns.max(1));
        self
    }

    /// How long a tool call may run unless the tool sets its own; default 60 s.
    pub fn tool_timeout(mut self, timeout: Duration) -> Self {
        self.tool_timeout = Some(timeout);
        self
    }

    /// Lets the agent hand the conversation to `agent`: the model is offered
    /// a transfer tool, [`transfer_tool_name`](crate::transfer_tool_name)
    /// (`transfer_to_<name in snake case>`), and calling it makes the run go
    /// on with `agent`'s instructions, tools, handoffs, provider, model and
    /// settings. The stream shows the tool's result (`{"assistant": name}`),
    /// then `handoff {from, to}` and `agent_updated`; later events carry
    /// `agent`'s name as `source`. Every turn counts toward the first
    /// agent's `max_turns`, whichever agent runs it, so handoff loops end.
    ///
    /// ```
    /// use agentor::{Agentor, EventKind, Kind};
    /// use agentor_providers::Demo;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let billing = Agentor::builder().name("Billing").provider(Demo::instant()).build();
    /// let triage = Agentor::builder()
    ///     .name("Triage")
    ///     .provider(Demo::instant())
    ///     .handoff(billing)
    ///     .build();
    /// let events: Vec<_> = triage.stream_chat("A question for billing").map(Result::unwrap).collect().await;
    /// let handoff = events.iter().find(|e| e.kind() == Kind::Handoff).unwrap();
    /// assert_eq!(handoff.kind, EventKind::Handoff { from: "Triage".into(), to: "Billing".into() });
    /// assert_eq!(events.last().unwrap().origin.source.as_deref(), Some("Billing"));
    /// # }
    /// ```
    pub fn handoff(mut self, agent: Agentor) -> Self {
        self.handoffs.push(agent.inner);
        self
    }

    /// Whether the run's spans record contents, which the OpenTelemetry
    /// GenAI conventions leave out unless the user opts in: the messages sent
    /// to and received from the model on each `chat` span
    /// (`gen_ai.system_instructions`, `gen_ai.input.messages`,
    /// `gen_ai.output.messages`), and each tool call's arguments and result
    /// on its `execute_tool` span (`gen_ai.tool.call.arguments`,
    /// `gen_ai.tool.call.result`). Each text is clipped to 16 KiB, and the
    /// input to its last 64 messages. Default: off, unless
    /// [`CAPTURE_CONTENT_ENV`](crate::telemetry::CAPTURE_CONTENT_ENV)
    /// (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`) is `true` when
    /// the agent is built.
    pub fn capture_content(mut self, capture: bool) -> Self {
        self.capture_content = Some(capture);
        self
    }

    /// The agent.
    pub fn build(self) -> Agentor {
        let provider = self.provider.unwrap_or_else(crate::default_provider);
        let model = self
            .model
            .or_else(|| std::env::var("OPENAI_MODEL").ok().map(Text::from))
            .unwrap_or_else(|| Text::from_static("gpt-4o-mini"));
        Agentor {
            inner: Arc::new(Config {
                name: self.name.unwrap_or_else(|| Text::from_static("Assistant")),
                model,
                instructions: self.instructions,
                tools: self.tools,
                client_tools: Vec::new(),
                provider,
                settings: self.settings,
                max_turns: self.max_turns.unwrap_or(10),
                tool_timeout: self.tool_timeout.unwrap_or(Duration::from_secs(60)),
                handoffs: self.handoffs,
                capture_content: self
                    .capture_content
                    .unwrap_or_else(crate::content::wanted_by_env),
            }),
        }
    }
}
