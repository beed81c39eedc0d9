//! `relevantAudience`: a Unicast to one user, or a Multicast to every subscribed
//! user.

use serde_json::Value;

use super::Reader;
use crate::Audience;
use crate::UserId;
use crate::json_kind::{describe, kind};
use crate::report::Rule;
use crate::suggest::did_you_mean;

const AT: &str = "relevantAudience";

impl Reader<'_> {
    /// Reads `relevantAudience`: its two fields, then the payload its type asks for.
    pub(super) fn audience(&mut self, value: Option<Value>) -> Option<Audience> {
        let Some(value) = value else {
            self.missing(AT, "write `{\"type\": \"Unicast\", \"payload\": {\"user\": ID}}` or `{\"type\": \"Multicast\", \"payload\": {}}`");
            return None;
        };
        let Value::Object(mut audience) = value else {
            self.report.error(Rule::Audience, AT, format!("expected an object, found {}", kind(&value)));
            return None;
        };
        self.only_fields(&audience, AT, "an audience", &["type", "payload"]);
        let payload = audience.remove("payload");
        match audience.remove("type") {
            Some(Value::String(t)) if t == "Multicast" => self.multicast(payload),
            Some(Value::String(t)) if t == "Unicast" => self.unicast(payload),
            Some(Value::String(other)) => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.type"),
                    format!(
                        "unknown audience type `{other}`; use `Unicast` or `Multicast`{}",
                        did_you_mean(&other, ["Unicast", "Multicast"])
                    ),
                );
                None
            }
            None => {
                self.missing(&format!("{AT}.type"), "use `Unicast` or `Multicast`");
                None
            }
            Some(other) => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.type"),
                    format!("expected `Unicast` or `Multicast`, found {}", kind(&other)),
                );
                None
            }
        }
    }

    /// A Multicast's payload: `{}`, or missing (normalized to `{}` with a warning).
    fn multicast(&mut self, payload: Option<Value>) -> Option<Audience> {
        match payload {
            None | Some(Value::Null) => {
                self.report.warning(
                    Rule::Audience,
                    format!("{AT}.payload"),
                    "a Multicast audience's payload is missing; normalized to `{}`, which Amazon expects",
                );
                Some(Audience::Multicast)
            }
            Some(Value::Object(p)) if p.is_empty() => Some(Audience::Multicast),
            Some(Value::Object(p)) if p.contains_key("user") => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.payload.user"),
                    "a Multicast event goes to every subscribed user and names none; remove `user`, or use `Unicast` to send to this user",
                );
                None
            }
            Some(other) => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.payload"),
                    format!("a Multicast payload must be `{{}}`, found {}", describe(&other)),
                );
                None
            }
        }
    }

    /// A Unicast's payload, `{"user": ID}`, and the user id in it.
    fn unicast(&mut self, payload: Option<Value>) -> Option<Audience> {
        let user = self.unicast_payload(payload)?;
        match user {
            Some(Value::String(user)) => match UserId::new(&user) {
                Ok(user) => Some(Audience::Unicast(user)),
                Err(error) => {
                    self.report.error(Rule::Audience, format!("{AT}.payload.user"), error.to_string());
                    None
                }
            },
            None | Some(Value::Null) => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.payload.user"),
                    "a Unicast audience needs the user's id from `context.System.user.userId`",
                );
                None
            }
            Some(other) => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.payload.user"),
                    format!("expected a string, found {}", kind(&other)),
                );
                None
            }
        }
    }

    /// The `user` of a Unicast's payload object (`Some(None)` when it has none);
    /// `None` when there is no payload object at all.
    fn unicast_payload(&mut self, payload: Option<Value>) -> Option<Option<Value>> {
        match payload {
            None | Some(Value::Null) => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.payload"),
                    "a Unicast audience needs `payload: {\"user\": ID}` with the user's id from `context.System.user.userId`",
                );
                None
            }
            Some(Value::Object(mut p)) => {
                self.only_fields(&p, &format!("{AT}.payload"), "a Unicast payload", &["user"]);
                Some(p.remove("user"))
            }
            Some(other) => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.payload"),
                    format!("expected an object, found {}", kind(&other)),
                );
                None
            }
        }
    }
}
