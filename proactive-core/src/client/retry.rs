//! When to try again and how long to wait: exponential backoff with full jitter,
//! `Retry-After` honoured, bounded attempts and total time.

use std::time::{Duration, SystemTime};

/// How failed requests are retried: 429, 5xx, timeouts and connection failures
/// are tried again, with exponential backoff and full jitter, waiting at least as
/// long as a `Retry-After` header asks; 400, 403 and 409 never are. The same
/// policy applies to token requests.
///
/// The wait before retry *n* (1, 2, ...) is a random duration between zero and
/// `min(max_backoff, initial_backoff * 2^(n-1))` ("full jitter"), or the
/// `Retry-After` wait if that is longer. Retrying stops after `max_attempts`
/// attempts, or when the next attempt could not start within `max_elapsed` of
/// the first; each attempt's timeout is shortened so that no attempt runs past
/// `max_elapsed`.
///
/// ```
/// use std::time::Duration;
/// use proactive_core::client::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .with_max_attempts(8)
///     .with_max_elapsed(Duration::from_secs(300));
/// assert_eq!(patient.max_attempts(), 8);
/// assert_eq!(RetryPolicy::no_retries().max_attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, backoff from 250 ms up to 20 s, at most 60 s in all.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt only; otherwise the defaults.
    pub fn no_retries() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Sets the most attempts per request, the first included (0 counts as 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the upper bound of the first retry's random wait.
    #[must_use]
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the largest upper bound of a random wait (not a bound on `Retry-After`).
    #[must_use]
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Sets the longest time from the first attempt to the end of the last.
    #[must_use]
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// The most attempts per request, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The upper bound of the first retry's random wait.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The largest upper bound of a random wait.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The longest time from the first attempt to the end of the last.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// The wait before retry number `retry` (1 for the first retry): full jitter
    /// over the exponential bound, or `retry_after` if that is longer.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let bound = self.initial_backoff.saturating_mul(1u32 << exponent).min(self.max_backoff);
        let jittered = bound.mul_f64(fastrand::f64());
        match retry_after {
            Some(wait) => wait.max(jittered),
            None => jittered,
        }
    }

    /// What to do after a failed attempt number `attempt` (1-based) that may be
    /// retried, `elapsed` after the first attempt started.
    pub(crate) fn next(&self, attempt: u32, elapsed: Duration, retry_after: Option<Duration>) -> Next {
        if attempt >= self.max_attempts {
            return Next::GiveUp;
        }
        let delay = self.delay(attempt, retry_after);
        if elapsed.saturating_add(delay) >= self.max_elapsed {
            return Next::GiveUp;
        }
        Next::RetryAfter(delay)
    }
}

/// The decision after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// No more attempts: report the last failure.
    GiveUp,
}

/// Reads a `Retry-After` value: a number of seconds, or an HTTP date (a date in
/// the past means no wait). Anything else is ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    // A date in the past asks for no wait.
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(350));
        for _ in 0..1000 {
            assert!(policy.delay(1, None) <= Duration::from_millis(100));
            assert!(policy.delay(2, None) <= Duration::from_millis(200));
            assert!(policy.delay(3, None) <= Duration::from_millis(350));
            assert!(policy.delay(40, None) <= Duration::from_millis(350));
            assert!(policy.delay(2, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        }
        let spread: std::collections::HashSet<_> = (0..100).map(|_| policy.delay(3, None)).collect();
        assert!(spread.len() > 50, "full jitter spreads the waits");
    }

    #[test]
    fn attempts_and_total_time_are_bounded() {
        let policy = RetryPolicy::default()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1))
            .with_max_elapsed(Duration::from_secs(10));
        assert!(matches!(policy.next(1, Duration::ZERO, None), Next::RetryAfter(_)));
        assert!(matches!(policy.next(2, Duration::ZERO, None), Next::RetryAfter(_)));
        assert_eq!(policy.next(3, Duration::ZERO, None), Next::GiveUp);
        assert_eq!(policy.next(1, Duration::from_secs(10), None), Next::GiveUp);
        assert_eq!(policy.next(1, Duration::from_secs(5), Some(Duration::from_secs(6))), Next::GiveUp);
        assert_eq!(
            policy.next(1, Duration::from_secs(5), Some(Duration::from_secs(4))),
            Next::RetryAfter(Duration::from_secs(4))
        );
        assert_eq!(RetryPolicy::default().with_max_attempts(0).max_attempts(), 1);
    }
}
