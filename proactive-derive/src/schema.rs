//! Questions the derive asks of the generated schema table.

use crate::generated::table::{Field, Kind, SCHEMAS, Schema};
use crate::suggest;

/// The schema with Amazon's name `name`.
pub(crate) fn find_schema(name: &str) -> Option<&'static Schema> {
    SCHEMAS.iter().find(|schema| schema.name == name)
}

/// The schema name closest to `given`, compared without the `AMAZON.` that all
/// share (which would make every name look alike).
pub(crate) fn closest_schema(given: &str) -> Option<&'static str> {
    fn bare(name: &str) -> &str {
        name.strip_prefix("AMAZON.").unwrap_or(name)
    }
    let close = suggest::closest(bare(given), SCHEMAS.iter().map(|schema| bare(schema.name)))?;
    SCHEMAS.iter().map(|schema| schema.name).find(|name| bare(name) == close)
}

/// What to tell someone who wrote the unknown path `given`.
pub(crate) enum PathHint {
    /// A path close to it.
    Closest(&'static str),
    /// Its parent exists, but no child is close: the parent's paths.
    Within(&'static Field),
    /// Nothing is close: every path that holds a value.
    Leaves(Vec<&'static str>),
}

/// Finds what `given` most likely meant: a close path under the deepest object
/// that `given` names correctly, else a close path anywhere.
pub(crate) fn hint_for_path(schema: &'static Schema, given: &str) -> PathHint {
    let segments: Vec<&str> = given.split('.').collect();
    for depth in (1..segments.len()).rev() {
        let parent = segments[..depth].join(".");
        let Some(node) = lineage(schema, &parent).and_then(|lineage| lineage.last().copied()) else { continue };
        if node.children.is_empty() {
            break;
        }
        let rest = segments[depth..].join(".");
        let below = descendants(node);
        let relative = below.iter().map(|field| &field.path[node.path.len() + 1..]);
        return match suggest::closest(&rest, relative) {
            Some(close) => Closest(
                below.iter().find(|field| field.path[node.path.len() + 1..] == *close).expect("found above").path,
            ),
            None => Within(node),
        };
    }
    let fields = all_fields(schema);
    match suggest::closest(given, fields.iter().map(|field| field.path)) {
        Some(close) => Closest(close),
        None => Leaves(fields.iter().filter(|field| field.children.is_empty()).map(|field| field.path).collect()),
    }
}

use PathHint::{Closest, Leaves, Within};

/// Every field below `field`, parents before children.
pub(crate) fn descendants(field: &'static Field) -> Vec<&'static Field> {
    let mut out = Vec::new();
    for child in field.children {
        out.push(child);
        out.extend(descendants(child));
    }
    out
}

/// Every schema's name, in table order.
pub(crate) fn schema_names() -> impl Iterator<Item = &'static str> + Clone {
    SCHEMAS.iter().map(|schema| schema.name)
}

/// Every field of `schema`, parents before their children.
pub(crate) fn all_fields(schema: &'static Schema) -> Vec<&'static Field> {
    let mut out = Vec::new();
    for field in schema.fields {
        out.push(field);
        out.extend(descendants(field));
    }
    out
}

/// The field at `path` and its ancestors, root first; `None` when no field has that path.
pub(crate) fn lineage(schema: &'static Schema, path: &str) -> Option<Vec<&'static Field>> {
    let mut lineage = Vec::new();
    let mut fields = schema.fields;
    for name in path.split('.') {
        let field = fields.iter().find(|field| field.name == name)?;
        lineage.push(field);
        fields = field.children;
    }
    (!lineage.is_empty()).then_some(lineage)
}

/// Whether `inner` is `outer` or lies inside it.
pub(crate) fn is_within(inner: &str, outer: &str) -> bool {
    inner == outer || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('.'))
}

/// The path a known misspelling or misplacement of `path` stands for: the
/// schemas record spellings seen in other SDKs' docs (`state.enterTimeStamp`).
pub(crate) fn known_mistake(schema: &'static Schema, path: &str) -> Option<&'static str> {
    all_fields(schema).into_iter().find_map(|field| {
        let parent = field.path.rsplit_once('.').map(|(parent, _)| parent);
        let alias_matches = field.aliases.iter().any(|alias| match parent {
            Some(parent) => path.strip_prefix(parent).and_then(|rest| rest.strip_prefix('.')) == Some(alias),
            None => path == *alias,
        });
        (alias_matches || field.moved_from.contains(&path)).then_some(field.path)
    })
}

/// What a value at a field of this kind is, for messages: "text", "an integer".
pub(crate) fn describe(field: &Field) -> String {
    match &field.kind {
        Kind::Object { type_name } => format!("an object (`{}`)", last_segment(type_name)),
        Kind::Text if field.localizable => "localizable text".to_owned(),
        Kind::Text => "text".to_owned(),
        Kind::Integer { type_name, .. } => format!("an integer (`{type_name}`)"),
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
    fn paths_resolve_through_the_tree() {
        let schema = find_schema("AMAZON.MediaContent.Available").unwrap();
        let lineage = lineage(schema, "availability.provider.name").unwrap();
        let paths: Vec<_> = lineage.iter().map(|field| field.path).collect();
        assert_eq!(paths, ["availability", "availability.provider", "availability.provider.name"]);
        assert!(super::lineage(schema, "availability.nope").is_none());
        assert!(super::lineage(schema, "").is_none());
    }

    #[test]
    fn known_mistakes_point_at_the_real_path() {
        let order = find_schema("AMAZON.OrderStatus.Updated").unwrap();
        assert_eq!(known_mistake(order, "state.enterTimeStamp"), Some("state.enterTimestamp"));
        let invite = find_schema("AMAZON.SocialGameInvite.Available").unwrap();
        assert_eq!(known_mistake(invite, "invite.inviter.relationshipToInvitee"), Some("invite.relationshipToInvitee"));
        assert_eq!(known_mistake(invite, "invite.inviter.name"), None);
    }

    #[test]
    fn hints_look_under_the_named_object_first() {
        let media = find_schema("AMAZON.MediaContent.Available").unwrap();
        let closest = |given| match hint_for_path(media, given) {
            PathHint::Closest(path) => Some(path),
            _ => None,
        };
        assert_eq!(closest("availability.start_time"), Some("availability.startTime"));
        assert_eq!(closest("content.nme"), Some("content.name"));
        assert_eq!(closest("content.kind.name"), None);
        assert_eq!(closest("startTime"), Some("availability.startTime"));
        assert!(matches!(hint_for_path(media, "content.title"), PathHint::Within(field) if field.path == "content"));
        assert!(matches!(hint_for_path(media, "temperature"), PathHint::Leaves(paths) if paths.len() == 5));
        let weather = find_schema("AMAZON.WeatherAlert.Activated").unwrap();
        assert!(matches!(hint_for_path(weather, "weatherAlert.type"), PathHint::Closest("weatherAlert.alertType")));
    }

    #[test]
    fn schema_names_are_compared_without_their_common_prefix() {
        assert_eq!(closest_schema("AMAZON.MediaContent.Availble"), Some("AMAZON.MediaContent.Available"));
        assert_eq!(closest_schema("MediaContent.Available"), Some("AMAZON.MediaContent.Available"));
        assert_eq!(closest_schema("AMAZON.Reminder.Created"), None);
    }

    #[test]
    fn within_respects_segments() {
        assert!(is_within("availability.provider.name", "availability.provider"));
        assert!(is_within("availability", "availability"));
        assert!(!is_within("availability.providerName", "availability.provider"));
    }
}
