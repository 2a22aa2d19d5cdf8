//! `ListTasks` over any ordered set of tasks: filters, page tokens and page
//! sizes in one place, whoever holds the tasks (the local store, or the
//! shared log of several instances).

use super::{ListTasksParams, ListTasksResult, Task};
use crate::store::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::{timestamp, A2aError};

impl ListTasksParams {
    /// The page these params ask for out of `newest_first` (the tasks in the
    /// order they are listed): filtered by context, state and status time,
    /// each trimmed to `historyLength` and stripped of artifacts unless
    /// `includeArtifacts`. A page token is the offset this method issued as
    /// `nextPageToken`; anything else is `-32602`.
    ///
    /// ```
    /// use agentor_a2a::{ListTasksParams, Task, TaskState, TaskStatus};
    ///
    /// let tasks: Vec<Task> = (0..3)
    ///     .map(|n| Task {
    ///         id: format!("t{n}"),
    ///         context_id: "ctx".into(),
    ///         status: TaskStatus::now(TaskState::Completed),
    ///         artifacts: Vec::new(),
    ///         history: Vec::new(),
    ///         metadata: None,
    ///     })
    ///     .collect();
    /// let params = ListTasksParams { page_size: Some(2), ..Default::default() };
    /// let first = params.page(&tasks).unwrap();
    /// assert_eq!(first.tasks.len(), 2);
    /// assert_eq!(first.total_size, 3);
    /// let rest = ListTasksParams { page_token: Some(first.next_page_token), ..params };
    /// assert_eq!(rest.page(&tasks).unwrap().tasks[0].id, "t2");
    /// ```
    pub fn page<'a>(
        &self,
        newest_first: impl IntoIterator<Item = &'a Task>,
    ) -> Result<ListTasksResult, A2aError> {
        let offset = match &self.page_token {
            None => 0,
            Some(token) => token.parse::<usize>().map_err(|_| {
                A2aError::invalid_params("params.pageToken is not a token this server issued")
            })?,
        };
        let page_size = match self.page_size {
            None | Some(0) => DEFAULT_PAGE_SIZE,
            Some(size) => size.min(MAX_PAGE_SIZE),
        };
        // Checked when the params were parsed; params built by hand with a
        // bad one get the same error.
        let after = match self.status_timestamp_after.as_deref() {
            Some(at) => Some(timestamp::parse_nanos(at).map_err(|why| {
                A2aError::invalid_params(format!("params.statusTimestampAfter is {why}"))
            })?),
            None => None,
        };
        let matching: Vec<&Task> = newest_first
            .into_iter()
            .filter(|task| {
                self.context_id
                    .as_ref()
                    .is_none_or(|c| *c == task.context_id)
                    && self.status.is_none_or(|s| s == task.status.state)
                    && after.as_ref().is_none_or(|after| {
                        task.status
                            .timestamp
                            .as_deref()
                            .and_then(|at| timestamp::parse_nanos(at).ok())
                            .is_some_and(|at| at >= *after)
                    })
            })
            .collect();
        let total = matching.len();
        let end = offset.saturating_add(page_size as usize).min(total);
        let tasks = matching
            .get(offset.min(total)..end)
            .unwrap_or_default()
            .iter()
            .map(|task| {
                let mut task = task.with_history_length(self.history_length);
                if !self.include_artifacts.unwrap_or(false) {
                    task.artifacts.clear();
                }
                task
            })
            .collect();
        Ok(ListTasksResult {
            tasks,
            next_page_token: if end < total {
                end.to_string()
            } else {
                String::new()
            },
            page_size,
            total_size: u32::try_from(total).unwrap_or(u32::MAX),
        })
    }
}
