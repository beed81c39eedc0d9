//! What a JSON value is, in the words of error messages (`a string`, `an
//! object`, ...), for every reader of untyped JSON (the envelope reader, the
//! manifest editor).

use serde_json::Value;

/// `a string`, `an object`, ...: what a JSON value is, for error messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The kind and, for scalars, the value itself.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("{n}"),
        Value::String(s) => format!("\"{s}\""),
        Value::Bool(b) => b.to_string(),
        other => kind(other).to_owned(),
    }
}
