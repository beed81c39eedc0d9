//! What the derive adds to the shared schema table (`proactive-table`, which
//! holds the table, the path queries and the "did you mean" engine): how a
//! field's type reads in a message, and a table type's last segment.

use proactive_table::{Field, Kind};

/// What a value at a field of this kind is, for messages: "text", "an integer".
pub(crate) fn describe(field: &Field) -> String {
    match &field.kind {
        Kind::Object { type_name } => format!("an object (`{}`)", last_segment(type_name)),
        Kind::Text if field.localizable => "localizable text".to_owned(),
        Kind::Text => "text".to_owned(),
        Kind::Integer { int_type, .. } => format!("an integer (`{}`)", int_type.rust_name()),
        Kind::DateTime => "a date-time (`DateTime<Utc>`)".to_owned(),
        Kind::Enum { type_name, .. } => format!("a value of `{}`", last_segment(type_name)),
        Kind::EnumArray { type_name, .. } => format!("a list of `{}` values", last_segment(type_name)),
    }
}

/// `Availability` from `media_content_available::Availability`.
pub(crate) fn last_segment(type_name: &str) -> &str {
    type_name.rsplit("::").next().unwrap_or(type_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_prose() {
        let media = proactive_table::find_schema("AMAZON.MediaContent.Available").unwrap();
        assert_eq!(describe(media.field("availability.startTime").unwrap()), "a date-time (`DateTime<Utc>`)");
        assert_eq!(describe(media.field("content.name").unwrap()), "localizable text");
        assert_eq!(describe(media.field("availability").unwrap()), "an object (`Availability`)");
        assert_eq!(last_segment("media_content_available::Availability"), "Availability");
        assert_eq!(last_segment("u32"), "u32");
    }
}
