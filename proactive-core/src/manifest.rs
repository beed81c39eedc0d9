//! The parts of `skill.json` that let a skill send Proactive Events: the
//! notifications permission, the events it publishes, the subscription-changed
//! event, and the endpoint Alexa sends that event to.
//!
//! Without them, LWA answers the token request with `invalid_scope`. The ASK
//! CLI deploys them (`ask smapi update-skill-manifest`); the developer console
//! cannot edit `events`.
//!
//! ```
//! use proactive_core::manifest::{EventsEndpoint, EventsManifest};
//! use proactive_core::schemas::{EventName, WeatherAlertActivated};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manifest = EventsManifest::new(EventsEndpoint::new("arn:aws:lambda:us-east-1:123456789012:function:skill")?)
//!     .publish_payload::<WeatherAlertActivated>()
//!     .publish(EventName::OrderStatusUpdated);
//!
//! let mut skill: serde_json::Value = serde_json::from_str(r#"{"manifest": {"apis": {"custom": {}}}}"#)?;
//! manifest.merge_into(&mut skill)?;
//! assert_eq!(skill["manifest"]["permissions"][0]["name"], "alexa::devices:all:notifications:write");
//! assert_eq!(skill["manifest"]["events"]["publications"][1]["eventName"], "AMAZON.WeatherAlert.Activated");
//! assert_eq!(skill["manifest"]["events"]["subscriptions"][0]["eventName"], "SKILL_PROACTIVE_SUBSCRIPTION_CHANGED");
//! assert!(skill["manifest"]["apis"]["custom"].is_object());
//! # Ok(())
//! # }
//! ```

pub mod lint;

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value, json};

use crate::ProactiveEvent;
use crate::schemas::{EventName, EventPayload, UnknownEventName};

/// The permission a skill needs to send Proactive Events.
pub const NOTIFICATIONS_PERMISSION: &str = "alexa::devices:all:notifications:write";

/// The manifest's name of the event Alexa sends when a user's subscriptions
/// change (its request type is
/// [`AlexaSkillEvent.ProactiveSubscriptionChanged`](crate::subscription::REQUEST_TYPE)).
pub const SUBSCRIPTION_CHANGED_EVENT: &str = "SKILL_PROACTIVE_SUBSCRIPTION_CHANGED";

/// A skill event a manifest can subscribe to (`manifest.events.subscriptions[].eventName`).
///
/// [`EventsManifest`] always subscribes to `SKILL_PROACTIVE_SUBSCRIPTION_CHANGED`;
/// [`EventsManifest::subscribe_lifecycle`] adds the events that take users'
/// subscriptions away, which [`SubscriptionTracker::handle`](crate::subscription::SubscriptionTracker::handle)
/// applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SkillEventName {
    /// `SKILL_PROACTIVE_SUBSCRIPTION_CHANGED`.
    ProactiveSubscriptionChanged,
    /// `SKILL_ENABLED`.
    SkillEnabled,
    /// `SKILL_DISABLED`: the user id dies; remove the user.
    SkillDisabled,
    /// `SKILL_PERMISSION_ACCEPTED`.
    SkillPermissionAccepted,
    /// `SKILL_PERMISSION_CHANGED`: without the notifications permission, the
    /// user's subscriptions go.
    SkillPermissionChanged,
    /// `SKILL_ACCOUNT_LINKED`.
    SkillAccountLinked,
}

impl SkillEventName {
    /// The events [`EventsManifest::subscribe_lifecycle`] adds.
    pub const LIFECYCLE: [Self; 4] =
        [Self::SkillEnabled, Self::SkillDisabled, Self::SkillPermissionAccepted, Self::SkillPermissionChanged];

    /// The manifest's name, such as `SKILL_DISABLED`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProactiveSubscriptionChanged => SUBSCRIPTION_CHANGED_EVENT,
            Self::SkillEnabled => "SKILL_ENABLED",
            Self::SkillDisabled => "SKILL_DISABLED",
            Self::SkillPermissionAccepted => "SKILL_PERMISSION_ACCEPTED",
            Self::SkillPermissionChanged => "SKILL_PERMISSION_CHANGED",
            Self::SkillAccountLinked => "SKILL_ACCOUNT_LINKED",
        }
    }
}

