//! Sending many envelopes: a stream of outcomes, one per input, with bounded
//! concurrency and memory.

use std::borrow::Borrow;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use tracing::{Instrument, debug_span};

use super::Client;
use super::error::SendError;
use super::prepared::PreparedEnvelope;
use super::send::Accepted;
use crate::{Envelope, ReferenceId, Region};

/// What happened to one envelope of a bulk send.
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkOutcome {
    /// The envelope's position in the input, from 0.
    pub index: usize,
    /// The envelope's reference id.
    pub reference_id: ReferenceId,
    /// What [`Client::send`] returned for it.
    pub result: Result<Accepted, SendError>,
}

/// The outcomes of a bulk send, in the order they complete: from
/// [`Client::send_all`] and [`Client::send_stream`].
///
/// It yields exactly one [`BulkOutcome`] per input envelope and ends after the
/// last. At most `concurrency` envelopes are in flight and only those are held,
/// so memory does not grow with the input, and the input is read only as fast as
/// sends finish. Dropping it cancels the sends in flight and reads no more input.
///
/// It lives as long as its input: `BulkSend<'static>` for owned input (which
/// can be moved into a spawned task), or borrowing, as for `send_all(&vec, 16)`.
#[must_use = "a bulk send does nothing unless its outcomes are polled"]
pub struct BulkSend<'a> {
    outcomes: BoxStream<'a, BulkOutcome>,
}

impl fmt::Debug for BulkSend<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkSend").finish_non_exhaustive()
    }
}

impl BulkSend<'_> {
    /// The next outcome, or `None` after the last (what `StreamExt::next` does,
    /// without importing it).
    pub async fn next(&mut self) -> Option<BulkOutcome> {
        self.outcomes.next().await
    }
}

impl Stream for BulkSend<'_> {
    type Item = BulkOutcome;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BulkOutcome>> {
        self.outcomes.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.outcomes.size_hint()
    }
}

impl Client {
    /// Sends every envelope of `envelopes` with [`send`](Self::send), at most
    /// `concurrency` at a time (0 counts as 1), and yields one outcome per
    /// envelope, tagged with its index, as each completes.
    ///
    /// The iterator is read lazily, one envelope whenever a slot is free, so it
    /// may be endless or far larger than memory; it should not block (reading a
    /// file line by line is fine; for a source that waits, use
    /// [`send_stream`](Self::send_stream)). Items may be `Envelope`s or anything
    /// that borrows as one (`&Envelope`, `Arc<Envelope>`).
    ///
    /// ```no_run
    /// use proactive_core::client::{BulkSummary, Client};
    /// # async fn run(client: Client, envelopes: Vec<proactive_core::Envelope>) {
    /// let mut outcomes = client.send_all(envelopes, 16);
    /// let mut summary = BulkSummary::new();
    /// while let Some(outcome) = outcomes.next().await {
    ///     if let Err(error) = &outcome.result {
    ///         eprintln!("event {} ({}): {error}", outcome.index, outcome.reference_id);
    ///     }
    ///     summary.record(&outcome);
    /// }
    /// println!("{summary}");
    /// # }
    /// ```
    pub fn send_all<'a, I>(&self, envelopes: I, concurrency: usize) -> BulkSend<'a>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'a,
        I::Item: Borrow<Envelope> + Send + 'a,
    {
        self.send_stream(stream::iter(envelopes), concurrency)
    }

    /// [`send_all`](Self::send_all) for a stream of envelopes (a queue, a channel).
    pub fn send_stream<'a, S>(&self, envelopes: S, concurrency: usize) -> BulkSend<'a>
    where
        S: Stream + Send + 'a,
        S::Item: Borrow<Envelope> + Send + 'a,
    {
        self.bulk(envelopes, concurrency, |client, envelope| async move {
            let envelope = envelope.borrow();
            (envelope.reference_id.clone(), client.send(envelope).await)
        })
    }

