//! Amazon's now-window: at the moment of sending, `expiryTime` must lie between
//! now + 5 minutes and now + 24 hours; and re-stamping, which moves a stored
//! envelope's timestamp and expiry to now, keeping its own window.

use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};

use crate::{DEFAULT_EXPIRY, Envelope, MAX_EXPIRY, MIN_EXPIRY};

/// The longest window [`Envelope::restamp_at`] gives: 23 h, as
/// [`DEFAULT_EXPIRY`], so clock skew cannot push the expiry past Amazon's 24 h.
pub const MAX_RESTAMP_WINDOW: Duration = DEFAULT_EXPIRY;

/// The shortest window [`Envelope::restamp_at`] gives: 6 min, a minute above
/// Amazon's 5 min ([`MIN_EXPIRY`]), for the request's
/// transit, clock skew between sender and Amazon, and a retry's delay.
pub const MIN_RESTAMP_WINDOW: Duration = Duration::minutes(6);

/// An envelope whose `expiryTime` is outside `now + 5 min ..= now + 24 h` at the
/// moment it would be sent: Amazon answers 400 ("at least 5 minutes in the
/// future and at most 24 hours after the current time").
///
/// From [`Envelope::check_now_window`]; the client refuses such an envelope
/// (a [`Rule::NowWindow`](crate::Rule::NowWindow) error in its report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutsideNowWindow {
    now: DateTime<Utc>,
    expiry: DateTime<Utc>,
}

impl OutsideNowWindow {
    /// The moment the window was measured from.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The envelope's `expiryTime`.
    pub fn expiry_time(&self) -> DateTime<Utc> {
        self.expiry
    }

    /// The earliest `expiryTime` Amazon accepts now: now + 5 min.
    pub fn earliest(&self) -> DateTime<Utc> {
        self.now + MIN_EXPIRY
    }

    /// The latest `expiryTime` Amazon accepts now: now + 24 h.
    pub fn latest(&self) -> DateTime<Utc> {
        self.now + MAX_EXPIRY
    }

    /// Whether the expiry is too late (more than 24 h ahead), rather than too soon.
    pub fn is_too_late(&self) -> bool {
        self.expiry > self.latest()
    }

    /// `4 min 10 s after now`, `25 h after now, 1 h over the limit`, `2 h before
    /// now`: to the second, since "now" is only known that well.
    fn distance(&self) -> String {
        let describe = |d: Duration| crate::validate::describe(Duration::seconds((d.num_milliseconds() + 500) / 1000));
        let ahead = self.expiry - self.now;
        if ahead < Duration::zero() {
            format!("{} before now (already expired)", describe(-ahead))
        } else if ahead > Duration::days(2) {
            format!("{} days after now", ahead.num_days())
        } else if self.is_too_late() {
            format!("{} after now, {} over the limit", describe(ahead), describe(ahead - MAX_EXPIRY))
        } else {
            format!("only {} after now", describe(ahead))
        }
    }
}

impl fmt::Display for OutsideNowWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expiryTime {} is {}; Amazon accepts an expiryTime between now + 5 min ({}) and now + 24 h ({}), \
             measured when it receives the event: send it sooner, set a new timestamp and expiryTime, or \
             re-stamp it (`Envelope::restamp`, `proactive send --restamp`)",
            self.expiry.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            self.distance(),
            self.earliest().to_rfc3339_opts(SecondsFormat::Millis, true),
            self.latest().to_rfc3339_opts(SecondsFormat::Millis, true)
        )
    }
}

impl std::error::Error for OutsideNowWindow {}

impl Envelope {
    /// Whether Amazon would accept this envelope's `expiryTime` if it arrived
    /// at `now`: `now + 5 min <= expiryTime <= now + 24 h`, both inclusive.
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use proactive_core::schemas::WeatherAlertActivated;
    /// use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
    /// use proactive_core::{Audience, Envelope};
    ///
    /// let alert = WeatherAlertActivated::builder()
    ///     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
    ///     .build();
    /// let now = Utc::now();
    /// let envelope = Envelope::builder(alert, Audience::Multicast).timestamp(now - Duration::hours(23)).build();
    /// // Built 23 h ago with a 23 h expiry: it expires now, so Amazon would refuse it.
    /// let error = envelope.check_now_window(now).unwrap_err();
    /// assert!(error.to_string().contains("between now + 5 min"));
    /// ```
    pub fn check_now_window(&self, now: DateTime<Utc>) -> Result<(), OutsideNowWindow> {
        now_window(self.expiry_time, now)
    }

    /// Re-stamps a stored envelope for sending now: see [`restamp_at`](Self::restamp_at).
    pub fn restamp(&mut self) {
        self.restamp_at(Utc::now());
    }