/// Where Alexa sends the skill's events: `manifest.events.endpoint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventsEndpoint {
    uri: String,
    ssl_certificate_type: Option<SslCertificateType>,
}

/// The kind of certificate of an HTTPS endpoint (`sslCertificateType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SslCertificateType {
    /// A self-signed certificate (development only).
    SelfSigned,
    /// A wildcard certificate from a trusted authority.
    Wildcard,
    /// A certificate from a trusted authority.
    Trusted,
}

impl SslCertificateType {
    /// The manifest's spelling: `SelfSigned`, `Wildcard` or `Trusted`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SelfSigned => "SelfSigned",
            Self::Wildcard => "Wildcard",
            Self::Trusted => "Trusted",
        }
    }
}

impl fmt::Display for SslCertificateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an endpoint cannot be the events endpoint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidEndpoint {
    /// Neither a Lambda ARN nor an HTTPS URL.
    #[error(
        "the events endpoint `{0}` must be a Lambda ARN (`arn:aws:lambda:…`) or an `https://` URL; Amazon's manifest accepts nothing else"
    )]
    Scheme(String),
    /// Contains white space (often a newline read from a file).
    #[error("the events endpoint {0:?} contains white space; remove it")]
    WhiteSpace(String),
    /// `https://` with no host.
    #[error("the events endpoint `{0}` has no host after `https://`")]
    NoHost(String),
    /// A certificate type was given for a Lambda ARN.
    #[error(
        "the events endpoint `{0}` is a Lambda ARN; `sslCertificateType` applies only to `https://` endpoints, so leave it out"
    )]
    CertificateForArn(String),
}

impl EventsEndpoint {
    /// Checks an endpoint: a Lambda ARN (`arn:aws:lambda:…`) or an `https://`
    /// URL, as Amazon's manifest schema requires (`^(arn|https://)`).
    pub fn new(uri: &str) -> Result<Self, InvalidEndpoint> {
        if uri.chars().any(char::is_whitespace) {
            return Err(InvalidEndpoint::WhiteSpace(uri.to_owned()));
        }
        if let Some(rest) = uri.strip_prefix("https://") {
            if rest.is_empty() || rest.starts_with('/') {
                return Err(InvalidEndpoint::NoHost(uri.to_owned()));
            }
        } else if !uri.starts_with("arn") {
            return Err(InvalidEndpoint::Scheme(uri.to_owned()));
        }
        Ok(Self { uri: uri.to_owned(), ssl_certificate_type: None })
    }

    /// Sets the certificate type of an `https://` endpoint; an error for an ARN.
    pub fn with_ssl_certificate_type(mut self, kind: SslCertificateType) -> Result<Self, InvalidEndpoint> {
        if self.is_arn() {
            return Err(InvalidEndpoint::CertificateForArn(self.uri));
        }
        self.ssl_certificate_type = Some(kind);
        Ok(self)
    }

    /// The endpoint as written.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The certificate type, if one was set.
    pub fn ssl_certificate_type(&self) -> Option<SslCertificateType> {
        self.ssl_certificate_type
    }

    fn is_arn(&self) -> bool {
        !self.uri.starts_with("https://")
    }
}

/// Why a manifest fragment cannot be made or merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// No event to publish.
    #[error(
        "the skill publishes no event; add at least one with `publish`, or LWA will refuse tokens with `invalid_scope`"
    )]
    NoPublications,
    /// The `skill.json` text is not JSON.
    #[error("the skill.json is not JSON (line {line}, column {column}): {reason}")]
    NotJson {
        /// The line of the syntax error, from 1.
        line: usize,
        /// The column of the syntax error, from 1.
        column: usize,
        /// What the JSON parser expected.
        reason: String,
    },
    /// The document has no `manifest` object.
    #[error(
        "the skill.json has no `manifest` object; pass the whole file as the ASK CLI writes it (`{{\"manifest\": {{…}}}}`)"
    )]
    NoManifest,
    /// A key that must hold an object or an array holds something else.
    #[error("`{path}` is {found}; expected {expected}; fix it by hand, merging will not overwrite it")]
    WrongType {
        /// The JSON path, such as `manifest.events.publications`.
        path: &'static str,
        /// What the key should hold.
        expected: &'static str,
        /// What it holds.
        found: &'static str,
    },
}

