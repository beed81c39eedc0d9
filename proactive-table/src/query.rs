//! Questions asked of the schema table, by the derive at compile time and by the
//! runtime: the field at a path, its lineage, every field, known mistakes, and
//! what to suggest for a path or schema name that does not exist.

use crate::suggest;
use crate::{Field, SCHEMAS, Schema};

/// The schema with Amazon's name `name`.
pub fn find_schema(name: &str) -> Option<&'static Schema> {
    SCHEMAS.iter().find(|schema| schema.name == name)
}

/// Every schema's name, in table order.
pub fn schema_names() -> impl Iterator<Item = &'static str> + Clone {
    SCHEMAS.iter().map(|schema| schema.name)
}

/// The schema name closest to `given`, compared without the `AMAZON.` (in any
/// case) that all share, which would make every name look alike.
pub fn closest_schema(given: &str) -> Option<&'static str> {
    fn bare(name: &str) -> &str {
        match name.get(..7) {
            Some(prefix) if prefix.eq_ignore_ascii_case("AMAZON.") => &name[7..],
            _ => name,
        }
    }
    let close = suggest::closest(bare(given), SCHEMAS.iter().map(|schema| bare(schema.name)))?;
    SCHEMAS.iter().map(|schema| schema.name).find(|name| bare(name) == close)
}

/// Whether the path `inner` is `outer` or lies inside it.
pub fn is_within(inner: &str, outer: &str) -> bool {
    inner == outer || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('.'))
}

