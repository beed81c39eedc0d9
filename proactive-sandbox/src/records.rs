//! What a sandbox saw and answered, for assertions in tests.

use std::collections::BTreeMap;

use proactive_core::Envelope;

/// One event the sandbox accepted (202).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedEvent {
    /// The envelope, as the sandbox parsed it.
    pub envelope: Envelope,
    /// Which endpoint received it.
    pub stage: Stage,
    /// The `x-amzn-requestid` it answered with.
    pub request_id: String,
}

/// Which events endpoint a request reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// `/v1/proactiveEvents/stages/development`.
    Development,
    /// `/v1/proactiveEvents`.
    Live,
}

/// A snapshot of everything a sandbox recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    /// Every accepted event, in the order accepted.
    pub accepted: Vec<AcceptedEvent>,
    /// How many event requests got each status (a closed connection counts as 0).
    pub event_statuses: BTreeMap<u16, u64>,
    /// How many token requests got each status.
    pub token_statuses: BTreeMap<u16, u64>,
}

impl Records {
    /// Token requests made, whatever their answer.
    pub fn token_requests(&self) -> u64 {
        self.token_statuses.values().sum()
    }

    /// Tokens issued (200 answers of the token endpoint).
    pub fn tokens_issued(&self) -> u64 {
        self.token_statuses.get(&200).copied().unwrap_or(0)
    }

    /// Event requests made, whatever their answer.
    pub fn event_requests(&self) -> u64 {
        self.event_statuses.values().sum()
    }

    /// Event requests answered with `status` (0: closed without an answer).
    pub fn events_with_status(&self, status: u16) -> u64 {
        self.event_statuses.get(&status).copied().unwrap_or(0)
    }
}

/// One request the sandbox answered, as passed to
/// [`SandboxConfig::on_request`](crate::SandboxConfig::on_request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLog {
    /// `POST /v1/proactiveEvents/stages/development`, for example.
    pub request: String,
    /// The status answered; 0 when the connection was closed without an answer.
    pub status: u16,
    /// What happened, such as `accepted AMAZON.WeatherAlert.Activated (ref order-1)`.
    pub detail: String,
}
