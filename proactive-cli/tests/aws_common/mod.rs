//! What the `aws` feature's CLI tests share: `proactive` with dummy AWS
//! credentials, and a stored envelope valid now.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use chrono::{SecondsFormat, Utc};

/// `proactive` with dummy AWS credentials: nothing can reach real AWS.
pub(crate) fn proactive() -> Command {
    let mut command = Command::new(cargo_bin!("proactive"));
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("ALEXA_CLIENT_SECRET")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// A weather alert to `user`, valid now and for 23 hours.
pub(crate) fn envelope(reference_id: &str, user: &str) -> String {
    let now = Utc::now();
    serde_json::json!({
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "referenceId": reference_id,
        "expiryTime": (now + chrono::Duration::hours(23)).to_rfc3339_opts(SecondsFormat::Secs, true),
        "event": {"name": "AMAZON.WeatherAlert.Activated", "payload": {"weatherAlert": {"alertType": "TORNADO"}}},
        "localizedAttributes": [],
        "relevantAudience": {"type": "Unicast", "payload": {"user": format!("amzn1.ask.account.{user}")}}
    })
    .to_string()
}