/// The events a skill publishes and its events endpoint: the source of the
/// `permissions` and `events` parts of `skill.json`.
///
/// Events come from generated payload types ([`publish_payload`](Self::publish_payload)),
/// any [`ProactiveEvent`] value such as a derived struct ([`publish_event`](Self::publish_event)),
/// an [`EventName`] ([`publish`](Self::publish)) or Amazon's name as text
/// ([`publish_name`](Self::publish_name)). Publications are written each once,
/// in the order of [`EventName::ALL`].
///
/// ```
/// use proactive_core::manifest::{EventsEndpoint, EventsManifest};
/// use proactive_core::schemas::{EventName, WeatherAlertActivated};
///
/// let endpoint = EventsEndpoint::new("arn:aws:lambda:us-east-1:123456789012:function:skill")?;
/// let manifest = EventsManifest::new(endpoint)
///     .publish_payload::<WeatherAlertActivated>()
///     .publish(EventName::OrderStatusUpdated);
/// let fragment = manifest.fragment()?;
/// assert_eq!(fragment["events"]["publications"][0]["eventName"], "AMAZON.OrderStatus.Updated");
/// assert_eq!(fragment["permissions"][0]["name"], "alexa::devices:all:notifications:write");
///
/// // Merged into an existing skill.json, every other key stays.
/// let merged = manifest.merge_json(r#"{"manifest": {"apis": {"custom": {}}}}"#)?;
/// assert!(merged.contains(r#""apis""#) && merged.contains("SKILL_PROACTIVE_SUBSCRIPTION_CHANGED"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventsManifest {
    endpoint: EventsEndpoint,
    publications: BTreeSet<EventName>,
    subscriptions: BTreeSet<SkillEventName>,
}

impl EventsManifest {
    /// A manifest with `endpoint`, no publication yet, and the
    /// `SKILL_PROACTIVE_SUBSCRIPTION_CHANGED` subscription.
    pub fn new(endpoint: EventsEndpoint) -> Self {
        Self {
            endpoint,
            publications: BTreeSet::new(),
            subscriptions: BTreeSet::from([SkillEventName::ProactiveSubscriptionChanged]),
        }
    }

    /// Subscribes to the skill event `name` as well.
    #[must_use]
    pub fn subscribe(mut self, name: SkillEventName) -> Self {
        self.subscriptions.insert(name);
        self
    }

    /// Subscribes to [`SkillEventName::LIFECYCLE`]: a user who disables the
    /// skill or withdraws the notifications permission gets no subscription
    /// change, so these are how the skill learns to stop sending to them.
    #[must_use]
    pub fn subscribe_lifecycle(self) -> Self {
        SkillEventName::LIFECYCLE.into_iter().fold(self, Self::subscribe)
    }

