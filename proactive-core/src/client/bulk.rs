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
use super::send::Accepted;
use crate::{Envelope, ReferenceId};

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
        let client = self.clone();
        let outcomes = envelopes
            .enumerate()
            .map(move |(index, envelope)| {
                let client = client.clone();
                async move {
                    let envelope = envelope.borrow();
                    let result = client.send(envelope).await;
                    BulkOutcome { index, reference_id: envelope.reference_id.clone(), result }
                }
                .instrument(debug_span!("proactive.bulk", index))
            })
            .buffer_unordered(concurrency.max(1));
        BulkSend { outcomes: outcomes.boxed() }
    }
}

/// Counts of a bulk send's outcomes, for a summary line or a progress bar.
///
/// ```
/// use proactive_core::client::BulkSummary;
///
/// let summary = BulkSummary::new();
/// assert_eq!(summary.total(), 0);
/// assert_eq!(summary.to_string(), "0 events: 0 accepted, 0 invalid, 0 rejected, 0 failed; 0 retries");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkSummary {
    /// Accepted by Amazon (those [`by_earlier_attempt`](Accepted::by_earlier_attempt) included).
    pub accepted: u64,
    /// Of the accepted, those confirmed by a 409 after a lost answer.
    pub accepted_by_earlier_attempt: u64,
    /// Refused by validation: never sent.
    pub invalid: u64,
    /// Refused by Amazon with a status that retrying cannot change (400, 403, 409, ...).
    pub rejected: u64,
    /// Not delivered for a reason that may pass (rate limits, server errors,
    /// timeouts, connections, tokens) after every attempt, or an unexpected answer.
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

    /// Counts one outcome.
    pub fn record(&mut self, outcome: &BulkOutcome) {
        let attempts = match &outcome.result {
            Ok(accepted) => {
                self.accepted += 1;
                self.accepted_by_earlier_attempt += u64::from(accepted.by_earlier_attempt());
                accepted.attempts()
            }
            Err(error) => {
                match error {
                    SendError::Invalid(_) => self.invalid += 1,
                    SendError::Api(api) if !api.is_retryable() => self.rejected += 1,
                    _ => self.failed += 1,
                }
                error.attempts()
            }
        };
        self.attempts += u64::from(attempts);
        self.retries += u64::from(attempts.saturating_sub(1));
    }

    /// How many outcomes were counted.
    pub fn total(&self) -> u64 {
        self.accepted + self.invalid + self.rejected + self.failed
    }
}

impl fmt::Display for BulkSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} events: {} accepted", self.total(), self.accepted)?;
        if self.accepted_by_earlier_attempt > 0 {
            write!(f, " ({} by an earlier attempt)", self.accepted_by_earlier_attempt)?;
        }
        write!(
            f,
            ", {} invalid, {} rejected, {} failed; {} retries",
            self.invalid, self.rejected, self.failed, self.retries
        )
    }
}
