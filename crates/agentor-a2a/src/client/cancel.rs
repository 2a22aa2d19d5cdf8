//! [`CancelOnDrop`]: asking the remote server to stop a task whose stream
//! was dropped, the request headers every A2A call carries, and the URLs of
//! HTTP+JSON routes.

use std::time::Duration;

use agentor_transport::{HttpClient, Post};
use reqwest::header::{HeaderName, HeaderValue};

use crate::jsonrpc::{self, RequestId};
use crate::{Binding, Dialect, Method, TaskQuery};

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
    pub(crate) binding: Binding,
}

impl CancelOnDrop {
    /// Sends `tasks/cancel` / `CancelTask` (over HTTP+JSON, `POST
    /// {endpoint}/tasks/{id}:cancel`) for `task_id` from a task of its
    /// own (the stream is gone), waiting at most [`CANCEL_TIMEOUT`] and
    /// ignoring the answer: the task may have ended meanwhile. Without a
    /// tokio runtime (dropped after it shut down) there is no one to send it.
    pub(crate) fn send(self, task_id: String) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(post) = self.cancel_post(task_id) else {
            return;
        };
        runtime.spawn(async move {
            let _ = tokio::time::timeout(CANCEL_TIMEOUT, self.http.open(post)).await;
        });
    }

    /// The request cancelling `task_id`; `None` when the endpoint is no URL
    /// a route can be added to (the send to it failed already).
    fn cancel_post(&self, task_id: String) -> Option<Post> {
        match self.binding {
            Binding::JsonRpc => {
                let method = Method::CancelTask
                    .name(self.dialect)
                    .unwrap_or("CancelTask");
                let params = TaskQuery::new(task_id).render(self.dialect);
                let id = RequestId::from(crate::new_id().as_str());
                let body = jsonrpc::request(&id, method, params).to_string();
                Some(post(&self.endpoint, body.into_bytes(), self.dialect))
            }
            Binding::Rest => {
                let url = rest_route(&self.endpoint, &["tasks", &format!("{task_id}:cancel")])?;
                Some(post(&url, b"{}".to_vec(), Dialect::V1_0))
            }
        }
    }
}

/// The URL of an HTTP+JSON route: `segments` under the binding's `base`
/// URL, each percent-encoded as a path segment (a task id holding `/`
/// stays one segment). `None` when `base` is not a URL with a path.
pub(crate) fn rest_route(base: &str, segments: &[&str]) -> Option<String> {
    let mut url = reqwest::Url::parse(base).ok()?;
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(segments);
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::rest_route;

    #[test]
    fn rest_routes_sit_under_the_base_with_ids_encoded_as_one_segment() {
        assert_eq!(
            rest_route("http://h:1/v1", &["message:stream"]).as_deref(),
            Some("http://h:1/v1/message:stream")
        );
        assert_eq!(
            rest_route("http://h:1/v1/", &["tasks", "a/b c:cancel"]).as_deref(),
            Some("http://h:1/v1/tasks/a%2Fb%20c:cancel")
        );
        assert_eq!(rest_route("not a url", &["tasks"]), None);
    }
}
