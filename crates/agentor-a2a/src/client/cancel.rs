//! [`CancelOnDrop`]: asking the remote server to stop a task whose stream
//! was dropped, and the request headers every A2A call carries.

use std::time::Duration;

use agentor_transport::{HttpClient, Post};
use reqwest::header::{HeaderName, HeaderValue};

use crate::jsonrpc::{self, RequestId};
use crate::{Dialect, Method, TaskQuery};

/// The header a 1.0 client sends with every request (header names are
/// case-insensitive; the spec writes it `A2A-Version`).
pub(crate) const VERSION_HEADER: HeaderName = HeaderName::from_static("a2a-version");

/// How long a cancel sent on drop may take: it runs in a task of its own,
/// which must not outlive a server that does not answer.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// A JSON-RPC `POST` of `body` to `endpoint`, with the version header a
/// 1.0 server expects.
pub(crate) fn post(endpoint: &str, body: Vec<u8>, dialect: Dialect) -> Post {
    let post = Post::json(endpoint, body);
    match dialect {
        Dialect::V1_0 => post.header(
            VERSION_HEADER,
            HeaderValue::from_static(Dialect::V1_0.version()),
        ),
        Dialect::V0_3 => post,
    }
}

/// What cancels the remote task when its stream is dropped before the run
/// ended: the remote server keeps a task running when only its stream goes
/// away (a client may resubscribe), so dropping means asking it to stop.
#[derive(Clone, Debug)]
pub(crate) struct CancelOnDrop {
    pub(crate) http: HttpClient,
    pub(crate) endpoint: String,
    pub(crate) dialect: Dialect,
}

impl CancelOnDrop {
    /// Sends `tasks/cancel` / `CancelTask` for `task_id` from a task of its
    /// own (the stream is gone), waiting at most [`CANCEL_TIMEOUT`] and
    /// ignoring the answer: the task may have ended meanwhile. Without a
    /// tokio runtime (dropped after it shut down) there is no one to send it.
    pub(crate) fn send(self, task_id: String) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let method = Method::CancelTask
            .name(self.dialect)
            .unwrap_or("CancelTask");
        let params = TaskQuery::new(task_id).render(self.dialect);
        let id = RequestId::from(crate::new_id().as_str());
        let body = jsonrpc::request(&id, method, params).to_string();
        let post = post(&self.endpoint, body.into_bytes(), self.dialect);
        runtime.spawn(async move {
            let _ = tokio::time::timeout(CANCEL_TIMEOUT, self.http.open(post)).await;
        });
    }
}
