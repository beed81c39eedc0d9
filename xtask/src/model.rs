//! Reads one schema description file into the model the emitters work from.
//!
//! The files are standard JSON Schema (draft 2020-12) plus the extension keywords
//! documented in `proactive-schemas/schemas/README.md`. Anything the generator
//! does not understand is an error naming the file and the JSON pointer, so a
//! typo in a keyword cannot silently change the generated code.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One event schema.
pub(crate) struct Schema {
    /// The file name, such as `weather_alert_activated.json`.
    pub(crate) file: String,
    /// The Rust module name, the file stem.
    pub(crate) module: String,
    /// Amazon's event name.
    pub(crate) event_name: String,
    /// The payload type's name (the root `title`).
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) locales: Vec<String>,
    pub(crate) utterances: Vec<Utterance>,
    pub(crate) examples: Vec<Value>,
    /// Every object type, the payload root first.
    pub(crate) structs: Vec<Struct>,
    pub(crate) enums: Vec<Enum>,
}

pub(crate) struct Utterance {
    pub(crate) when: Vec<(String, String)>,
    pub(crate) when_present: Vec<String>,
    pub(crate) template: String,
}

pub(crate) struct Struct {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) fields: Vec<Field>,
}

pub(crate) struct Field {
    /// The JSON property name.
    pub(crate) json: String,
    /// The Rust field name.
    pub(crate) ident: String,
    pub(crate) description: String,
    pub(crate) required: bool,
    pub(crate) ty: Ty,
    pub(crate) aliases: Vec<String>,
    pub(crate) moved_from: Vec<String>,
}

pub(crate) enum Ty {
    Text { localizable: bool },
    Integer { minimum: Option<i64> },
    DateTime,
    Enum(String),
    EnumArray { item: String, min_items: usize, max_items: usize, unique: bool },
    Struct(String),
}

impl Ty {
    /// The Rust type of an integer field: unsigned when the schema forbids negatives.
    pub(crate) fn integer_type(minimum: Option<i64>) -> &'static str {
        match minimum {
            Some(min) if min >= 0 => "u32",
            _ => "i64",
        }
    }
}

pub(crate) struct Enum {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) values: Vec<EnumValue>,
}

/// One value of an enum.
pub(crate) struct EnumValue {
    /// Amazon's spelling.
    pub(crate) wire: String,
    /// The Rust variant name.
    pub(crate) ident: String,
    /// How Alexa is expected to speak it in English.
    pub(crate) spoken: String,
}

impl Schema {
    pub(crate) fn struct_named(&self, name: &str) -> &Struct {
        self.structs.iter().find(|s| s.name == name).expect("the parser records every struct it names")
    }

    pub(crate) fn enum_named(&self, name: &str) -> &Enum {
        self.enums.iter().find(|e| e.name == name).expect("the parser records every enum it names")
    }

    pub(crate) fn root(&self) -> &Struct {
        &self.structs[0]
    }
}

/// Parses one schema file's text.
pub(crate) fn parse(file: &str, text: &str) -> Result<Schema, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("{file}: invalid JSON: {e}"))?;
    let mut parser = Parser { file, defs: BTreeMap::new(), structs: Vec::new(), enums: Vec::new() };
    let obj = parser.object(&root, "")?;
    parser.check_keys(
        obj,
        "",
        &[
            "$schema",
            "$id",
            "title",
            "description",
            "type",
            "additionalProperties",
            "required",
            "properties",
            "$defs",
            "examples",
            "x-event-name",
            "x-utterances",
            "x-locales",
        ],
    )?;
    if obj.get("$schema").and_then(Value::as_str) != Some("https://json-schema.org/draft/2020-12/schema") {
        return Err(format!("{file}: `$schema` must be draft 2020-12"));
    }
    if let Some(defs) = obj.get("$defs") {
        let defs = parser.object(defs, "/$defs")?;
        for (name, def) in defs {
            parser.defs.insert(name.clone(), def.clone());
        }
    }
    let event_name = parser.string(obj, "x-event-name", "")?;
    let title = parser.string(obj, "title", "")?;
    let module = file.strip_suffix(".json").ok_or_else(|| format!("{file}: not a .json file"))?.to_owned();
    parser.struct_type(&root, "")?;

    let locales = match obj.get("x-locales") {
        None => Vec::new(),
        Some(v) => parser.strings(v, "/x-locales")?,
    };
    let utterances = parser.utterances(obj.get("x-utterances"))?;
    if utterances.is_empty() {
        return Err(format!("{file}: `x-utterances` needs at least one template"));
    }
    let examples = parser.array(obj.get("examples"), "/examples")?.clone();
    if examples.is_empty() {
        return Err(format!("{file}: `examples` needs Amazon's example payload"));
    }
    let description = parser.string(obj, "description", "")?;
    let Parser { structs, enums, .. } = parser;
    Ok(Schema {
        file: file.to_owned(),
        module,
        event_name,
        title,
        description,
        locales,
        utterances,
        examples,
        structs,
        enums,
    })
}

