//! [`Origin`]: where an event comes from (source, run, parent call), shared
//! by the events of one run behind one pointer.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::Text;

/// The names an event's origin is made of. Read them through an
/// [`Origin`], which dereferences to this.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OriginFields {
    /// The agent or stream that produced the event; set by agents and by merge.
    pub source: Option<Text>,
    /// The run the event belongs to, when known.
    pub run_id: Option<Text>,
    /// For an event of a nested run (an agent used as a tool, streaming
    /// inside its caller's run): the path of tool-call ids that leads to it,
    /// outermost first, joined by `/` — `"call_1"` for the sub-agent that the
    /// run's call `call_1` started, `"call_1/call_7"` for the one *that*
    /// agent's call `call_7` started. `None` for the run's own events.
    /// [`Event::depth`](crate::Event::depth) counts the levels,
    /// [`Event::parent_call`](crate::Event::parent_call) gives the direct
    /// caller.
    pub parent: Option<Text>,
}

impl OriginFields {
    /// Puts `call_id` in front of the parent path: the origin as seen from
    /// the run that called this one through tool call `call_id`.
    pub fn nest_in(&mut self, call_id: &str) {
        self.parent = Some(match self.parent.take() {
            Some(path) => Text::from(format!("{call_id}/{path}")),
            None => Text::from(call_id),
        });
    }
}

static NO_ORIGIN: OriginFields = OriginFields {
    source: None,
    run_id: None,
    parent: None,
};

/// An event's source, run id and parent path, behind one shared pointer.
///
/// Every event of a run carries the same three names, so a producer builds
/// the `Origin` once and gives each event a clone: one reference count, not
/// three strings. It keeps [`Event`](crate::Event) small to move, which is
/// most of what a stream layer costs per event.
///
/// Read the names as fields (`origin.source`, through [`Deref`]). Writing
/// one (`event.origin.run_id = …`, through [`DerefMut`]) copies the names
/// first if another event shares them, so it never changes another event.
///
/// ```
/// use agentor_core::{Event, Origin};
///
/// let origin = Origin::new(Some("Researcher".into()), Some("run-1".into()), None);
/// let a = Event::text_delta("Hel").with_origin(origin.clone());
/// let mut b = Event::text_delta("lo").with_origin(origin);
/// assert!(a.origin.same_as(&b.origin)); // shared, not copied
///
/// b.origin.source = Some("Writer".into()); // copy on write
/// assert_eq!(a.origin.source.as_deref(), Some("Researcher"));
/// assert_eq!(b.origin.source.as_deref(), Some("Writer"));
/// assert_eq!(b.origin.run_id.as_deref(), Some("run-1"));
/// ```
#[derive(Clone, Default)]
pub struct Origin(Option<Arc<OriginFields>>);

impl Origin {
    /// No source, run id or parent. Allocates nothing.
    pub const fn none() -> Self {
        Origin(None)
    }

    /// An origin of these names; allocates only if one is set.
    pub fn new(source: Option<Text>, run_id: Option<Text>, parent: Option<Text>) -> Self {
        Origin::from(OriginFields {
            source,
            run_id,
            parent,
        })
    }

    /// Whether no name is set.
    pub fn is_empty(&self) -> bool {
        let fields: &OriginFields = self;
        fields.source.is_none() && fields.run_id.is_none() && fields.parent.is_none()
    }

    /// Whether both are the same shared names (not only equal ones): what a
    /// producer checks before re-stamping, to keep events sharing.
    pub fn same_as(&self, other: &Origin) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

/// Rewrites events' origins one way while keeping them shared.
///
/// A stage that stamps every event it passes (a merge naming its source, an
/// agent giving a provider's events its run id) would, writing through
/// [`DerefMut`], copy the names once per event. `Restamp` remembers the last
/// origin it saw and the one it made of it: the next event with the same
/// origin (the same pointer, or equal names) gets the made one, shared. One
/// `Restamp` must always be given the same edit.
///
/// ```
/// use agentor_core::{Event, Origin, Restamp};
///
/// let theirs = Origin::new(None, Some("run-1".into()), None);
/// let mut restamp = Restamp::new();
/// let mut a = Event::text_delta("a").with_origin(theirs.clone());
/// let mut b = Event::text_delta("b").with_origin(theirs);
/// restamp.apply(&mut a.origin, |o| o.source = Some("A1".into()));
/// restamp.apply(&mut b.origin, |o| o.source = Some("A1".into()));
/// assert_eq!(b.origin.source.as_deref(), Some("A1"));
/// assert!(a.origin.same_as(&b.origin));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Restamp {
    last: Option<(Origin, Origin)>,
}

