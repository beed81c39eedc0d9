//! What the CLI says about an event that was not delivered: its `kind` (the
//! snake_case name of the refusal, such as `not_subscribed`) and a one-line
//! hint of what to do, for `--format json`, the `--failed` file and the
//! summary's per-kind counts.

use std::collections::BTreeMap;

use proactive_core::client::{SendError, TokenErrorKind};
use proactive_core::{Report, Rule};
use serde_json::{Value, json};

/// The kind of an event refused before sending, for its validation errors.
pub(crate) const INVALID: &str = "invalid";

/// `kind` and `hint` of a send error.
pub(crate) fn classify(error: &SendError) -> (&'static str, &'static str) {
    match error {
        SendError::Invalid(invalid) => (INVALID, invalid_hint(invalid.report())),
        SendError::Api(api) => (api.kind().as_str(), api.kind().hint()),
        SendError::Token(token) => (
            "token",
            match token.kind() {
                TokenErrorKind::InvalidClient => {
                    "Login with Amazon refused the credentials: use the skill's Alexa Skill Messaging client id and secret"
                }
                TokenErrorKind::InvalidScope => {
                    "the skill may not send proactive events: run `proactive doctor --manifest skill.json` and deploy \
                     the manifest it accepts"
                }
                _ => "no token could be had from Login with Amazon: retry later",
            },
        ),
        SendError::Dispatch(_) => (
            "no_answer",
            "no answer came, so it may or may not have been delivered: send the --failed file again (the same \
             referenceId makes Amazon refuse a second delivery)",
        ),
        _ => ("unexpected_answer", "Amazon gave an answer the API does not document: see the status"),
    }
}

/// The hint for an envelope refused before sending, from its report.
pub(crate) fn invalid_hint(report: &Report) -> &'static str {
    if report.errors().any(|p| matches!(p.rule, Rule::NowWindow | Rule::Expired)) {
        "the expiry is outside Amazon's now-window: send it with --restamp, or give it a new timestamp and expiryTime"
    } else {
        "it was not sent: fix the errors listed (`proactive validate` shows them all)"
    }
}

/// How many events were not delivered, per kind.
#[derive(Default)]
pub(crate) struct KindCounts(BTreeMap<&'static str, u64>);

impl KindCounts {
    pub(crate) fn add(&mut self, kind: &'static str) {
        *self.0.entry(kind).or_default() += 1;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `{"not_subscribed": 2, ...}`.
    pub(crate) fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(kind, n)| ((*kind).to_owned(), json!(n))).collect())
    }

    /// `2 not_subscribed, 1 invalid`, most frequent first.
    pub(crate) fn to_text(&self) -> String {
        let mut counts: Vec<(&&str, &u64)> = self.0.iter().collect();
        counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        counts.iter().map(|(kind, n)| format!("{n} {kind}")).collect::<Vec<_>>().join(", ")
    }
}