impl Parser<'_> {
    /// `x-utterances`: the templates and the conditions under which each applies.
    fn utterances(&self, value: Option<&Value>) -> Result<Vec<Utterance>, String> {
        let file = self.file;
        let mut utterances = Vec::new();
        for (i, u) in self.array(value, "/x-utterances")?.iter().enumerate() {
            let at = format!("/x-utterances/{i}");
            let u = self.object(u, &at)?;
            self.check_keys(u, &at, &["when", "whenPresent", "template"])?;
            let when = match u.get("when") {
                None => Vec::new(),
                Some(w) => self
                    .object(w, &format!("{at}/when"))?
                    .iter()
                    .map(|(k, v)| {
                        v.as_str()
                            .map(|v| (k.clone(), v.to_owned()))
                            .ok_or_else(|| format!("{file}: {at}/when/{k} must be a string"))
                    })
                    .collect::<Result<_, _>>()?,
            };
            let when_present = match u.get("whenPresent") {
                None => Vec::new(),
                Some(v) => self.strings(v, &format!("{at}/whenPresent"))?,
            };
            utterances.push(Utterance { when, when_present, template: self.string(u, "template", &at)? });
        }
        Ok(utterances)
    }
}

struct Parser<'a> {
    file: &'a str,
    defs: BTreeMap<String, Value>,
    structs: Vec<Struct>,
    enums: Vec<Enum>,
}