/// What to tell someone who wrote an unknown path: see [`Schema::hint_for_path`].
#[derive(Debug)]
pub enum PathHint {
    /// A path close to it.
    Closest(&'static str),
    /// Its parent exists, but no child is close: the parent's paths.
    Within(&'static Field),
    /// Nothing is close: every path that holds a value.
    Leaves(Vec<&'static str>),
}

impl Schema {
    /// The field at the JSON path `path` (such as `availability.provider.name`).
    pub fn field(&'static self, path: &str) -> Option<&'static Field> {
        self.lineage(path).and_then(|lineage| lineage.last().copied())
    }

    /// The field at `path` and its ancestors, root first; `None` when no field has that path.
    pub fn lineage(&'static self, path: &str) -> Option<Vec<&'static Field>> {
        let mut lineage = Vec::new();
        let mut fields = self.fields;
        for name in path.split('.') {
            let field = Field::child(fields, name)?;
            lineage.push(field);
            fields = field.children;
        }
        (!lineage.is_empty()).then_some(lineage)
    }

    /// Every field, parents before their children.
    pub fn all_fields(&'static self) -> Vec<&'static Field> {
        let mut out = Vec::new();
        for field in self.fields {
            out.push(field);
            out.extend(field.descendants());
        }
        out
    }

    /// Every field's path, parents before their children.
    pub fn paths(&'static self) -> Vec<&'static str> {
        self.all_fields().into_iter().map(|field| field.path).collect()
    }

    /// The path a known misspelling or misplacement of `path` stands for: the
    /// schemas record spellings seen in other SDKs' docs (`state.enterTimeStamp`).
    pub fn known_mistake(&'static self, path: &str) -> Option<&'static str> {
        self.all_fields().into_iter().find_map(|field| {
            let parent = field.path.rsplit_once('.').map(|(parent, _)| parent);
            let alias_matches = field.aliases.iter().any(|alias| match parent {
                Some(parent) => path.strip_prefix(parent).and_then(|rest| rest.strip_prefix('.')) == Some(alias),
                None => path == *alias,
            });
            (alias_matches || field.moved_from.contains(&path)).then_some(field.path)
        })
    }

    /// Finds what the unknown path `given` most likely meant: a close path under
    /// the deepest object that `given` names correctly, else a close path anywhere.
    pub fn hint_for_path(&'static self, given: &str) -> PathHint {
        let segments: Vec<&str> = given.split('.').collect();
        for depth in (1..segments.len()).rev() {
            let Some(node) = self.field(&segments[..depth].join(".")) else { continue };
            if node.children.is_empty() {
                break;
            }
            let rest = segments[depth..].join(".");
            let below = node.descendants();
            let relative = |field: &&'static Field| &field.path[node.path.len() + 1..];
            return match suggest::closest(&rest, below.iter().map(relative)) {
                Some(close) => {
                    PathHint::Closest(below.iter().find(|field| relative(field) == close).expect("found above").path)
                }
                None => PathHint::Within(node),
            };
        }
        let fields = self.all_fields();
        match suggest::closest(given, fields.iter().map(|field| field.path)) {
            Some(close) => PathHint::Closest(close),
            None => PathHint::Leaves(
                fields.iter().filter(|field| field.children.is_empty()).map(|field| field.path).collect(),
            ),
        }
    }
}

impl Field {
    /// The field named `name` among `fields` (one object's fields).
    pub fn child(fields: &'static [Field], name: &str) -> Option<&'static Field> {
        fields.iter().find(|field| field.name == name)
    }

    /// The field among `fields` of which `name` is a known misspelling.
    pub fn child_by_alias(fields: &'static [Field], name: &str) -> Option<&'static Field> {
        fields.iter().find(|field| field.aliases.contains(&name))
    }

    /// Every field below this one, parents before children.
    pub fn descendants(&'static self) -> Vec<&'static Field> {
        let mut out = Vec::new();
        for child in self.children {
            out.push(child);
            out.extend(child.descendants());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_through_the_tree() {
        let schema = find_schema("AMAZON.MediaContent.Available").unwrap();
        let lineage = schema.lineage("availability.provider.name").unwrap();
        let paths: Vec<_> = lineage.iter().map(|field| field.path).collect();
        assert_eq!(paths, ["availability", "availability.provider", "availability.provider.name"]);
        assert_eq!(schema.field("availability.provider.name").map(|field| field.name), Some("name"));
        assert!(schema.lineage("availability.nope").is_none());
        assert!(schema.lineage("").is_none());
        assert!(schema.field("name").is_none(), "a path is looked up from the root, not anywhere");
    }

    #[test]
    fn every_field_comes_once_parents_first() {
        let schema = find_schema("AMAZON.MediaContent.Available").unwrap();
        let paths = schema.paths();
        assert_eq!(paths.len(), schema.all_fields().len());
        let provider = paths.iter().position(|path| *path == "availability.provider").unwrap();
        let name = paths.iter().position(|path| *path == "availability.provider.name").unwrap();
        assert!(provider < name);
        for path in &paths {
            assert_eq!(schema.field(path).map(|field| field.path), Some(*path));
        }
    }

    #[test]
    fn known_mistakes_point_at_the_real_path() {
        let order = find_schema("AMAZON.OrderStatus.Updated").unwrap();
        assert_eq!(order.known_mistake("state.enterTimeStamp"), Some("state.enterTimestamp"));
        let invite = find_schema("AMAZON.SocialGameInvite.Available").unwrap();
        assert_eq!(invite.known_mistake("invite.inviter.relationshipToInvitee"), Some("invite.relationshipToInvitee"));
        assert_eq!(invite.known_mistake("invite.inviter.name"), None);
        let state = order.field("state").unwrap();
        assert_eq!(
            Field::child_by_alias(state.children, "enterTimeStamp").map(|f| f.path),
            Some("state.enterTimestamp")
        );
        assert!(Field::child_by_alias(state.children, "enterTimestamp").is_none());
    }

    #[test]
    fn hints_look_under_the_named_object_first() {
        let media = find_schema("AMAZON.MediaContent.Available").unwrap();
        let closest = |given| match media.hint_for_path(given) {
            PathHint::Closest(path) => Some(path),
            _ => None,
        };
        assert_eq!(closest("availability.start_time"), Some("availability.startTime"));
        assert_eq!(closest("content.nme"), Some("content.name"));
        assert_eq!(closest("content.kind.name"), None);
        assert_eq!(closest("startTime"), Some("availability.startTime"));
        assert!(matches!(media.hint_for_path("content.title"), PathHint::Within(field) if field.path == "content"));
        assert!(matches!(media.hint_for_path("temperature"), PathHint::Leaves(paths) if paths.len() == 5));
        let weather = find_schema("AMAZON.WeatherAlert.Activated").unwrap();
        assert!(matches!(weather.hint_for_path("weatherAlert.type"), PathHint::Closest("weatherAlert.alertType")));
    }

    #[test]
    fn schema_names_are_compared_without_their_common_prefix() {
        assert_eq!(closest_schema("AMAZON.MediaContent.Availble"), Some("AMAZON.MediaContent.Available"));
        assert_eq!(closest_schema("MediaContent.Available"), Some("AMAZON.MediaContent.Available"));
        assert_eq!(closest_schema("amazon.occasion.updated"), Some("AMAZON.Occasion.Updated"));
        assert_eq!(closest_schema("AMAZON.Reminder.Created"), None);
        assert_eq!(schema_names().count(), SCHEMAS.len());
    }

    #[test]
    fn within_respects_segments() {
        assert!(is_within("availability.provider.name", "availability.provider"));
        assert!(is_within("availability", "availability"));
        assert!(!is_within("availability.providerName", "availability.provider"));
    }
}
