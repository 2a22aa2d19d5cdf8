//! [`Interrupt`]: a tool ending the agent's turn to wait for the user, and
//! the built-in [`Tool::request_input`] that lets the model do so.
//!
//! A tool interrupts by returning `Err(Interrupt::input(question))` (or
//! [`Interrupt::auth`]). The loop lets the turn's other calls finish, then
//! ends the run: the call's result and a message carry the question, and
//! the run end is [`RunStatus::InputRequired`] (or
//! [`RunStatus::AuthRequired`]). The answer is the next user message of the
//! conversation; an A2A task continues on the same task
//! (`input-required`, then `working` again).

use std::fmt;

use agentor_core::RunStatus;
use serde::Deserialize;
use serde_json::json;

use crate::Tool;

/// The name of the built-in tool made by [`Tool::request_input`].
pub const REQUEST_INPUT_TOOL: &str = "request_input";

/// Why a tool stops the run: it needs something only the user can give.
///
/// Returned as a tool function's error (`Result<_, Interrupt>`), it ends the
/// run instead of becoming an error result the model sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// The user must answer `question`.
    Input {
        /// What the agent asks, shown to the user as the run's last message.
        question: String,
    },
    /// The user must authenticate; `message` says how (a sign-in link, say).
    Auth {
        /// What the user is told, shown as the run's last message.
        message: String,
    },
}

impl Interrupt {
    /// The user must answer `question`.
    pub fn input(question: impl Into<String>) -> Self {
        Interrupt::Input {
            question: question.into(),
        }
    }

    /// The user must authenticate, as `message` explains.
    pub fn auth(message: impl Into<String>) -> Self {
        Interrupt::Auth {
            message: message.into(),
        }
    }

    /// What the user is shown: the question, or the authentication request.
    pub fn message(&self) -> &str {
        match self {
            Interrupt::Input { question } => question,
            Interrupt::Auth { message } => message,
        }
    }

    /// The run end it makes: `input_required` or `auth_required`.
    pub fn status(&self) -> RunStatus {
        match self {
            Interrupt::Input { .. } => RunStatus::InputRequired,
            Interrupt::Auth { .. } => RunStatus::AuthRequired,
        }
    }
}

impl fmt::Display for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status(), self.message())
    }
}

impl std::error::Error for Interrupt {}

#[derive(Deserialize)]
struct Question {
    question: String,
}

impl Tool {
    /// The built-in `request_input` tool: the model calls it with
    /// `{"question": "…"}` when it cannot go on without the user, and the
    /// run ends [`RunStatus::InputRequired`] with the question as its last
    /// message. An empty question is an error result the model sees.
    ///
    /// ```
    /// use agentor::{Agentor, RunStatus, Tool};
    /// use agentor_providers::Replay;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // A model turn that calls the tool.
    /// let turn = concat!(
    ///     r#"{"type":"tool_call","seq":0,"call_id":"c1","name":"request_input","arguments":{"question":"Which city?"}}"#, "\n",
    ///     r#"{"type":"run_end","seq":1,"status":"completed"}"#, "\n",
    /// );
    /// let agent = Agentor::builder()
    ///     .provider(Replay::from_bytes(turn))
    ///     .tool(Tool::request_input())
    ///     .build();
    /// let events: Vec<_> = agent.stream_chat("Weather?").map(Result::unwrap).collect().await;
    /// let n = events.len();
    /// assert_eq!(events[n - 2].text(), Some("Which city?"));
    /// assert_eq!(events[n - 1].run_status(), Some(RunStatus::InputRequired));
    /// # }
    /// ```
    pub fn request_input() -> Tool {
        Tool::new(
            REQUEST_INPUT_TOOL,
            "Ask the user a question and wait for the answer. Call it only when you cannot go on without information only the user has; the conversation continues with their answer.",
            json!({
                "type": "object",
                "properties": {
                    "question": {"type": "string", "description": "The question for the user, complete and self-contained."}
                },
                "required": ["question"]
            }),
            |args: Question| async move { Err::<String, _>(Interrupt::input(args.question)) },
        )
    }
}
