//! Starting a task: an agent run detached from the HTTP request.
//!
//! A2A tasks are server-side resources: a non-blocking send returns while
//! the run goes on, and `tasks/cancel` stops it. So the run is not owned by
//! the response body (as `/chat` runs are) but by a task of its own,
//! tracked by the server's [`Shutdown`](crate::Shutdown) (a shutdown ends
//! it `canceled`, with its final event) and holding a run permit like any
//! run. A streaming client that disconnects only unsubscribes.

use agentor::{Agentor, Input};
use agentor_a2a::store::Subscription;
use agentor_a2a::{A2aError, Dialect, ErrorCode, Message, PartContent, Role, SendMessageParams};

use crate::state::AppState;

/// Starts a task for `params` — or its next turn, when the message names a
/// task waiting for the user (`input-required`) — its id and a subscription
/// that sees every event from the first.
pub(crate) async fn start(
    state: &AppState,
    params: SendMessageParams,
    dialect: Dialect,
) -> Result<(String, Subscription), A2aError> {
    if state.shutdown.is_triggered() {
        return Err(A2aError::internal("the server is shutting down"));
    }
    let input = what_to_answer(&params)?;
    let push = super::push::inline(
        state,
        dialect,
        params.configuration.push_notification.as_ref(),
    )
    .await?;
    let continues = match params.message.task_id.as_deref() {
        Some(id) => known_here_or_nowhere(state, id).await?,
        None => false,
    };
    let permit = state
        .limit
        .acquire()
        .map_err(|e| A2aError::internal(e.message))?;
    let message = params.message;
    let conversation = conversation(state, &message, input);
    let (handle, subscription) =
        state
            .a2a
            .store
            .create(message.task_id.clone(), message.context_id.clone(), message)?;
    let task_id = handle.id().to_owned();
    // Before the run starts, so the webhook sees every state. A refusal
    // drops the handle, which ends the task `failed`.
    super::push::attach(state, &task_id, push)?;
    if continues {
        // The task's webhooks stopped at its `input-required`: this turn's
        // states go to them too.
        super::push_delivery::watch(state, &task_id);
    }
    let span = crate::trace::a2a_task(&state.a2a.store, &task_id);
    let run = span.in_scope(|| {
        state
            .agent
            .stream_chat_with_run_id(conversation, Agentor::new_run_id())
            .into_inner()
    });
    // With a shared log, a task's later turns are not logged: the log keeps
    // one run per task, its first (see docs/a2a.md).
    let run = if continues {
        run
    } else {
        super::shared::logged(state, &task_id, run)
    };
    let stop = state.shutdown.triggered_owned();
    let store = state.a2a.store.clone();
    let id = task_id.clone();
    let task = state.shutdown.track(tracing::Instrument::instrument(
        async move {
            handle.drive(run, stop).await;
            drop(permit);
            crate::metrics::a2a_task_ended(&store, &id);
        },
        span,
    ));
    tokio::spawn(task);
    Ok((task_id, subscription))
}

/// Whether task `id` is in this instance's store (a send naming it
/// continues it). A task that only the shared log knows — it ran on another
/// instance — is refused: its turns continue where it runs. Unknown
/// anywhere: false (a new task takes the client's id).
async fn known_here_or_nowhere(state: &AppState, id: &str) -> Result<bool, A2aError> {
    if state.a2a.store.get(id, None).is_ok() {
        return Ok(true);
    }
    if super::shared::holds(state, id).await {
        return Err(A2aError::unsupported_operation(format!(
            "task {} runs on another instance of this server; a message to a task goes to the instance that runs it",
            agentor::error::excerpt(id),
        )));
    }
    Ok(false)
}

/// Checks what the send asks for against what the agent can do; the text
/// the agent is to answer.
fn what_to_answer(params: &SendMessageParams) -> Result<String, A2aError> {
    let modes = &params.configuration.accepted_output_modes;
    if !modes.is_empty() && !modes.iter().any(|mode| answers_in(mode)) {
        return Err(A2aError::new(
            ErrorCode::ContentTypeNotSupported,
            format!("this agent answers in text/plain and application/json; configuration.acceptedOutputModes lists neither: {modes:?}"),
        ));
    }
    let input = input_text(&params.message);
    if input.trim().is_empty() {
        return Err(A2aError::invalid_params(
            "params.message.parts has no text, data or file to answer",
        ));
    }
    Ok(input)
}

/// Whether a client accepting `mode` can read what the agent sends: text
/// answers, and JSON data parts (the card's default output modes).
fn answers_in(mode: &str) -> bool {
    let mode = mode.split(';').next().unwrap_or_default().trim();
    [
        "text/plain",
        "application/json",
        "text/*",
        "application/*",
        "*/*",
        "text",
        "*",
    ]
    .iter()
    .any(|ours| mode.eq_ignore_ascii_case(ours))
}

/// How many earlier messages of a context a new task's run starts from.
const CONTEXT_MESSAGES: usize = 64;

/// The run's input: the context's conversation so far (the completed tasks'
/// messages), then, for a message continuing a task that asked the user
/// (`input-required`), that task's history, then this message's text.
fn conversation(state: &AppState, message: &Message, input: String) -> Input {
    let store = &state.a2a.store;
    let continued = message
        .task_id
        .as_deref()
        .and_then(|id| store.get(id, None).ok())
        .filter(|task| task.status.state.is_interrupted());
    let context = message
        .context_id
        .as_deref()
        .or(continued.as_ref().map(|task| task.context_id.as_str()));
    let mut prior = match context {
        Some(context) => store.context_history(context, CONTEXT_MESSAGES),
        None => Vec::new(),
    };
    if let Some(task) = continued {
        prior.extend(task.history);
        let skip = prior.len().saturating_sub(CONTEXT_MESSAGES);
        prior.drain(..skip);
    }
    if prior.is_empty() {
        return Input::Text(input.into());
    }
    let mut messages: Vec<agentor::ChatMessage> = prior
        .iter()
        .map(|m| match m.role {
            Role::User => agentor::ChatMessage::user(input_text(m)),
            Role::Agent => agentor::ChatMessage::assistant(input_text(m)),
        })
        .collect();
    messages.push(agentor::ChatMessage::user(input));
    Input::Messages(messages)
}

/// What the agent reads of a message: its text parts, data parts as JSON,
/// files by name and location, one per line.
fn input_text(message: &Message) -> String {
    let pieces: Vec<String> = message
        .parts
        .iter()
        .map(|part| match &part.content {
            PartContent::Text(text) => text.clone(),
            PartContent::Data(data) => data.to_string(),
            PartContent::File(file) => {
                let location = match &file.content {
                    agentor_a2a::FileContent::Uri(uri) => uri.as_str(),
                    agentor_a2a::FileContent::Base64(_) => "inline",
                };
                format!(
                    "[file {} ({location})]",
                    file.name.as_deref().unwrap_or("unnamed")
                )
            }
        })
        .collect();
    pieces.join("\n")
}
