//! Tool-call arguments made up from a JSON Schema and the prompt.

use serde_json::{Map, Value};

/// Arguments for a tool whose parameters follow `schema`: every required
/// property filled (see [`Demo`](super::super::Demo) for the rules), nothing else.
pub(super) fn arguments_for(schema: &Value, prompt: &str) -> Value {
    let words: Vec<&str> = prompt
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    let properties = schema.get("properties").and_then(Value::as_object);
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut arguments = Map::new();
    let mut strings = 0;
    for name in required.iter().filter_map(Value::as_str) {
        let property = properties.and_then(|p| p.get(name));
        let value = match property.and_then(given_value) {
            Some(value) => value.clone(),
            None => match type_of(property) {
                "integer" | "number" => Value::from(1),
                "boolean" => Value::Bool(true),
                "array" => Value::Array(Vec::new()),
                "object" => Value::Object(Map::new()),
                "null" => Value::Null,
                _ => {
                    strings += 1;
                    Value::String(string_from(&words, strings - 1))
                }
            },
        };
        arguments.insert(name.to_owned(), value);
    }
    Value::Object(arguments)
}

/// A value the schema itself offers: `default`, `const`, or the first `enum`.
fn given_value(property: &Value) -> Option<&Value> {
    property
        .get("default")
        .or_else(|| property.get("const"))
        .or_else(|| property.get("enum")?.as_array()?.first())
}

/// The property's type; of a list of types, the first that is not `null`.
fn type_of(property: Option<&Value>) -> &str {
    match property.and_then(|p| p.get("type")) {
        Some(Value::String(ty)) => ty,
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|ty| *ty != "null")
            .unwrap_or("string"),
        _ => "string",
    }
}

/// The `index`-th string: the prompt's first eight words, then single words
/// from the end of the prompt backwards.
fn string_from(words: &[&str], index: usize) -> String {
    if words.is_empty() {
        return "demo".to_owned();
    }
    if index == 0 {
        return words.iter().take(8).copied().collect::<Vec<_>>().join(" ");
    }
    let back = (index - 1) % words.len();
    words[words.len() - 1 - back].to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn required_properties_are_filled_by_type() {
        let schema = json!({
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "city": {"type": ["null", "string"]},
                "limit": {"type": "integer"},
                "ratio": {"type": "number"},
                "exact": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "lang": {"type": "string", "default": "en"},
                "optional": {"type": "string"}
            },
            "required": ["query", "city", "limit", "ratio", "exact", "tags", "unit", "lang", "nowhere"]
        });
        let args = arguments_for(&schema, "What's the weather in Paris, today?");
        assert_eq!(
            args,
            json!({
                "query": "What's the weather in Paris today",
                "city": "today",
                "limit": 1,
                "ratio": 1,
                "exact": true,
                "tags": [],
                "unit": "celsius",
                "lang": "en",
                "nowhere": "Paris",
            })
        );
    }

    #[test]
    fn odd_schemas_give_empty_arguments() {
        for schema in [json!(null), json!({}), json!({"required": "x"}), json!([1])] {
            assert_eq!(arguments_for(&schema, "hi"), json!({}));
        }
        assert_eq!(
            arguments_for(&json!({"required": ["q"]}), ""),
            json!({"q": "demo"})
        );
    }
}
