//! Keep or drop events by kind, source, tool name or predicate.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;
use tower_layer::Layer;

use crate::{Event, EventResult, Kind, KindSet, Text};

/// Which events to keep: the filter operator's layer.
///
/// An event passes when it passes every rule that was set:
///
/// - **kind**: in the included kinds (all, unless [`include_kinds`] was
///   called) and not in the excluded ones;
/// - **source**: in the included sources (if any were named) and not
///   excluded; events without a source pass a source rule only when no
///   sources are included;
/// - **tool name**: tool calls and results must name an included tool (if any
///   were named) and no excluded one; other events ignore this rule;
/// - **predicate**: returns `true`.
///
/// `Err` items always pass: a filter never hides a failure. Kind sets parse the
/// native names and Python Agentor's (`raw_response_event`,
/// `run_item_stream_event`, `agent_updated_stream_event`), so an
/// `allowed_events = ["run_item_stream_event"]` filter means what it meant
/// there.
///
/// ```
/// use agentor_core::{source, Event, FilterLayer, EventStreamExt, KindSet};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let filter = FilterLayer::new()
///     .include_kinds("run_item_stream_event".parse::<KindSet>().unwrap())
///     .exclude_tools(["debug_dump"]);
/// let events = source::iter([
///     Event::text_delta("Hi"),
///     Event::tool_call("c1", "debug_dump", serde_json::json!({})),
///     Event::tool_call("c2", "get_weather", serde_json::json!({"city": "Paris"})),
///     Event::message("Hi"),
/// ]);
/// let kept: Vec<u64> = events.filter_events(filter).map(|e| e.unwrap().seq).collect().await;
/// assert_eq!(kept, [2, 3]);
/// # }
/// ```
///
/// [`include_kinds`]: FilterLayer::include_kinds
#[derive(Clone, Default)]
pub struct FilterLayer {
    included_kinds: Option<KindSet>,
    excluded_kinds: KindSet,
    allowed: Option<KindSet>,
    include_sources: Option<Arc<[Text]>>,
    exclude_sources: Option<Arc<[Text]>>,
    include_tools: Option<Arc<[Text]>>,
    exclude_tools: Option<Arc<[Text]>>,
    predicate: Option<Predicate>,
}

type Predicate = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

/// Whether `event` belongs to the sub-run of `call_id` (its parent path names it).
fn under(event: &Event, call_id: &str) -> bool {
    event
        .origin
        .parent
        .as_deref()
        .is_some_and(|path| path.split('/').any(|segment| segment == call_id))
}

/// The filter operator's layer under its old name; use [`FilterLayer`].
#[deprecated(
    since = "0.2.0",
    note = "renamed to `FilterLayer`, like every other layer type"
)]
pub type EventFilter = FilterLayer;

impl FilterLayer {
    /// A filter that keeps everything.
    pub fn new() -> Self {
        FilterLayer::default()
    }

    /// Keeps only events of these kinds (repeated calls add kinds).
    #[must_use]
    pub fn include_kinds(mut self, kinds: impl Into<KindSet>) -> Self {
        let kinds = kinds.into();
        self.included_kinds = Some(self.included_kinds.unwrap_or_default().union(kinds));
        self.update_allowed()
    }

    /// Drops events of these kinds.
    #[must_use]
    pub fn exclude_kinds(mut self, kinds: impl Into<KindSet>) -> Self {
        self.excluded_kinds = self.excluded_kinds.union(kinds.into());
        self.update_allowed()
    }

    fn update_allowed(mut self) -> Self {
        let included = self.included_kinds.unwrap_or_else(KindSet::all);
        self.allowed = Some(
            included
                .iter()
                .filter(|k| !self.excluded_kinds.contains(*k))
                .collect(),
        );
        self
    }