    /// The skill events subscribed to.
    pub fn subscriptions(&self) -> impl ExactSizeIterator<Item = SkillEventName> + '_ {
        self.subscriptions.iter().copied()
    }

    /// Publishes `name`.
    #[must_use]
    pub fn publish(mut self, name: EventName) -> Self {
        self.publications.insert(name);
        self
    }

    /// Publishes the schema of a generated payload type, such as
    /// `publish_payload::<WeatherAlertActivated>()`.
    #[must_use]
    pub fn publish_payload<P: EventPayload>(self) -> Self {
        self.publish(P::NAME)
    }

    /// Publishes the schema of `event`: a generated payload, an
    /// [`AnyEvent`](crate::schemas::AnyEvent) or a `#[derive(ProactiveEvent)]` struct.
    #[must_use]
    pub fn publish_event(self, event: &impl ProactiveEvent) -> Self {
        self.publish(event.event_name())
    }

    /// Publishes the schema Amazon names `name`, such as
    /// `AMAZON.WeatherAlert.Activated`; an error names the valid ones.
    pub fn publish_name(self, name: &str) -> Result<Self, UnknownEventName> {
        Ok(self.publish(name.parse()?))
    }

    /// The events published, in the order of [`EventName::ALL`].
    pub fn publications(&self) -> impl ExactSizeIterator<Item = EventName> + '_ {
        self.publications.iter().copied()
    }

    /// The events endpoint.
    pub fn endpoint(&self) -> &EventsEndpoint {
        &self.endpoint
    }

    /// The `permissions` and `events` keys of `skill.json`'s `manifest`, as
    /// one object:
    ///
    /// ```json
    /// {
    ///   "permissions": [{"name": "alexa::devices:all:notifications:write"}],
    ///   "events": {
    ///     "publications": [{"eventName": "AMAZON.WeatherAlert.Activated"}],
    ///     "endpoint": {"uri": "arn:aws:lambda:…"},
    ///     "subscriptions": [{"eventName": "SKILL_PROACTIVE_SUBSCRIPTION_CHANGED"}]
    ///   }
    /// }
    /// ```
    pub fn fragment(&self) -> Result<Value, ManifestError> {
        let mut skill = json!({ "manifest": {} });
        self.merge_into(&mut skill)?;
        Ok(skill["manifest"].take())
    }

    /// Adds the fragment to a whole `skill.json` document, keeping every other
    /// key and entry:
    ///
    /// - `manifest.permissions`: the notifications permission is added if absent;
    /// - `manifest.events.publications`: each published event is added if
    ///   absent (entries already there stay, so removing an event is a manual edit);
    /// - `manifest.events.subscriptions`: `SKILL_PROACTIVE_SUBSCRIPTION_CHANGED`
    ///   and the [`subscribe`](Self::subscribe)d events are added if absent
    ///   (other entries stay);
    /// - `manifest.events.endpoint.uri` is set to the endpoint; its
    ///   `sslCertificateType` is set when given, removed for an ARN, and kept
    ///   otherwise; `manifest.events.regions` is left as it is.
    ///
    /// Merging twice gives the same document as merging once. On error the
    /// document is unchanged.
    pub fn merge_into(&self, skill: &mut Value) -> Result<(), ManifestError> {
        if self.publications.is_empty() {
            return Err(ManifestError::NoPublications);
        }
        let Some(Value::Object(manifest)) = skill.get("manifest") else {
            return match skill.get("manifest") {
                Some(other) => Err(wrong_type("manifest", "an object", other)),
                None => Err(ManifestError::NoManifest),
            };
        };
        // Work on a copy, so that a type error half-way leaves `skill` untouched.
        let mut manifest = manifest.clone();

        let permissions = array_at(&mut manifest, "permissions", "manifest.permissions")?;
        add_named(permissions, "name", NOTIFICATIONS_PERMISSION);

        let events = object_at(&mut manifest, "events", "manifest.events")?;
        let publications = array_at(events, "publications", "manifest.events.publications")?;
        for name in &self.publications {
            add_named(publications, "eventName", name.as_str());
        }
        let endpoint = object_at(events, "endpoint", "manifest.events.endpoint")?;
        endpoint.insert("uri".to_owned(), Value::String(self.endpoint.uri.clone()));
        match self.endpoint.ssl_certificate_type {
            Some(kind) => {
                endpoint.insert("sslCertificateType".to_owned(), Value::String(kind.as_str().to_owned()));
            }
            None if self.endpoint.is_arn() => {
                endpoint.shift_remove("sslCertificateType");
            }
            None => {}
        }
        let subscriptions = array_at(events, "subscriptions", "manifest.events.subscriptions")?;
        for name in &self.subscriptions {
            add_named(subscriptions, "eventName", name.as_str());
        }

        skill["manifest"] = Value::Object(manifest);
        Ok(())
    }

    /// [`merge_into`](Self::merge_into) for `skill.json` as text: returns the
    /// merged document, pretty-printed with two spaces as the ASK CLI writes it
    /// (key order and numbers are kept as written; the formatting is serde_json's).
    pub fn merge_json(&self, skill_json: &str) -> Result<String, ManifestError> {
        let mut skill: Value = serde_json::from_str(skill_json).map_err(|error| ManifestError::NotJson {
            line: error.line(),
            column: error.column(),
            reason: {
                let text = error.to_string();
                let suffix = format!(" at line {} column {}", error.line(), error.column());
                text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
            },
        })?;
        self.merge_into(&mut skill)?;
        // `{:#}` is serde_json's pretty printer, with two-space indentation; the
        // merge adds no number, so every number is written back as it was.
        let mut text = crate::numbers::restore(skill_json, format!("{skill:#}"));
        if skill_json.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }
}

