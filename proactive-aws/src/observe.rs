//! The metrics both consumers and the events endpoint record, through the
//! `metrics` facade: nothing is kept until a recorder is installed (Prometheus
//! in `proactive queue work --metrics-addr`, CloudWatch Embedded Metric Format
//! in the Lambda functions).
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `proactive_messages_received_total` | counter | | messages received from the queue |
//! | `proactive_messages_total` | counter | `outcome`: `accepted`, `already_delivered`, `dead_lettered`, `released` | how each received message was settled (a worker's summary, line for line) |
//! | `proactive_deliveries_total` | counter | `disposition`: `delivered`, `dead_letter`, `retry`; `kind`: `accepted`, `duplicate`, the dead letter's kind, or the retried error's kind | what [`Delivery`](crate::Delivery) decided, by refusal kind |
//! | `proactive_attempts_total` | counter | | HTTP attempts to Amazon, retries included |
//! | `proactive_retries_total` | counter | | retries of delivered events (a worker's summary) |
//! | `proactive_token_requests_total` | counter | | token requests to Login with Amazon |
//! | `proactive_send_seconds` | histogram | | time to send one event, retries included |
//! | `proactive_queue_age_seconds` | histogram | | time between a message's enqueue and its receive |
//! | `proactive_skill_events_total` | counter | `outcome`: `subscriptions` (set, or stale), `user_removed`, `no_change`, `refused`, `failed`; `kind`: the request type | skill events at the events endpoint |
//! | `proactive_skill_event_seconds` | histogram | | time to check and apply one skill event |

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{counter, histogram};

/// Messages received from the queue.
pub const MESSAGES_RECEIVED: &str = "proactive_messages_received_total";
/// How each received message was settled (`outcome`).
pub const MESSAGES: &str = "proactive_messages_total";
/// What the delivery decided (`disposition`, `kind`).
pub const DELIVERIES: &str = "proactive_deliveries_total";
/// HTTP attempts to Amazon.
pub const ATTEMPTS: &str = "proactive_attempts_total";
/// Retries of delivered events.
pub const RETRIES: &str = "proactive_retries_total";
/// Token requests to Login with Amazon.
pub const TOKEN_REQUESTS: &str = "proactive_token_requests_total";
/// Seconds to send one event.
pub const SEND_SECONDS: &str = "proactive_send_seconds";
/// Seconds between enqueue and receive.
pub const QUEUE_AGE_SECONDS: &str = "proactive_queue_age_seconds";
/// Skill events at the events endpoint (`outcome`, `kind`).
pub const SKILL_EVENTS: &str = "proactive_skill_events_total";
/// Seconds to check and apply one skill event.
pub const SKILL_EVENT_SECONDS: &str = "proactive_skill_event_seconds";

/// One message received; `sent_at_ms` is its `SentTimestamp` attribute.
pub(crate) fn received(sent_at_ms: Option<&str>) {
    counter!(MESSAGES_RECEIVED).increment(1);
    let now_ms = chrono::Utc::now().timestamp_millis();
    if let Some(sent) = sent_at_ms.and_then(|s| s.parse::<i64>().ok()) {
        let age_ms = u64::try_from(now_ms.saturating_sub(sent)).unwrap_or(0);
        histogram!(QUEUE_AGE_SECONDS).record(Duration::from_millis(age_ms).as_secs_f64());
    }
}

/// How one message was settled: `accepted`, `already_delivered`,
/// `dead_lettered` or `released`; `retries` of a delivered one.
pub(crate) fn settled(outcome: &'static str, retries: u32) {
    counter!(MESSAGES, "outcome" => outcome).increment(1);
    if retries > 0 {
        counter!(RETRIES).increment(u64::from(retries));
    }
}

/// What one delivery decided, how many attempts it made and how long it took.
pub(crate) fn delivery(disposition: &'static str, kind: &str, attempts: u32, took: Duration, token_requests: u64) {
    counter!(DELIVERIES, "disposition" => disposition, "kind" => kind.to_owned()).increment(1);
    counter!(ATTEMPTS).increment(u64::from(attempts));
    let new = newly(&TOKEN_REQUESTS_SEEN, token_requests);
    if new > 0 {
        counter!(TOKEN_REQUESTS).increment(new);
    }
    histogram!(SEND_SECONDS).record(took.as_secs_f64());
}

/// The client's token requests already counted. The counter is increased by
/// what is new since, never set: a sink that sums what each flush sends
/// (CloudWatch EMF, once per Lambda invocation) then counts each request once.
static TOKEN_REQUESTS_SEEN: AtomicU64 = AtomicU64::new(0);

/// How much of `total` is new since `seen`, which becomes `total`.
fn newly(seen: &AtomicU64, total: u64) -> u64 {
    total.saturating_sub(seen.fetch_max(total, Ordering::Relaxed))
}

/// One skill event at the events endpoint.
pub fn skill_event(outcome: &'static str, request_type: &str, took: Duration) {
    counter!(SKILL_EVENTS, "outcome" => outcome, "kind" => clip(request_type, 64).to_owned()).increment(1);
    histogram!(SKILL_EVENT_SECONDS).record(took.as_secs_f64());
}

/// At most `max` bytes of `text`, cut on a character boundary: ids and types
/// read from a request go into logs and labels, and a request may carry
/// megabytes in them.
pub fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::{AtomicU64, clip, newly};

    #[test]
    fn token_requests_are_counted_once_each_whatever_the_order_deliveries_report_them() {
        let seen = AtomicU64::new(0);
        // Deliveries report the client's running total; one that finishes late reports an older one.
        let increments: Vec<u64> = [1, 1, 3, 2, 3, 4].iter().map(|&total| newly(&seen, total)).collect();
        assert_eq!(increments, [1, 0, 2, 0, 0, 1]);
        assert_eq!(increments.iter().sum::<u64>(), 4, "the counter ends at the client's total");
    }

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text_on_a_character() {
        assert_eq!(clip("abc", 8), "abc");
        assert_eq!(clip("abcdef", 3), "abc");
        assert_eq!(clip("ééé", 3), "é");
    }
}
