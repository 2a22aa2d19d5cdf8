//! Reading JSON objects field by field, with errors that name the field.

use serde_json::{Map, Value};

use crate::A2aError;

/// The longest task, context or message id accepted (characters): far above
/// the 36 of a UUID, low enough that ids cannot carry payloads into the
/// store, logs and error messages.
pub const MAX_ID_CHARS: usize = 256;

/// A JSON object being parsed, and its path from the request (`params.message`).
pub(crate) struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

/// The JSON type name of a value, for "must be" messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn wrong_type(path: &str, expected: &str, got: &Value) -> A2aError {
    A2aError::invalid_params(format!("{path} must be {expected}, not {}", type_name(got)))
}

pub(crate) fn required(path: &str) -> A2aError {
    A2aError::invalid_params(format!("{path} is required"))
}

impl<'a> Fields<'a> {
    /// `value` as an object; `null` counts as missing.
    pub(crate) fn of(value: &'a Value, path: &str) -> Result<Self, A2aError> {
        match value {
            Value::Object(map) => Ok(Fields {
                path: path.to_owned(),
                map,
            }),
            Value::Null => Err(required(path)),
            other => Err(wrong_type(path, "an object", other)),
        }
    }

    /// The path of a field of this object.
    pub(crate) fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// A field; `null` counts as absent (proto JSON and pydantic both allow it).
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn str_opt(&self, key: &str) -> Result<Option<String>, A2aError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong_type(&self.path(key), "a string", other)),
        }
    }

    /// An optional identifier: a string of at most [`MAX_ID_CHARS`] characters.
    pub(crate) fn id_opt(&self, key: &str) -> Result<Option<String>, A2aError> {
        let id = self.str_opt(key)?;
        if let Some(id) = &id {
            if id.chars().nth(MAX_ID_CHARS).is_some() {
                return Err(A2aError::invalid_params(format!(
                    "{} is longer than {MAX_ID_CHARS} characters",
                    self.path(key)
                )));
            }
        }
        Ok(id)
    }

    /// A required identifier; empty counts as missing.
    pub(crate) fn id_req(&self, key: &str) -> Result<String, A2aError> {
        match self.id_opt(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(required(&self.path(key))),
        }
    }

    /// A required string; empty counts as missing.
    pub(crate) fn str_req(&self, key: &str) -> Result<String, A2aError> {
        match self.str_opt(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(required(&self.path(key))),
        }
    }

    pub(crate) fn bool_opt(&self, key: &str) -> Result<Option<bool>, A2aError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(&self.path(key), "a boolean", other)),
        }
    }

    /// A non-negative integer; a numeric string is accepted as proto JSON allows.
    pub(crate) fn u32_opt(&self, key: &str) -> Result<Option<u32>, A2aError> {
        let value = match self.get(key) {
            None => return Ok(None),
            Some(v) => v,
        };
        let number = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse::<u64>().ok(),
            _ => None,
        };
        number
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| wrong_type(&self.path(key), "a non-negative integer", value))
    }

    pub(crate) fn object_opt(&self, key: &str) -> Result<Option<Map<String, Value>>, A2aError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map.clone())),
            Some(other) => Err(wrong_type(&self.path(key), "an object", other)),
        }
    }

    pub(crate) fn array_opt(&self, key: &str) -> Result<Option<&'a Vec<Value>>, A2aError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(wrong_type(&self.path(key), "an array", other)),
        }
    }

    pub(crate) fn array_req(&self, key: &str) -> Result<&'a Vec<Value>, A2aError> {
        self.array_opt(key)?
            .ok_or_else(|| required(&self.path(key)))
    }

    /// An optional array of strings, empty when absent.
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, A2aError> {
        let Some(items) = self.array_opt(key)? else {
            return Ok(Vec::new());
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(wrong_type(
                    &format!("{}[{i}]", self.path(key)),
                    "a string",
                    other,
                )),
            })
            .collect()
    }

    /// Parses each element of an optional array with `parse(value, path)`.
    pub(crate) fn list<T>(
        &self,
        key: &str,
        parse: impl Fn(&Value, &str) -> Result<T, A2aError>,
    ) -> Result<Vec<T>, A2aError> {
        let Some(items) = self.array_opt(key)? else {
            return Ok(Vec::new());
        };
        let path = self.path(key);
        items
            .iter()
            .enumerate()
            .map(|(i, item)| parse(item, &format!("{path}[{i}]")))
            .collect()
    }
}

/// Builds a JSON object, skipping absent and empty optional fields.
#[derive(Default)]
pub(crate) struct ObjectBuilder(Map<String, Value>);

impl ObjectBuilder {
    pub(crate) fn new() -> Self {
        ObjectBuilder(Map::new())
    }

    pub(crate) fn field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    pub(crate) fn opt(self, key: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(value) => self.field(key, value),
            None => self,
        }
    }

    pub(crate) fn list(self, key: &str, items: Vec<Value>) -> Self {
        if items.is_empty() {
            self
        } else {
            self.field(key, Value::Array(items))
        }
    }

    /// An optional list of strings, left out when empty.
    pub(crate) fn strings(self, key: &str, items: &[String]) -> Self {
        self.list(key, items.iter().map(|s| Value::from(s.as_str())).collect())
    }

    pub(crate) fn metadata(self, metadata: &Option<Map<String, Value>>) -> Self {
        self.opt("metadata", metadata.clone().map(Value::Object))
    }

    pub(crate) fn build(self) -> Value {
        Value::Object(self.0)
    }
}
