//! [`Text`]: cheaply cloneable, sliceable UTF-8.

use std::fmt;
use std::ops::{Deref, Range};

use bytes::Bytes;
use bytestring::ByteString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// UTF-8 text held in reference-counted [`Bytes`].
///
/// Cloning and slicing copy no bytes: a word cut out of a model's delta shares
/// the delta's allocation. `Text` dereferences to [`str`], so every string
/// method is available.
///
/// ```
/// use agentor_core::Text;
///
/// let delta = Text::from("Hello, world");
/// let word = delta.slice(7..12);
/// assert_eq!(word, "world");
/// assert_eq!(word.as_bytes().as_ptr(), delta[7..].as_ptr()); // shared, not copied
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(ByteString);

impl Text {
    /// Empty text. Allocates nothing.
    pub const fn new() -> Self {
        Text(ByteString::new())
    }

    /// Text borrowing a `'static` string. Allocates nothing.
    pub const fn from_static(s: &'static str) -> Self {
        Text(ByteString::from_static(s))
    }

    /// Validates `bytes` as UTF-8 and wraps them without copying.
    #[inline]
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        ByteString::try_from(bytes).map(Text)
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying bytes (shared, not copied).
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// Converts into the underlying bytes without copying.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }

    /// A sub-range of this text sharing its allocation.
    ///
    /// # Panics
    ///
    /// Panics if the range is out of bounds or does not fall on `char`
    /// boundaries, like indexing a `str`.
    pub fn slice(&self, range: Range<usize>) -> Text {
        Text(self.0.slice_ref(&self.0[range]))
    }

    /// The sub-slice `part` of this text as a `Text`, sharing the allocation.
    ///
    /// # Panics
    ///
    /// Panics if `part` does not point into this text.
    pub fn slice_ref(&self, part: &str) -> Text {
        Text(self.0.slice_ref(part))
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(ByteString::from(s))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(ByteString::from(s))
    }
}

impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Self {
        Text(ByteString::from(s))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        String::from(t.0)
    }
}

impl TryFrom<Bytes> for Text {
    type Error = std::str::Utf8Error;
    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        Text::from_utf8(bytes)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Text::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slicing_shares_the_allocation() {
        let t = Text::from(String::from("héllo wörld"));
        let w = t.slice(7..13);
        assert_eq!(w, "wörld");
        assert_eq!(w.as_ptr(), t[7..].as_ptr());
        let r = t.slice_ref(&t[..6]);
        assert_eq!(r, "héllo");
    }

    #[test]
    #[should_panic]
    fn slicing_inside_a_char_panics() {
        let t = Text::from("é");
        let _ = t.slice(0..1);
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        let err = Text::from_utf8(Bytes::from_static(b"ok\xff")).unwrap_err();
        assert_eq!(err.valid_up_to(), 2);
        assert_eq!(Text::from_utf8(Bytes::from_static(b"ok")).unwrap(), "ok");
    }
}