    /// Re-stamps the envelope for sending at `now`: `timestamp = now` (to the
    /// millisecond) and `expiryTime = now + the envelope's own window`
    /// (`expiryTime - timestamp`), clamped to 6 min ..= 23 h
    /// ([`MIN_RESTAMP_WINDOW`], [`MAX_RESTAMP_WINDOW`]). The referenceId is kept.
    ///
    /// For envelopes written earlier (a file, a queue), which Amazon refuses
    /// once their expiry is less than 5 minutes away. It is an explicit choice,
    /// never done silently: a re-stamped event says it happened now. The
    /// minute above Amazon's 5-minute minimum covers the request's travel and
    /// clock skew; to re-stamp again at each retry, send a
    /// [`PreparedEnvelope::restamped`](crate::client::PreparedEnvelope::restamped).
    ///
    /// ```
    /// # use chrono::{Duration, Utc};
    /// # use proactive_core::schemas::WeatherAlertActivated;
    /// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
    /// # use proactive_core::{Audience, Envelope};
    /// # let alert = WeatherAlertActivated::builder()
    /// #     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
    /// #     .build();
    /// let written: chrono::DateTime<Utc> = "2035-06-01T09:00:00Z".parse()?;
    /// let mut envelope = Envelope::builder(alert, Audience::Multicast)
    ///     .timestamp(written)
    ///     .expires_after(Duration::hours(2))
    ///     .build();
    /// let now = Utc::now();
    /// envelope.restamp_at(now);
    /// assert_eq!(envelope.expiry_time - envelope.timestamp, Duration::hours(2));
    /// assert!(envelope.check_now_window(now).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restamp_at(&mut self, now: DateTime<Utc>) {
        let window = (self.expiry_time - self.timestamp).clamp(MIN_RESTAMP_WINDOW, MAX_RESTAMP_WINDOW);
        self.timestamp = now.trunc_subsecs(3);
        self.expiry_time = self.timestamp + window;
    }
}

impl crate::Parsed {
    /// Adds a [`Rule::NowWindow`](crate::Rule::NowWindow) **warning** when the
    /// envelope read would be refused if sent at `now`: what offline validation
    /// (`proactive validate`) reports, since a stored envelope may be sent (or
    /// re-stamped) later.
    pub fn warn_outside_now_window(&mut self, now: DateTime<Utc>) {
        if let Some(envelope) = &self.envelope
            && let Err(outside) = envelope.check_now_window(now)
        {
            self.report.warning(crate::Rule::NowWindow, "expiryTime", outside.to_string());
        }
    }
}

/// Whether `expiry` lies in `now + 5 min ..= now + 24 h`.
pub(crate) fn now_window(expiry: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), OutsideNowWindow> {
    let ahead = expiry - now;
    if ahead < MIN_EXPIRY || ahead > MAX_EXPIRY {
        return Err(OutsideNowWindow { now, expiry });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemas::WeatherAlertActivated;
    use crate::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
    use crate::{Audience, Envelope};

    fn envelope(timestamp: DateTime<Utc>, window: Duration) -> Envelope {
        let alert = WeatherAlertActivated::builder()
            .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
            .build();
        Envelope::builder(alert, Audience::Multicast).timestamp(timestamp).expires_after(window).build()
    }

    #[test]
    fn the_window_is_inclusive_at_both_ends() {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        assert!(envelope(now, MIN_EXPIRY).check_now_window(now).is_ok());
        assert!(envelope(now, MAX_EXPIRY).check_now_window(now).is_ok());
        let late = envelope(now, MAX_EXPIRY + Duration::hours(1)).check_now_window(now).unwrap_err();
        assert!(late.is_too_late());
        assert_eq!(
            late.to_string(),
            "expiryTime 2026-01-02T01:00:00Z is 25 h after now, 1 h over the limit; Amazon accepts an expiryTime \
             between now + 5 min (2026-01-01T00:05:00.000Z) and now + 24 h (2026-01-02T00:00:00.000Z), measured \
             when it receives the event: send it sooner, set a new timestamp and expiryTime, or re-stamp it \
             (`Envelope::restamp`, `proactive send --restamp`)"
        );
        let soon = envelope(now, Duration::minutes(4)).check_now_window(now).unwrap_err();
        assert!(!soon.is_too_late());
        assert!(soon.to_string().contains("is only 4 min after now"), "{soon}");
        assert_eq!((soon.earliest(), soon.latest()), (now + MIN_EXPIRY, now + MAX_EXPIRY));
        let past = envelope(now - Duration::hours(3), Duration::hours(1)).check_now_window(now).unwrap_err();
        assert!(past.to_string().contains("is 2 h before now (already expired)"), "{past}");
    }

    #[test]
    fn restamping_keeps_the_window_within_6_min_and_23_h() {
        let then: DateTime<Utc> = "2035-06-01T09:00:00Z".parse().unwrap();
        let now: DateTime<Utc> = "2026-12-02T02:00:00.123456Z".parse().unwrap();
        for (window, kept) in [
            (Duration::hours(2), Duration::hours(2)),
            (Duration::hours(24), Duration::hours(23)),
            (Duration::hours(30), Duration::hours(23)),
            (Duration::minutes(30), Duration::minutes(30)),
            (Duration::minutes(6), Duration::minutes(6)),
            (Duration::minutes(5), Duration::minutes(6)),
            (Duration::minutes(1), Duration::minutes(6)),
            (-Duration::hours(1), Duration::minutes(6)),
        ] {
            let mut e = envelope(then, window);
            e.restamp_at(now);
            assert_eq!(e.timestamp, "2026-12-02T02:00:00.123Z".parse::<DateTime<Utc>>().unwrap());
            assert_eq!(e.expiry_time - e.timestamp, kept, "{window}");
            assert!(e.check_now_window(e.timestamp).is_ok());
        }
    }
}