    /// [`send_stream`](Self::send_stream) for envelopes validated and
    /// serialized ahead ([`PreparedEnvelope`]): each is sent with
    /// [`send_prepared`](Self::send_prepared), so the task polling the
    /// outcomes only checks the now-window and talks HTTP. Items may be
    /// `PreparedEnvelope`s or anything that borrows as one.
    ///
    /// ```no_run
    /// use proactive_core::client::{Client, PreparedEnvelope};
    /// # async fn run(client: Client, envelopes: Vec<proactive_core::Envelope>) {
    /// let (tx, rx) = tokio::sync::mpsc::channel(256);
    /// // Validate and serialize on another thread...
    /// std::thread::spawn(move || {
    ///     for envelope in envelopes {
    ///         match PreparedEnvelope::new(&envelope) {
    ///             Ok(prepared) => tx.blocking_send(prepared).unwrap(),
    ///             Err(invalid) => eprintln!("{}: {invalid}", envelope.reference_id),
    ///         }
    ///     }
    /// });
    /// // ...and only send here.
    /// let prepared = futures_util::stream::unfold(rx, |mut rx| async { rx.recv().await.map(|p| (p, rx)) });
    /// let mut outcomes = client.send_prepared_stream(prepared, 64);
    /// while let Some(outcome) = outcomes.next().await {
    ///     println!("{}: {:?}", outcome.reference_id, outcome.result.map(|a| a.status()));
    /// }
    /// # }
    /// ```
    pub fn send_prepared_stream<'a, S>(&self, prepared: S, concurrency: usize) -> BulkSend<'a>
    where
        S: Stream + Send + 'a,
        S::Item: Borrow<PreparedEnvelope> + Send + 'a,
    {
        self.bulk(prepared, concurrency, |client, prepared| async move {
            let prepared = prepared.borrow();
            (prepared.reference_id().clone(), client.send_prepared(prepared).await)
        })
    }

    /// [`send_prepared_stream`](Self::send_prepared_stream) for envelopes
    /// that each go to their own region: a fan-out, where each user's events
    /// go to the region of their `apiEndpoint`
    /// ([`Addressed::region`](crate::fanout::Addressed::region)). An item with
    /// no region goes to this client's. The clients of the three regions share
    /// this one's token and connections; with a base URL configured, every
    /// event goes to the base URL.
    pub fn send_routed_stream<'a, S>(&self, routed: S, concurrency: usize) -> BulkSend<'a>
    where
        S: Stream<Item = (Option<Region>, PreparedEnvelope)> + Send + 'a,
    {
        let clients = Routes::new(self);
        let routes = routed.map(move |(region, prepared)| (clients.client(region), prepared));
        self.bulk(routes, concurrency, |_, (client, prepared)| async move {
            (prepared.reference_id().clone(), client.send_prepared(&prepared).await)
        })
    }

    /// The bulk send of `items`: `send` of each, at most `concurrency` at a time.
    fn bulk<'a, S, F, Fut>(&self, items: S, concurrency: usize, send: F) -> BulkSend<'a>
    where
        S: Stream + Send + 'a,
        S::Item: Send + 'a,
        F: Fn(Client, S::Item) -> Fut + Send + 'a,
        Fut: Future<Output = (ReferenceId, Result<Accepted, SendError>)> + Send + 'a,
    {
        let client = self.clone();
        let outcomes = items
            .enumerate()
            .map(move |(index, item)| {
                // Boxed once here, so the stream's stages move a pointer, not the whole send.
                let sent = Box::pin(send(client.clone(), item));
                async move {
                    let (reference_id, result) = sent.await;
                    BulkOutcome { index, reference_id, result }
                }
                .instrument(debug_span!("proactive.bulk", index))
            })
            .buffer_unordered(concurrency.max(1));
        BulkSend { outcomes: outcomes.boxed() }
    }
}

