//! What in `skill.json` makes proactive events fail, often silently: the
//! findings of `proactive doctor --manifest`, each an error or a warning with
//! the fix. `proactive manifest --merge` refuses to write a manifest with an
//! error.

use std::fmt;

use serde_json::Value;

use super::{EventsEndpoint, NOTIFICATIONS_PERMISSION, SUBSCRIPTION_CHANGED_EVENT, SkillEventName};
use crate::schemas::EventName;
use crate::{Region, Severity};

/// The manifest name of the event Alexa sends when a user disables the skill.
const SKILL_DISABLED_EVENT: &str = SkillEventName::SkillDisabled.as_str();

/// Which check a [`Finding`] comes from. Stable, so tools can match on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Check {
    /// Neither publications nor the permission: the skill sends no proactive event.
    NoProactiveEvents,
    /// Publications without the notifications permission (SMAPI rejects the manifest).
    MissingPermission,
    /// The permission without any publication: no event can be sent.
    NoPublications,
    /// A publication whose `eventName` is not one of the 8 schemas.
    UnknownEventName,
    /// No `SKILL_PROACTIVE_SUBSCRIPTION_CHANGED` subscription.
    NoSubscriptionChanged,
    /// No `SKILL_DISABLED` subscription.
    NoSkillDisabled,
    /// No `events.endpoint.uri`.
    MissingEndpoint,
    /// An endpoint that is neither a Lambda ARN nor an `https://` URL.
    InvalidEndpoint,
    /// An endpoint that looks like a placeholder from an example.
    PlaceholderEndpoint,
    /// A skill locale the published schema is not documented for.
    LocaleSupport,
    /// A skill with no locale in the region events are sent to.
    Region,
    /// A key of the wrong JSON type.
    WrongType,
}

/// One finding about a manifest, with the JSON path it concerns and the fix.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// An error (the skill cannot send, or SMAPI rejects the manifest) or a warning.
    pub severity: Severity,
    /// Which check.
    pub check: Check,
    /// Where, such as `manifest.events.publications[1].eventName`.
    pub path: String,
    /// What is wrong and what to change.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.severity, self.path, self.message)
    }
}

/// Checks a whole `skill.json` document (`{"manifest": {...}}`) for what makes
/// proactive events fail: every finding, errors first in the order checked.
///
/// ```
/// use proactive_core::manifest::lint::{Check, lint};
///
/// let skill = serde_json::json!({"manifest": {
///     "permissions": [],
///     "events": {"publications": [{"eventName": "AMAZON.WeatherAlert.Activated"}]}
/// }});
/// let findings = lint(&skill);
/// assert_eq!(findings[0].check, Check::MissingPermission);
/// assert!(findings[0].message.contains("SMAPI rejects the manifest"));
/// ```
pub fn lint(skill: &Value) -> Vec<Finding> {
    let mut lint = Lint { findings: Vec::new() };
    let Some(manifest) = skill.get("manifest") else {
        lint.error(Check::WrongType, "manifest", "there is no `manifest` object; pass the whole skill.json");
        return lint.findings;
    };
    let permission = manifest
        .get("permissions")
        .and_then(Value::as_array)
        .is_some_and(|p| p.iter().any(|p| p.get("name").and_then(Value::as_str) == Some(NOTIFICATIONS_PERMISSION)));
    let events = manifest.get("events");
    let publications: Vec<&Value> = events
        .and_then(|e| e.get("publications"))
        .and_then(Value::as_array)
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    if publications.is_empty() && !permission {
        lint.error(
            Check::NoProactiveEvents,
            "manifest.events.publications",
            "the skill publishes no proactive event and lacks the notifications permission; add both with \
             `proactive manifest --event NAME --endpoint URI --merge skill.json`",
        );
        return lint.findings;
    }
    if !publications.is_empty() && !permission {
        lint.error(
            Check::MissingPermission,
            "manifest.permissions",
            format!(
                "the skill publishes events but lacks the `{NOTIFICATIONS_PERMISSION}` permission, and SMAPI rejects \
                 the manifest; add {{\"name\": \"{NOTIFICATIONS_PERMISSION}\"}} to manifest.permissions"
            ),
        );
    }
    if publications.is_empty() {
        lint.error(
            Check::NoPublications,
            "manifest.events.publications",
            "the skill has the notifications permission but publishes no event, so no proactive event can be sent; \
             add {\"eventName\": \"AMAZON.…\"} for each event it sends",
        );
    }
    let published = lint.publications(&publications);
    lint.subscriptions(events);
    lint.endpoint(events);
    lint.locales(manifest, &published);
    lint.findings.sort_by_key(|f| f.severity);
    lint.findings
}

/// [`lint`] plus the region events are sent to: a warning when none of the
/// skill's locales is served by that region's host (users are reached only
/// through the host of their own region).
pub fn lint_for_region(skill: &Value, region: Region) -> Vec<Finding> {
    let mut findings = lint(skill);
    let locales = skill_locales(skill.get("manifest").unwrap_or(&Value::Null));
    let regional: Vec<&String> = locales.iter().filter(|l| region_of(l).is_some()).collect();
    if !regional.is_empty() && !regional.iter().any(|l| region_of(l) == Some(region)) {
        let list = regional.iter().map(|l| format!("{l} ({})", region_of(l).unwrap_or(region))).collect::<Vec<_>>();
        findings.push(Finding {
            severity: Severity::Warning,
            check: Check::Region,
            path: "manifest.publishingInformation.locales".to_owned(),
            message: format!(
                "events go to the {region} host, but none of the skill's locales is served there: {}; send each \
                 user's events to the host of their apiEndpoint",
                list.join(", ")
            ),
        });
    }
    findings
}