    /// Keeps only events from these sources (repeated calls add sources).
    #[must_use]
    pub fn include_sources<I>(mut self, sources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Text>,
    {
        self.include_sources = Some(extend(self.include_sources.take(), sources));
        self
    }

    /// Drops events from these sources.
    #[must_use]
    pub fn exclude_sources<I>(mut self, sources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Text>,
    {
        self.exclude_sources = Some(extend(self.exclude_sources.take(), sources));
        self
    }

    /// Keeps only tool calls and results of these tools (repeated calls add tools).
    #[must_use]
    pub fn include_tools<I>(mut self, tools: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Text>,
    {
        self.include_tools = Some(extend(self.include_tools.take(), tools));
        self
    }

    /// Drops tool calls and results of these tools.
    #[must_use]
    pub fn exclude_tools<I>(mut self, tools: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Text>,
    {
        self.exclude_tools = Some(extend(self.exclude_tools.take(), tools));
        self
    }

    /// Keeps only events of runs nested at most `depth` levels deep
    /// ([`Event::depth`]): `0` keeps the run's own events and drops
    /// everything its sub-agents stream.
    ///
    /// ```
    /// use agentor_core::{Event, FilterLayer};
    ///
    /// let top = FilterLayer::new().max_depth(0);
    /// assert!(top.matches(&Event::text_delta("mine")));
    /// assert!(!top.matches(&Event::text_delta("sub's").with_parent("call_1")));
    /// assert!(FilterLayer::new().max_depth(1).matches(&Event::text_delta("x").with_parent("call_1")));
    /// ```
    #[must_use]
    pub fn max_depth(self, depth: usize) -> Self {
        self.predicate(move |event| event.depth() <= depth)
    }

    /// Keeps only the events of the sub-run that tool call `call_id` started,
    /// at any depth below it.
    ///
    /// ```
    /// use agentor_core::{Event, FilterLayer};
    ///
    /// let only = FilterLayer::new().include_parent("call_1");
    /// assert!(only.matches(&Event::text_delta("x").with_parent("call_1")));
    /// assert!(only.matches(&Event::text_delta("x").with_parent("call_1/call_9")));
    /// assert!(!only.matches(&Event::text_delta("x").with_parent("call_2")));
    /// assert!(!only.matches(&Event::text_delta("top")));
    /// ```
    #[must_use]
    pub fn include_parent(self, call_id: impl Into<Text>) -> Self {
        let call_id = call_id.into();
        self.predicate(move |event| under(event, &call_id))
    }

    /// Drops the events of the sub-run that tool call `call_id` started, at
    /// any depth below it (the call and its result, the caller's, stay).
    #[must_use]
    pub fn exclude_parent(self, call_id: impl Into<Text>) -> Self {
        let call_id = call_id.into();
        self.predicate(move |event| !under(event, &call_id))
    }

    /// Keeps only events for which `keep` returns `true` (repeated calls must all agree).
    #[must_use]
    pub fn predicate<F>(mut self, keep: F) -> Self
    where
        F: Fn(&Event) -> bool + Send + Sync + 'static,
    {
        self.predicate = Some(match self.predicate.take() {
            None => Arc::new(keep),
            Some(first) => Arc::new(move |e: &Event| first(e) && keep(e)),
        });
        self
    }

    /// Whether `event` passes the filter.
    #[inline]
    pub fn matches(&self, event: &Event) -> bool {
        if let Some(allowed) = self.allowed {
            if !allowed.contains(event.kind()) {
                return false;
            }
        }
        if self.include_sources.is_some() || self.exclude_sources.is_some() {
            let source = event.origin.source.as_deref();
            if !passes(source, &self.include_sources, &self.exclude_sources) {
                return false;
            }
        }
        if self.include_tools.is_some() || self.exclude_tools.is_some() {
            if let Some(tool) = event.tool_name() {
                if !passes(Some(tool), &self.include_tools, &self.exclude_tools) {
                    return false;
                }
            }
        }
        self.predicate.as_ref().is_none_or(|keep| keep(event))
    }
}

fn extend<I>(existing: Option<Arc<[Text]>>, more: I) -> Arc<[Text]>
where
    I: IntoIterator,
    I::Item: Into<Text>,
{
    let existing = existing.iter().flat_map(|names| names.iter().cloned());
    existing.chain(more.into_iter().map(Into::into)).collect()
}

fn passes(
    name: Option<&str>,
    include: &Option<Arc<[Text]>>,
    exclude: &Option<Arc<[Text]>>,
) -> bool {
    let listed = |names: &Arc<[Text]>| name.is_some_and(|n| names.iter().any(|x| x == n));
    include.as_ref().is_none_or(listed) && !exclude.as_ref().is_some_and(listed)
}

impl From<KindSet> for FilterLayer {
    fn from(kinds: KindSet) -> Self {
        FilterLayer::new().include_kinds(kinds)
    }
}

impl From<Kind> for FilterLayer {
    fn from(kind: Kind) -> Self {
        FilterLayer::new().include_kinds(kind)
    }
}

impl fmt::Debug for FilterLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilterLayer")
            .field("kinds", &self.allowed.unwrap_or_else(KindSet::all))
            .field("include_sources", &self.include_sources)
            .field("exclude_sources", &self.exclude_sources)
            .field("include_tools", &self.include_tools)
            .field("exclude_tools", &self.exclude_tools)
            .field("predicate", &self.predicate.as_ref().map(|_| ".."))
            .finish()
    }
}

impl<S> Layer<S> for FilterLayer {
    type Service = Filter<S>;

    fn layer(&self, inner: S) -> Filter<S> {
        Filter {
            inner,
            filter: self.clone(),
        }
    }
}

pin_project! {
    /// Stream for [`EventStreamExt::filter_events`](crate::EventStreamExt::filter_events).
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Filter<S> {
        #[pin]
        inner: S,
        filter: FilterLayer,
    }
}

impl<S: Stream<Item = EventResult>> Stream for Filter<S> {
    type Item = EventResult;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let mut this = self.project();
        loop {
            // Returned as polled: taking the item out and wrapping it again
            // would move the `Event` twice more.
            let polled = this.inner.as_mut().poll_next(cx);
            match &polled {
                Poll::Ready(Some(Ok(event))) if !this.filter.matches(event) => continue,
                _ => return polled,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.inner.size_hint().1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{source, Error, EventStreamExt, RunStatus};
    use futures_util::StreamExt;
    use serde_json::json;

    #[test]
    #[allow(deprecated)]
    fn the_old_name_still_builds_the_same_filter() {
        let old: EventFilter = EventFilter::new().include_kinds(Kind::Message);
        let new: FilterLayer = old;
        assert!(new.matches(&Event::message("m")));
        assert!(!new.matches(&Event::text_delta("t")));
    }

    fn seqs(filter: FilterLayer, events: Vec<Event>) -> Vec<u64> {
        futures::executor::block_on(
            source::iter(events)
                .filter_events(filter)
                .map(|e| e.unwrap().seq)
                .collect(),
        )
    }

    fn sample() -> Vec<Event> {
        vec![
            Event::text_delta("a").with_source("A"),       // 0
            Event::reasoning_delta("hm").with_source("B"), // 1
            Event::tool_call("1", "search", json!({})).with_source("A"), // 2
            Event::tool_result("1", "search", "ok").with_source("B"), // 3
            Event::tool_call("2", "shell", json!({})),     // 4
            Event::message("a"),                           // 5
            Event::run_end(RunStatus::Completed).with_source("A"), // 6
        ]
    }

    #[test]
    fn empty_filter_keeps_everything() {
        assert_eq!(seqs(FilterLayer::new(), sample()), [0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn compat_names_select_what_python_agentor_meant() {
        let raw: KindSet = "raw_response_event".parse().unwrap();
        assert_eq!(seqs(raw.into(), sample()), [0, 1]);
        let items: KindSet = "run_item_stream_event".parse().unwrap();
        assert_eq!(seqs(items.into(), sample()), [2, 3, 4, 5]);
    }

    #[test]
    fn include_then_exclude_kinds() {
        let f = FilterLayer::new()
            .include_kinds(KindSet::RUN_ITEM_STREAM_EVENT)
            .include_kinds(Kind::RunEnd)
            .exclude_kinds(Kind::ToolResult);
        assert_eq!(seqs(f, sample()), [2, 4, 5, 6]);
    }

    #[test]
    fn sources() {
        assert_eq!(
            seqs(FilterLayer::new().include_sources(["A"]), sample()),
            [0, 2, 6]
        );
        assert_eq!(
            seqs(FilterLayer::new().exclude_sources(["A"]), sample()),
            [1, 3, 4, 5]
        );
    }

    #[test]
    fn tools_only_touch_tool_events() {
        assert_eq!(
            seqs(FilterLayer::new().include_tools(["search"]), sample()),
            [0, 1, 2, 3, 5, 6]
        );
        assert_eq!(
            seqs(FilterLayer::new().exclude_tools(["search"]), sample()),
            [0, 1, 4, 5, 6]
        );
    }

    #[test]
    fn predicates_all_must_agree() {
        let f = FilterLayer::new()
            .predicate(|e| e.seq % 2 == 0)
            .predicate(|e| e.seq > 2);
        assert_eq!(seqs(f, sample()), [4, 6]);
    }

    #[test]
    fn errors_always_pass_in_order() {
        let items = vec![
            Ok(Event::text_delta("a")),
            Err(Error::provider("boom")),
            Ok(Event::message("a")),
        ];
        let out: Vec<_> = futures::executor::block_on(
            source::iter_results(items)
                .filter_events(FilterLayer::from(Kind::Message))
                .collect(),
        );
        assert_eq!(out, [Err(Error::provider("boom")), Ok(Event::message("a"))]);
    }
}