impl Restamp {
    /// Nothing seen yet.
    pub const fn new() -> Self {
        Restamp { last: None }
    }

    /// Applies `edit` to `origin`, or gives it the result of the last edit
    /// if it is the origin edited last.
    pub fn apply(&mut self, origin: &mut Origin, edit: impl FnOnce(&mut OriginFields)) {
        if let Some((seen, made)) = &self.last {
            if origin == seen {
                origin.clone_from(made);
                return;
            }
        }
        let seen = origin.clone();
        edit(origin);
        self.last = Some((seen, origin.clone()));
    }
}

impl From<OriginFields> for Origin {
    fn from(fields: OriginFields) -> Self {
        if fields == NO_ORIGIN {
            Origin(None)
        } else {
            Origin(Some(Arc::new(fields)))
        }
    }
}

impl Deref for Origin {
    type Target = OriginFields;
    fn deref(&self) -> &OriginFields {
        self.0.as_deref().unwrap_or(&NO_ORIGIN)
    }
}

impl DerefMut for Origin {
    fn deref_mut(&mut self) -> &mut OriginFields {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Origin) -> bool {
        self.same_as(other) || **self == **other
    }
}

impl Eq for Origin {}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_origin_allocates_nothing_and_equals_a_cleared_one() {
        assert!(Origin::new(None, None, None).0.is_none());
        let mut cleared = Origin::new(Some("a".into()), None, None);
        cleared.source = None;
        assert!(cleared.is_empty());
        assert_eq!(cleared, Origin::none());
    }

    #[test]
    fn writing_through_a_shared_origin_leaves_the_other_alone() {
        let a = Origin::new(None, Some("r".into()), None);
        let mut b = a.clone();
        b.parent = Some("call_1".into());
        assert!(!a.same_as(&b));
        assert_eq!(a.parent, None);
        assert_eq!(b.run_id, a.run_id);
    }

    #[test]
    fn restamping_equal_origins_shares_one_result() {
        let mut restamp = Restamp::new();
        let edit = |o: &mut OriginFields| o.source = Some("m".into());
        // Equal names in two allocations, as a producer stamping per event makes.
        let mut a = Origin::new(None, Some("r".into()), None);
        let mut b = Origin::new(None, Some("r".into()), None);
        restamp.apply(&mut a, edit);
        restamp.apply(&mut b, edit);
        assert!(a.same_as(&b));
        assert_eq!(
            (a.source.as_deref(), a.run_id.as_deref()),
            (Some("m"), Some("r"))
        );
        // Another origin is edited, not given the last result.
        let mut c = Origin::new(None, Some("s".into()), None);
        restamp.apply(&mut c, edit);
        assert_eq!(
            (c.source.as_deref(), c.run_id.as_deref()),
            (Some("m"), Some("s"))
        );
        // No origin at all is an origin too.
        let mut d = Origin::none();
        restamp.apply(&mut d, edit);
        assert_eq!(
            (d.source.as_deref(), d.run_id.as_deref()),
            (Some("m"), None)
        );
    }

    #[test]
    fn an_unshared_origin_is_written_in_place() {
        let mut a = Origin::new(Some("a".into()), None, None);
        let before = Arc::as_ptr(a.0.as_ref().unwrap());
        a.run_id = Some("r".into());
        assert_eq!(Arc::as_ptr(a.0.as_ref().unwrap()), before);
    }
}