/// The clients a routed send picks from: one for each region, sharing this
/// client's token and connections, and this client for events with no region.
struct Routes {
    regional: [Client; 3],
    own: Client,
}

impl Routes {
    fn new(client: &Client) -> Self {
        Self { regional: Region::ALL.map(|region| client.with_region(region)), own: client.clone() }
    }

    /// The client that sends to `region` (`None`: the client's own).
    fn client(&self, region: Option<Region>) -> Client {
        match region.and_then(|region| Region::ALL.iter().position(|r| *r == region)) {
            Some(index) => self.regional[index].clone(),
            None => self.own.clone(),
        }
    }
}

/// What became of one event, in the words this project uses everywhere: the
/// library's [`BulkSummary`], and the `proactive` CLI's lines, summaries and
/// help. Each event has exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Amazon accepted it (2xx).
    Accepted,
    /// Amazon answered 409 (this referenceId was already sent) after an earlier
    /// attempt whose answer was lost: that attempt was delivered.
    AlreadyDelivered,
    /// Refused before sending: validation found errors, nothing was sent.
    Invalid,
    /// Amazon said no (400, 403, a 409 not explained by an earlier attempt, ...):
    /// sending it again unchanged gets the same answer.
    Refused,
    /// Never got an answer that settles it (timeouts, dropped connections, 429
    /// and 5xx after every attempt, no token): sending it again later may work.
    Failed,
}

impl Outcome {
    /// Every outcome, in the order summaries list them.
    pub const ALL: [Outcome; 5] =
        [Outcome::Accepted, Outcome::AlreadyDelivered, Outcome::Invalid, Outcome::Refused, Outcome::Failed];

    /// The outcome of what [`Client::send`] returned.
    ///
    /// ```
    /// use proactive_core::client::Outcome;
    ///
    /// assert_eq!(Outcome::AlreadyDelivered.to_string(), "already delivered");
    /// assert_eq!(Outcome::AlreadyDelivered.key(), "already_delivered");
    /// ```
    pub fn of(result: &Result<Accepted, SendError>) -> Outcome {
        match result {
            Ok(accepted) if accepted.by_earlier_attempt() => Outcome::AlreadyDelivered,
            Ok(_) => Outcome::Accepted,
            Err(SendError::Invalid(_)) => Outcome::Invalid,
            Err(SendError::Api(api)) if !api.is_retryable() => Outcome::Refused,
            Err(_) => Outcome::Failed,
        }
    }

    /// The words: `accepted`, `already delivered`, `invalid`, `refused`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::AlreadyDelivered => "already delivered",
            Outcome::Invalid => "invalid",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    /// The same words as a JSON key or identifier: `already_delivered`, ...
    pub fn key(self) -> &'static str {
        match self {
            Outcome::AlreadyDelivered => "already_delivered",
            other => other.as_str(),
        }
    }

    /// Whether the event reached Amazon: accepted or already delivered.
    pub fn is_delivered(self) -> bool {
        matches!(self, Outcome::Accepted | Outcome::AlreadyDelivered)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of a bulk send's outcomes, for a summary line or a progress bar: one
/// count per [`Outcome`], named by its [`key`](Outcome::key).
///
/// ```
/// use proactive_core::client::BulkSummary;
///
/// let summary = BulkSummary::new();
/// assert_eq!(summary.total(), 0);
/// assert_eq!(
///     summary.to_string(),
///     "0 events: 0 accepted, 0 already delivered, 0 invalid, 0 refused, 0 failed; 0 retries"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkSummary {
    /// [`Outcome::Accepted`]: accepted by Amazon.
    pub accepted: u64,
    /// [`Outcome::AlreadyDelivered`]: a 409 after an earlier attempt that was delivered.
    pub already_delivered: u64,
    /// [`Outcome::Invalid`]: refused by validation, never sent.
    pub invalid: u64,
    /// [`Outcome::Refused`]: Amazon said no (400, 403, 409, ...); retrying cannot change it.
    pub refused: u64,
    /// [`Outcome::Failed`]: no answer that settles it after every attempt (rate
    /// limits, server errors, timeouts, connections, tokens), or an unexpected answer.
    pub failed: u64,
    /// Every POST made, retries included.
    pub attempts: u64,
    /// The POSTs that were retries.
    pub retries: u64,
}