impl Extend<EventName> for EventsManifest {
    fn extend<I: IntoIterator<Item = EventName>>(&mut self, names: I) {
        self.publications.extend(names);
    }
}

/// The array at `key`, inserted empty if absent.
fn array_at<'a>(
    object: &'a mut Map<String, Value>,
    key: &str,
    path: &'static str,
) -> Result<&'a mut Vec<Value>, ManifestError> {
    match object.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(items) => Ok(items),
        other => Err(wrong_type(path, "an array", other)),
    }
}

/// The object at `key`, inserted empty if absent.
fn object_at<'a>(
    object: &'a mut Map<String, Value>,
    key: &str,
    path: &'static str,
) -> Result<&'a mut Map<String, Value>, ManifestError> {
    match object.entry(key).or_insert_with(|| Value::Object(Map::new())) {
        Value::Object(fields) => Ok(fields),
        other => Err(wrong_type(path, "an object", other)),
    }
}

/// Appends `{field: value}` unless an entry already has `field` equal to `value`.
fn add_named(items: &mut Vec<Value>, field: &str, value: &str) {
    if !items.iter().any(|item| item.get(field).and_then(Value::as_str) == Some(value)) {
        items.push(json!({ field: value }));
    }
}

fn wrong_type(path: &'static str, expected: &'static str, found: &Value) -> ManifestError {
    ManifestError::WrongType { path, expected, found: crate::json_kind::kind(found) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_amazons_pattern() {
        assert!(EventsEndpoint::new("arn:aws:lambda:us-east-1:123456789012:function:skill").is_ok());
        assert!(EventsEndpoint::new("https://skill.example.com/alexa").is_ok());
        for (bad, needle) in [
            ("http://skill.example.com", "must be a Lambda ARN (`arn:aws:lambda:…`) or an `https://` URL"),
            ("", "must be a Lambda ARN"),
            ("skill.example.com", "must be a Lambda ARN"),
            ("https://", "has no host"),
            ("https://x.example.com\n", "contains white space"),
        ] {
            let error = EventsEndpoint::new(bad).unwrap_err().to_string();
            assert!(error.contains(needle), "{bad:?}: {error}");
        }
    }

    #[test]
    fn certificate_types_only_for_https() {
        let https = EventsEndpoint::new("https://skill.example.com").unwrap();
        let https = https.with_ssl_certificate_type(SslCertificateType::Wildcard).unwrap();
        assert_eq!(https.ssl_certificate_type(), Some(SslCertificateType::Wildcard));
        let arn = EventsEndpoint::new("arn:aws:lambda:us-east-1:1:function:f").unwrap();
        let error = arn.with_ssl_certificate_type(SslCertificateType::Trusted).unwrap_err().to_string();
        assert!(error.contains("applies only to `https://` endpoints"), "{error}");
    }

    #[test]
    fn an_empty_manifest_is_refused() {
        let manifest = EventsManifest::new(EventsEndpoint::new("https://skill.example.com").unwrap());
        assert!(matches!(manifest.fragment(), Err(ManifestError::NoPublications)));
    }

    #[test]
    fn wrong_types_are_reported_and_leave_the_document_alone() {
        let manifest =
            EventsManifest::new(EventsEndpoint::new("https://skill.example.com").unwrap()).publish(EventName::ALL[0]);
        let mut skill = json!({"manifest": {"permissions": [], "events": {"publications": "none"}}});
        let before = skill.clone();
        let error = manifest.merge_into(&mut skill).unwrap_err().to_string();
        assert_eq!(
            error,
            "`manifest.events.publications` is a string; expected an array; fix it by hand, merging will not overwrite it"
        );
        assert_eq!(skill, before);
        assert!(matches!(manifest.merge_into(&mut json!({"apis": {}})), Err(ManifestError::NoManifest)));
        assert!(matches!(manifest.merge_json("{"), Err(ManifestError::NotJson { line: 1, .. })));
    }
}