/// The region whose host usually serves users of `locale`.
pub fn region_of(locale: &str) -> Option<Region> {
    match locale {
        "en-US" | "en-CA" | "es-US" | "es-MX" | "fr-CA" | "pt-BR" => Some(Region::NorthAmerica),
        "en-GB" | "en-IN" | "de-DE" | "fr-FR" | "it-IT" | "es-ES" | "ar-SA" => Some(Region::Europe),
        "ja-JP" | "en-AU" | "hi-IN" => Some(Region::FarEast),
        _ => None,
    }
}

/// The keys of `manifest.publishingInformation.locales`, in order.
pub fn skill_locales(manifest: &Value) -> Vec<String> {
    manifest
        .pointer("/publishingInformation/locales")
        .and_then(Value::as_object)
        .map(|locales| locales.keys().cloned().collect())
        .unwrap_or_default()
}

struct Lint {
    findings: Vec<Finding>,
}

impl Lint {
    fn push(&mut self, severity: Severity, check: Check, path: impl Into<String>, message: impl Into<String>) {
        self.findings.push(Finding { severity, check, path: path.into(), message: message.into() });
    }

    fn error(&mut self, check: Check, path: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, check, path, message);
    }

    fn warning(&mut self, check: Check, path: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, check, path, message);
    }

    /// The known event names published; unknown ones are errors.
    fn publications(&mut self, publications: &[&Value]) -> Vec<EventName> {
        let mut known = Vec::new();
        for (i, publication) in publications.iter().enumerate() {
            let path = format!("manifest.events.publications[{i}].eventName");
            let Some(name) = publication.get("eventName").and_then(Value::as_str) else {
                self.error(Check::UnknownEventName, path, "missing; write one of Amazon's 8 schema names");
                continue;
            };
            match name.parse::<EventName>() {
                Ok(event) => known.push(event),
                Err(_) => {
                    let hint = crate::suggest::event_name_hint(name);
                    self.error(
                        Check::UnknownEventName,
                        path,
                        format!("`{name}` is not an event Amazon knows, and SMAPI rejects the manifest; {hint}"),
                    );
                }
            }
        }
        known
    }

    fn subscriptions(&mut self, events: Option<&Value>) {
        let subscribed = |wanted: &str| {
            events
                .and_then(|e| e.get("subscriptions"))
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|s| s.get("eventName").and_then(Value::as_str) == Some(wanted)))
        };
        if !subscribed(SUBSCRIPTION_CHANGED_EVENT) {
            self.warning(
                Check::NoSubscriptionChanged,
                "manifest.events.subscriptions",
                format!(
                    "no `{SUBSCRIPTION_CHANGED_EVENT}` subscription, so the skill cannot learn who subscribed to its \
                     events; add {{\"eventName\": \"{SUBSCRIPTION_CHANGED_EVENT}\"}} (`proactive manifest --event \
                     NAME --merge skill.json` adds it)"
                ),
            );
        }
        if !subscribed(SKILL_DISABLED_EVENT) {
            self.warning(
                Check::NoSkillDisabled,
                "manifest.events.subscriptions",
                format!(
                    "no `{SKILL_DISABLED_EVENT}` subscription: a user who disables the skill sends no subscription \
                     change, and comes back with a new user id; add the lifecycle subscriptions (`proactive manifest \
                     --event NAME --merge skill.json` or `EventsManifest::subscribe_lifecycle()` add them) and let \
                     `SubscriptionTracker::handle` drop the user's subscriptions when it arrives"
                ),
            );
        }
    }

    fn endpoint(&mut self, events: Option<&Value>) {
        let path = "manifest.events.endpoint.uri";
        let Some(uri) = events.and_then(|e| e.pointer("/endpoint/uri")).and_then(Value::as_str) else {
            self.error(
                Check::MissingEndpoint,
                path,
                "missing; SMAPI requires the events endpoint Alexa sends subscription changes to: a Lambda ARN or an \
                 https:// URL",
            );
            return;
        };
        if let Err(invalid) = EventsEndpoint::new(uri) {
            self.error(Check::InvalidEndpoint, path, invalid.to_string());
        } else if is_placeholder(uri) {
            self.warning(
                Check::PlaceholderEndpoint,
                path,
                format!(
                    "`{uri}` looks like a placeholder from an example, so subscription changes would go nowhere; set \
                     the skill's own Lambda ARN or https:// URL"
                ),
            );
        }
    }

    fn locales(&mut self, manifest: &Value, published: &[EventName]) {
        for locale in skill_locales(manifest) {
            for event in published {
                let supported = event.schema().locales;
                if !supported.is_empty() && !supported.contains(&locale.as_str()) {
                    self.warning(
                        Check::LocaleSupport,
                        format!("manifest.publishingInformation.locales.{locale}"),
                        format!(
                            "Amazon documents `{event}` for {} only; users in {locale} may not receive it (a gap in \
                             Amazon's documentation, not an error: once you have checked delivery there, \
                             `proactive doctor --allow locale-support` leaves this out)",
                            supported.join(", ")
                        ),
                    );
                }
            }
        }
    }
}

/// Whether an endpoint looks copied from an example rather than the skill's own.
fn is_placeholder(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    ["123456789012", "example.com", "example.org", "example.net", "localhost", "todo", "replace", "your-", "<", "xxxx"]
        .iter()
        .any(|marker| lower.contains(marker))
}