impl BulkSummary {
    /// No outcomes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one outcome of a bulk send.
    pub fn record(&mut self, outcome: &BulkOutcome) {
        let attempts = match &outcome.result {
            Ok(accepted) => accepted.attempts(),
            Err(error) => error.attempts(),
        };
        self.add(Outcome::of(&outcome.result), attempts);
    }

    /// Counts one event with its outcome and how many POSTs it took (for an
    /// outcome decided elsewhere, such as a 409 on resuming an interrupted run).
    pub fn add(&mut self, outcome: Outcome, attempts: u32) {
        *self.count_mut(outcome) += 1;
        self.attempts += u64::from(attempts);
        self.retries += u64::from(attempts.saturating_sub(1));
    }

    /// How many events had `outcome`.
    pub fn count(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Accepted => self.accepted,
            Outcome::AlreadyDelivered => self.already_delivered,
            Outcome::Invalid => self.invalid,
            Outcome::Refused => self.refused,
            Outcome::Failed => self.failed,
        }
    }

    fn count_mut(&mut self, outcome: Outcome) -> &mut u64 {
        match outcome {
            Outcome::Accepted => &mut self.accepted,
            Outcome::AlreadyDelivered => &mut self.already_delivered,
            Outcome::Invalid => &mut self.invalid,
            Outcome::Refused => &mut self.refused,
            Outcome::Failed => &mut self.failed,
        }
    }

    /// How many events reached Amazon: accepted or already delivered.
    pub fn delivered(&self) -> u64 {
        self.accepted + self.already_delivered
    }

    /// How many outcomes were counted.
    pub fn total(&self) -> u64 {
        Outcome::ALL.iter().map(|&outcome| self.count(outcome)).sum()
    }
}

impl fmt::Display for BulkSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.total();
        write!(f, "{total} event{}:", if total == 1 { "" } else { "s" })?;
        for (i, outcome) in Outcome::ALL.into_iter().enumerate() {
            write!(f, "{} {} {outcome}", if i == 0 { "" } else { "," }, self.count(outcome))?;
        }
        write!(f, "; {} retries", self.retries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscription::Subscriber;

    #[test]
    fn a_routed_event_goes_to_the_host_of_its_users_region() {
        let client = Client::builder("id", "secret").region(Region::Europe).build().unwrap();
        let routes = Routes::new(&client);
        let path = "/v1/proactiveEvents/stages/development";
        for (api_endpoint, host) in [
            ("https://api.amazonalexa.com", "https://api.amazonalexa.com"),
            ("https://api.eu.amazonalexa.com", "https://api.eu.amazonalexa.com"),
            ("https://api.fe.amazonalexa.com/", "https://api.fe.amazonalexa.com"),
        ] {
            let subscriber = Subscriber {
                user_id: crate::UserId::new("amzn1.ask.account.A").unwrap(),
                api_endpoint: api_endpoint.into(),
            };
            assert_eq!(routes.client(subscriber.region()).events_url(), format!("{host}{path}"), "{api_endpoint}");
        }
        // No region (an apiEndpoint that is not Amazon's): the client's own.
        assert_eq!(routes.client(None).events_url(), format!("https://api.eu.amazonalexa.com{path}"));
        // With a base URL (a sandbox, a stand-in), every region sends there.
        let local = Client::builder("id", "secret").base_url("http://127.0.0.1:9").build().unwrap();
        let routes = Routes::new(&local);
        for region in Region::ALL.map(Some).into_iter().chain([None]) {
            assert_eq!(routes.client(region).events_url(), format!("http://127.0.0.1:9{path}"));
        }
    }
}
