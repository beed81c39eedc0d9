//! The JSON Schemas `EventName::json_schema` gives, in a reader's words: the
//! descriptions come from the generated types' doc comments, so their rustdoc
//! link markup (`` [`OrderState`] ``, `[text](path)`) is turned into plain
//! text, and the sentence that tells a Rust user how to build the type is
//! left out. A user of `proactive schema` reads JSON, not rustdoc.

use serde_json::Value;

/// `schema` with every `description` in plain words.
pub(crate) fn plain(mut schema: schemars::Schema) -> schemars::Schema {
    if let Some(object) = schema.as_object_mut() {
        for value in object.values_mut() {
            walk(value);
        }
        if let Some(Value::String(text)) = object.get_mut("description") {
            *text = plain_text(text);
        }
    }
    schema
}

fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(text) if key == "description" => *text = plain_text(text),
                    child => walk(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

/// `text` without rustdoc links and without the "Build one with" sentence.
fn plain_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        out.push_str(&after[..close]);
        rest = &after[close + 1..];
        // `[text](target)`: the target goes too.
        if let Some(target) = rest.strip_prefix('(')
            && let Some(end) = target.find(')')
        {
            rest = &target[end + 1..];
        }
    }
    out.push_str(rest);
    let sentences: Vec<&str> = out.split("\n\n").filter(|paragraph| !paragraph.is_empty()).collect();
    sentences
        .into_iter()
        .map(|paragraph| match paragraph.find(" Build one with ") {
            Some(at) => &paragraph[..at],
            None => paragraph,
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::plain_text;

    #[test]
    fn rustdoc_links_become_plain_text() {
        assert_eq!(
            plain_text("The payload of Amazon's `X` event. Build one with [`Order::builder`]."),
            "The payload of Amazon's `X` event."
        );
        assert_eq!(plain_text("See [`OrderState`] and [the docs](crate::docs)."), "See `OrderState` and the docs.");
        assert_eq!(plain_text("a [ lone bracket"), "a [ lone bracket");
    }
}