impl Parser<'_> {
    fn err(&self, at: &str, msg: impl std::fmt::Display) -> String {
        format!("{}: at `{}`: {msg}", self.file, if at.is_empty() { "/" } else { at })
    }

    fn object<'v>(&self, v: &'v Value, at: &str) -> Result<&'v Map<String, Value>, String> {
        v.as_object().ok_or_else(|| self.err(at, "expected an object"))
    }

    fn array<'v>(&self, v: Option<&'v Value>, at: &str) -> Result<&'v Vec<Value>, String> {
        v.and_then(Value::as_array).ok_or_else(|| self.err(at, "expected an array"))
    }

    fn string(&self, obj: &Map<String, Value>, key: &str, at: &str) -> Result<String, String> {
        obj.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| self.err(at, format!("`{key}` must be a string")))
    }

    fn strings(&self, v: &Value, at: &str) -> Result<Vec<String>, String> {
        let items = self.array(Some(v), at)?;
        items.iter().map(|s| s.as_str().map(str::to_owned).ok_or_else(|| self.err(at, "expected strings"))).collect()
    }

    fn check_keys(&self, obj: &Map<String, Value>, at: &str, allowed: &[&str]) -> Result<(), String> {
        match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(key) => Err(self.err(at, format!("unknown keyword `{key}` (known here: {})", allowed.join(", ")))),
            None => Ok(()),
        }
    }

    /// Resolves a `$ref` to `#/$defs/NAME`; a property-level `description` wins
    /// over the definition's own.
    fn resolve(&self, node: &Value, at: &str) -> Result<(Value, Option<String>), String> {
        let obj = self.object(node, at)?;
        let Some(reference) = obj.get("$ref") else { return Ok((node.clone(), None)) };
        self.check_keys(obj, at, &["$ref", "description"])?;
        let name = reference
            .as_str()
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .ok_or_else(|| self.err(at, "only `#/$defs/NAME` references are supported"))?;
        let def = self.defs.get(name).ok_or_else(|| self.err(at, format!("no definition `{name}` in `$defs`")))?;
        let description = obj.get("description").and_then(Value::as_str).map(str::to_owned);
        Ok((def.clone(), description))
    }

    /// Records an object type (once, even when several properties reference it)
    /// and returns its name.
    fn struct_type(&mut self, node: &Value, at: &str) -> Result<String, String> {
        let obj = self.object(node, at)?.clone();
        let name = self.string(&obj, "title", at)?;
        if obj.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Err(
                self.err(at, "objects must say `\"additionalProperties\": false` (unknown fields are rejected)")
            );
        }
        if self.structs.iter().any(|s| s.name == name) {
            return Ok(name);
        }
        if !at.is_empty() {
            self.check_keys(
                &obj,
                at,
                &["title", "description", "type", "additionalProperties", "required", "properties"],
            )?;
        }
        // Reserve the slot first so that the payload root stays first.
        let index = self.structs.len();
        self.structs.push(Struct {
            name: name.clone(),
            description: self.string(&obj, "description", at)?,
            fields: Vec::new(),
        });
        let required = match obj.get("required") {
            None => Vec::new(),
            Some(r) => self.strings(r, &format!("{at}/required"))?,
        };
        let props = self.object(obj.get("properties").ok_or_else(|| self.err(at, "objects need `properties`"))?, at)?;
        for key in &required {
            if !props.contains_key(key) {
                return Err(self.err(at, format!("`required` names `{key}`, which is not a property")));
            }
        }
        let mut fields = Vec::new();
        for (json, prop) in props {
            let prop_at = format!("{at}/properties/{json}");
            let (prop, ref_description) = self.resolve(prop, &prop_at)?;
            let prop_obj = self.object(&prop, &prop_at)?.clone();
            let description = match ref_description {
                Some(d) => d,
                None => self.string(&prop_obj, "description", &prop_at)?,
            };
            let ty = self.field_type(&prop, &prop_at)?;
            let list = |key: &str| match prop_obj.get(key) {
                None => Ok(Vec::new()),
                Some(v) => self.strings(v, &format!("{prop_at}/{key}")),
            };
            fields.push(Field {
                ident: snake_ident(json),
                json: json.clone(),
                description,
                required: required.contains(json),
                aliases: list("x-aliases")?,
                moved_from: list("x-moved-from")?,
                ty,
            });
        }
        self.structs[index].fields = fields;
        Ok(name)
    }

    fn field_type(&mut self, node: &Value, at: &str) -> Result<Ty, String> {
        let obj = self.object(node, at)?.clone();
        let ty = obj.get("type").and_then(Value::as_str).ok_or_else(|| self.err(at, "`type` must be a string"))?;
        let common = ["title", "description", "type", "x-aliases", "x-moved-from"];
        let allow = |extra: &[&'static str]| common.iter().chain(extra).copied().collect::<Vec<&str>>();
        match ty {
            "object" => Ok(Ty::Struct(self.struct_type(node, at)?)),
            "string" if obj.contains_key("enum") => {
                self.check_keys(&obj, at, &allow(&["enum", "x-spoken"]))?;
                Ok(Ty::Enum(self.enum_type(&obj, at)?))
            }
            "string" if obj.contains_key("format") => {
                self.check_keys(&obj, at, &allow(&["format"]))?;
                match obj.get("format").and_then(Value::as_str) {
                    Some("date-time") => Ok(Ty::DateTime),
                    _ => Err(self.err(at, "the only supported `format` is `date-time`")),
                }
            }
            "string" => {
                self.check_keys(&obj, at, &allow(&["x-localizable"]))?;
                let localizable = match obj.get("x-localizable") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(self.err(at, "`x-localizable` must be a boolean")),
                };
                Ok(Ty::Text { localizable })
            }
            "integer" => {
                self.check_keys(&obj, at, &allow(&["minimum"]))?;
                let minimum = match obj.get("minimum") {
                    None => None,
                    Some(v) => Some(v.as_i64().ok_or_else(|| self.err(at, "`minimum` must be an integer"))?),
                };
                Ok(Ty::Integer { minimum })
            }
            "array" => {
                self.check_keys(&obj, at, &allow(&["items", "minItems", "maxItems", "uniqueItems"]))?;
                let items_at = format!("{at}/items");
                let items = obj.get("items").ok_or_else(|| self.err(at, "arrays need `items`"))?;
                let items_obj = self.object(items, &items_at)?.clone();
                if items_obj.get("type").and_then(Value::as_str) != Some("string") || !items_obj.contains_key("enum") {
                    return Err(self.err(&items_at, "only arrays of enum strings are supported"));
                }
                self.check_keys(&items_obj, &items_at, &["title", "description", "type", "enum", "x-spoken"])?;
                let item = self.enum_type(&items_obj, &items_at)?;
                let count = |key: &str| obj.get(key).and_then(Value::as_u64).map(|n| n as usize);
                Ok(Ty::EnumArray {
                    item,
                    min_items: count("minItems").unwrap_or(0),
                    max_items: count("maxItems").ok_or_else(|| self.err(at, "arrays need `maxItems`"))?,
                    unique: obj.get("uniqueItems") == Some(&Value::Bool(true)),
                })
            }
            other => Err(self.err(at, format!("unsupported type `{other}`"))),
        }
    }

    fn enum_type(&mut self, obj: &Map<String, Value>, at: &str) -> Result<String, String> {
        let name = self.string(obj, "title", at)?;
        let values = self.strings(obj.get("enum").expect("checked by the caller"), &format!("{at}/enum"))?;
        let spoken = self.object(obj.get("x-spoken").ok_or_else(|| self.err(at, "enums need `x-spoken`"))?, at)?;
        let mut out = Vec::new();
        for value in &values {
            if out.iter().any(|known: &EnumValue| known.wire == *value) {
                return Err(self.err(at, format!("`{value}` is listed twice")));
            }
            let said = spoken
                .get(value)
                .and_then(Value::as_str)
                .ok_or_else(|| self.err(at, format!("`x-spoken` lacks `{value}`")))?;
            out.push(EnumValue { wire: value.clone(), ident: camel_ident(value), spoken: said.to_owned() });
        }
        if let Some(extra) = spoken.keys().find(|k| !values.contains(k)) {
            return Err(self.err(at, format!("`x-spoken` names `{extra}`, which is not in `enum`")));
        }
        if self.enums.iter().any(|e| e.name == name) {
            return Err(self.err(at, format!("a second enum is titled `{name}`")));
        }
        self.enums.push(Enum { name: name.clone(), description: self.string(obj, "description", at)?, values: out });
        Ok(name)
    }
}

