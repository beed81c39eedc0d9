//! HTTP helpers shared by the events request and the token request: the request
//! id, `Retry-After`, reading a bounded body, each attempt's timeout, and which
//! statuses are retried.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::retry::{RetryPolicy, parse_retry_after};

/// The largest answer body read; Amazon's and LWA's bodies are a few hundred bytes.
pub(crate) const MAX_ANSWER: usize = 64 * 1024;
/// The shortest timeout an attempt gets, even at the end of the time budget.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1);

/// Whether a request that got `status` is tried again: 429 (too many requests)
/// or 5xx (the server failed). The one place that decides it, for the events
/// request, the token request and [`ApiError::is_retryable`](super::ApiError::is_retryable).
pub(crate) fn retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// The timeout of one attempt: `per_request`, shortened so that no attempt runs
/// past the retry policy's time budget, of which `elapsed` is spent.
pub(crate) fn attempt_timeout(per_request: Duration, policy: &RetryPolicy, elapsed: Duration) -> Duration {
    let remaining = policy.max_elapsed().saturating_sub(elapsed);
    per_request.min(remaining).max(MIN_ATTEMPT_TIMEOUT)
}

/// The `x-amzn-requestid` header.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-amzn-requestid")?.to_str().ok()?;
    Some(super::error::truncate(value.to_owned(), 256))
}

/// The `Retry-After` header, as a wait from now.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, SystemTime::now())
}

/// Reads `body` into `read` until it ends or fails, keeping at most `limit`
/// bytes: a body that fails midway leaves what was read. Reading an answer to
/// its end lets the connection be reused. The one body reader of the client:
/// reqwest's answers (`http::Response::from(response).into_body()`) and
/// hyper's alike; a caller that stops waiting still has what arrived in `read`.
/// Returns whether the body was read to its end.
pub(crate) async fn read_body<B>(mut body: B, read: &mut Vec<u8>, limit: usize) -> bool
where
    B: http_body::Body<Data = bytes::Bytes> + Unpin,
{
    use http_body_util::BodyExt as _;

    loop {
        match body.frame().await {
            None => return true,
            Some(Err(_)) => return false,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = limit - read.len();
                    read.extend_from_slice(&data[..data.len().min(room)]);
                    if read.len() >= limit {
                        return body.is_end_stream();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses() {
        for status in [429, 500, 502, 503, 599] {
            assert!(retryable_status(status), "{status}");
        }
        for status in [200, 202, 400, 401, 403, 409, 413, 428, 430, 600] {
            assert!(!retryable_status(status), "{status}");
        }
    }

    #[test]
    fn attempt_timeouts_stay_inside_the_budget() {
        let policy = RetryPolicy::default().with_max_elapsed(Duration::from_secs(60));
        let timeout = |elapsed| attempt_timeout(Duration::from_secs(10), &policy, Duration::from_secs(elapsed));
        assert_eq!(timeout(0), Duration::from_secs(10));
        assert_eq!(timeout(55), Duration::from_secs(5));
        assert_eq!(timeout(60), MIN_ATTEMPT_TIMEOUT);
        assert_eq!(timeout(120), MIN_ATTEMPT_TIMEOUT);
    }
}
