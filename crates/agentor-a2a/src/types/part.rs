//! [`Part`]: a piece of a message or an artifact — text, data or a file.

use serde_json::{Map, Value};

use super::fields::Fields;
use crate::{A2aError, Dialect};

/// A piece of content of a message or an artifact.
///
/// 0.3 tags parts with `kind` (`{"kind": "text", "text": …}`); 1.0 names the
/// content's field (`{"text": …}`, `{"data": …}`, `{"raw": …}`, `{"url": …}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// The content.
    pub content: PartContent,
    /// Free-form metadata.
    pub metadata: Option<Map<String, Value>>,
}

/// The content of a [`Part`].
#[derive(Clone, Debug, PartialEq)]
pub enum PartContent {
    /// Text.
    Text(String),
    /// Structured data. 0.3 requires an object; other values are rendered
    /// there as `{"value": …}`.
    Data(Value),
    /// A file, inline or by reference.
    File(FilePart),
}

/// A file carried by a [`Part`].
#[derive(Clone, Debug, PartialEq)]
pub struct FilePart {
    /// The file's name.
    pub name: Option<String>,
    /// Its media type (`mimeType` in 0.3, `mediaType` in 1.0).
    pub media_type: Option<String>,
    /// The bytes or where to get them.
    pub content: FileContent,
}

/// Where a [`FilePart`]'s bytes are.
#[derive(Clone, Debug, PartialEq)]
pub enum FileContent {
    /// Inline, base64-encoded (`bytes` in 0.3, `raw` in 1.0).
    Base64(String),
    /// At a URI (`uri` in 0.3, `url` in 1.0).
    Uri(String),
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Part {
            content: PartContent::Text(text.into()),
            metadata: None,
        }
    }

    /// A data part.
    pub fn data(data: Value) -> Self {
        Part {
            content: PartContent::Data(data),
            metadata: None,
        }
    }

    /// The text, when this is a text part.
    pub fn as_text(&self) -> Option<&str> {
        match &self.content {
            PartContent::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The part in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Value {
        super::wire::to_value(super::Wire::new(self, dialect))
    }

    /// Parses a part at `path` (for error messages). Both dialects' shapes
    /// are recognised: `kind` when present, else the content's field name.
    pub fn parse_at(_dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        let kind = fields.str_opt("kind")?;
        let content = match kind.as_deref() {
            Some("text") => PartContent::Text(text_of(&fields)?),
            Some("data") => PartContent::Data(fields.get("data").cloned().ok_or_else(|| {
                A2aError::invalid_params(format!("{} is required", fields.path("data")))
            })?),
            Some("file") => PartContent::File(file_v03(&fields)?),
            Some(other) => {
                return Err(A2aError::invalid_params(format!(
                    "{} has an unknown value `{other}`",
                    fields.path("kind")
                )))
            }
            None if fields.has("text") => PartContent::Text(text_of(&fields)?),
            None if fields.has("data") => {
                PartContent::Data(fields.get("data").cloned().unwrap_or_default())
            }
            None if fields.has("file") => PartContent::File(file_v03(&fields)?),
            None if fields.has("raw") || fields.has("url") => PartContent::File(FilePart {
                name: fields.str_opt("filename")?,
                media_type: fields.str_opt("mediaType")?,
                content: match fields.str_opt("raw")? {
                    Some(raw) => FileContent::Base64(raw),
                    None => FileContent::Uri(fields.str_req("url")?),
                },
            }),
            None => {
                return Err(A2aError::invalid_params(format!(
                    "{path} must have one of text, data, file, raw or url"
                )))
            }
        };
        Ok(Part {
            content,
            metadata: fields.object_opt("metadata")?,
        })
    }
}

fn text_of(fields: &Fields<'_>) -> Result<String, A2aError> {
    // An empty text is a valid part; only absence or a wrong type is an error.
    fields
        .str_opt("text")?
        .ok_or_else(|| A2aError::invalid_params(format!("{} is required", fields.path("text"))))
}

fn file_v03(fields: &Fields<'_>) -> Result<FilePart, A2aError> {
    let file = fields
        .get("file")
        .ok_or_else(|| A2aError::invalid_params(format!("{} is required", fields.path("file"))))?;
    let file = Fields::of(file, &fields.path("file"))?;
    Ok(FilePart {
        name: file.str_opt("name")?,
        media_type: file.str_opt("mimeType")?,
        content: match file.str_opt("bytes")? {
            Some(bytes) => FileContent::Base64(bytes),
            None => FileContent::Uri(file.str_req("uri")?),
        },
    })
}
