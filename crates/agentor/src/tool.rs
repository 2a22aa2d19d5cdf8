//! [`Tool`]: a function the model may call.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use agentor_core::{Text, ToolSpec};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::nested::SubAgent;
use crate::Interrupt;

/// Why a tool call produced an error result instead of an output. The model
/// sees the message and may correct itself.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

impl ToolError {
    /// A tool error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError(message.into())
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError(message.to_owned())
    }
}

/// How a tool call went wrong: an error result the model sees, or an
/// [`Interrupt`] that ends the run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Failure {
    Error(ToolError),
    Interrupt(Interrupt),
}

impl From<ToolError> for Failure {
    fn from(error: ToolError) -> Self {
        Failure::Error(error)
    }
}

impl Failure {
    /// A tool function's error: an [`Interrupt`] stays one (unless it has
    /// nothing to ask), anything else becomes its text.
    fn from_display<E: fmt::Display + 'static>(error: E) -> Self {
        match (&error as &dyn Any).downcast_ref::<Interrupt>() {
            Some(interrupt) if interrupt.message().trim().is_empty() => Failure::Error(ToolError(
                format!("{}: the message for the user is empty", interrupt.status()),
            )),
            Some(interrupt) => Failure::Interrupt(interrupt.clone()),
            None => Failure::Error(ToolError(error.to_string())),
        }
    }
}

type Handler =
    Arc<dyn Fn(serde_json::Value) -> BoxFuture<'static, Result<String, Failure>> + Send + Sync>;

/// A tool: a name, a description and a JSON Schema for the model, and an async
/// function over serde types that runs when the model calls it.
///
/// No macros: the schema is written with `serde_json::json!`, the arguments
/// are any `Deserialize` type, the output any `Serialize` type (a string goes
/// to the model as is, anything else as JSON). Arguments that do not fit the
/// type, an `Err` from the function, a panic or a timeout all become an error
/// result the model sees; the run goes on. The one exception is an
/// [`Interrupt`] as the error (`Result<_, Interrupt>`): it ends the run
/// waiting for the user (see [`Tool::request_input`]).
///
/// ```
/// use agentor::{Tool, ToolError};
/// use serde::Deserialize;
/// use serde_json::json;
///
/// #[derive(Deserialize)]
/// struct City {
///     city: String,
/// }
///
/// let get_weather = Tool::new(
///     "get_weather",
///     "The current weather in a city.",
///     json!({
///         "type": "object",
///         "properties": { "city": { "type": "string" } },
///         "required": ["city"]
///     }),
///     |args: City| async move { Ok::<_, ToolError>(format!("18°C and sunny in {}", args.city)) },
/// );
/// assert_eq!(get_weather.name(), "get_weather");
/// assert_eq!(get_weather.description(), "The current weather in a city.");
/// ```
#[derive(Clone)]
pub struct Tool {
    spec: ToolSpec,
    timeout: Option<Duration>,
    handler: Handler,
    /// For an agent used as a tool: the agent, whose run the loop streams
    /// into the caller's (the handler is then the non-streaming fallback).
    sub_agent: Option<Arc<dyn SubAgent>>,
}

impl Tool {
    /// A tool named `name` running `function` on the model's arguments.
    pub fn new<A, O, E, F, Fut>(
        name: impl Into<Text>,
        description: impl Into<Text>,
        parameters: serde_json::Value,
        function: F,
    ) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        O: Serialize + 'static,
        E: fmt::Display + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let function = Arc::new(function);
        let handler: Handler = Arc::new(move |arguments: serde_json::Value| {
            let args = serde_json::from_value::<A>(arguments);
            let function = function.clone();
            async move {
                let args = args.map_err(|e| ToolError(format!("invalid arguments: {e}")))?;
                let output = function(args).await.map_err(Failure::from_display)?;
                Ok(to_model_text(&output)?)
            }
            .boxed()
        });
        Tool {
            spec: ToolSpec {
                name: name.into(),
                description: description.into(),
                parameters,
            },
            timeout: None,
            handler,
            sub_agent: None,
        }
    }

    /// A tool that runs `agent`: its run streams into the caller's, and its
    /// final answer is the result (see [`Tool::agent`]).
    pub(crate) fn from_sub_agent(
        name: impl Into<Text>,
        description: impl Into<Text>,
        agent: Arc<dyn SubAgent>,
    ) -> Self {
        let parameters = crate::nested::input_schema(agent.name());
        let runner = agent.clone();
        let handler: Handler = Arc::new(move |arguments: serde_json::Value| {
            let runner = runner.clone();
            async move { Ok(crate::nested::collect(runner, arguments).await?) }.boxed()
        });
        Tool {
            spec: ToolSpec {
                name: name.into(),
                description: description.into(),
                parameters,
            },
            timeout: None,
            handler,
            sub_agent: Some(agent),
        }
    }

    /// The agent behind an agent tool.
    pub(crate) fn sub_agent(&self) -> Option<&Arc<dyn SubAgent>> {
        self.sub_agent.as_ref()
    }

    /// The timeout the tool sets itself, if any.
    pub(crate) fn own_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Gives up on a call after `timeout` (overrides the agent's default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The name the model calls it by.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// What the tool does, as the model is told.
    pub fn description(&self) -> &str {
        &self.spec.description
    }

    /// What the model is told about the tool.
    pub fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    pub(crate) fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }

    /// Runs the tool on `arguments` (not catching panics or enforcing the
    /// timeout: the agent loop does both).
    pub(crate) fn call(
        &self,
        arguments: serde_json::Value,
    ) -> BoxFuture<'static, Result<String, Failure>> {
        (self.handler)(arguments)
    }
}

fn to_model_text<O: Serialize + 'static>(output: &O) -> Result<String, ToolError> {
    match serde_json::to_value(output) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(value) => Ok(value.to_string()),
        Err(e) => Err(ToolError(format!("output not serializable: {e}"))),
    }
}

impl fmt::Debug for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.spec.name)
            .field("timeout", &self.timeout)
            .field("agent", &self.sub_agent.as_ref().map(|a| a.name()))
            .finish_non_exhaustive()
    }
}