/// `alertType` → `alert_type`, with Rust keywords escaped.
pub(crate) fn snake_ident(json: &str) -> String {
    let mut out = String::new();
    for (i, c) in json.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    if matches!(out.as_str(), "type" | "match" | "ref" | "self" | "mod" | "use" | "fn" | "impl" | "enum" | "struct") {
        out.push('_');
    }
    out
}

/// `SNOW_STORM` or `alertType` → `SnowStorm` / `AlertType`.
pub(crate) fn camel_ident(name: &str) -> String {
    if name.contains('_') || name.chars().all(|c| !c.is_ascii_lowercase()) {
        name.split('_')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let lower = p.to_ascii_lowercase();
                let mut chars = lower.chars();
                chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
            })
            .collect()
    } else {
        let mut chars = name.chars();
        chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(snake_ident("alertType"), "alert_type");
        assert_eq!(snake_ident("type"), "type_");
        assert_eq!(camel_ident("SNOW_STORM"), "SnowStorm");
        assert_eq!(camel_ident("URGENT"), "Urgent");
        assert_eq!(camel_ident("alertType"), "AlertType");
    }

    #[test]
    fn unknown_keywords_are_rejected_with_their_location() {
        let text = r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"T","description":"d",
            "x-event-name":"AMAZON.T.U","x-utterances":[{"template":"t"}],"examples":[{}],
            "type":"object","additionalProperties":false,"properties":{
              "a":{"type":"string","description":"d","x-localisable":true}}}"#;
        let error = parse("t.json", text).err().expect("a misspelled keyword must fail");
        assert!(error.contains("t.json: at `/properties/a`: unknown keyword `x-localisable`"), "{error}");
    }

    #[test]
    fn objects_must_reject_unknown_fields() {
        let text = r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"T","description":"d",
            "x-event-name":"AMAZON.T.U","x-utterances":[{"template":"t"}],"examples":[{}],
            "type":"object","properties":{}}"#;
        let error = parse("t.json", text).err().expect("an open object must fail");
        assert!(error.contains("additionalProperties"), "{error}");
    }
}
