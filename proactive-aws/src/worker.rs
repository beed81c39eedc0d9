//! The consumer for containers: long polling, bounded concurrency, graceful
//! shutdown.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::dead_letter::DeadLetterSink;
use crate::delivery::{Delivery, Disposition, Inbound};
use crate::message::REGION_ATTRIBUTE;

/// How long the deleter waits to fill a batch of 10 before it deletes fewer.
const DELETE_LINGER: Duration = Duration::from_millis(10);
/// Delete calls in flight at once.
const DELETES_IN_FLIGHT: usize = 4;

/// How the [`Worker`] polls and holds messages.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// The queue's URL.
    pub queue_url: String,
    /// Messages being sent at once (default 16).
    pub concurrency: usize,
    /// How long a receive waits for messages (long polling; default 20 s, the
    /// most SQS allows).
    pub wait_time: Duration,
    /// How long a received message stays invisible to other consumers; it is
    /// extended by this much, every half of it, while the send goes on
    /// (default 30 s).
    pub visibility_timeout: Duration,
    /// How long a message that failed in a retryable way stays invisible before
    /// it is received again (default 30 s).
    pub retry_delay: Duration,
    /// How long a shutdown waits for the sends in flight (default 30 s); what
    /// is not done by then comes back to the queue.
    pub shutdown_grace: Duration,
}

impl WorkerConfig {
    /// The defaults, for the queue at `queue_url`.
    pub fn new(queue_url: impl Into<String>) -> Self {
        Self {
            queue_url: queue_url.into(),
            concurrency: 16,
            wait_time: Duration::from_secs(20),
            visibility_timeout: Duration::from_secs(30),
            retry_delay: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// What a worker did, from start to shutdown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerSummary {
    /// Messages received.
    pub received: u64,
    /// Events Amazon has (accepted, or 409: already delivered).
    pub delivered: u64,
    /// Of those, the ones Amazon answered 409.
    pub duplicates: u64,
    /// Messages written to the dead-letter sink.
    pub dead_lettered: u64,
    /// Of those, how many of each [`DeadLetter::kind`](crate::DeadLetter::kind)
    /// (`not_subscribed`, `invalid`, `malformed`, `gave_up`, ...).
    pub dead_lettered_by_kind: BTreeMap<String, u64>,
    /// Dead letters the sink could not keep (logged as errors): their messages
    /// were left on the queue, and come back.
    pub dead_letter_failures: u64,
    /// Messages left on the queue to be received again (those of
    /// `dead_letter_failures` included).
    pub released: u64,
    /// Retries of HTTP requests to Amazon.
    pub retries: u64,
}

/// The worker could not go on.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct WorkerError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Reads an SQS queue and sends what it reads: the long-polling consumer for
/// containers and servers.
///
/// - At most [`concurrency`](WorkerConfig::concurrency) messages are held at
///   once; it receives only as many as it has room for. Several receives run
///   at once (one for every 16 of concurrency, up to 4), and each waits for
///   room for a batch (a quarter of the concurrency, up to 10), so that each
///   receive and each delete carries several messages.
/// - While a send retries, the message's visibility timeout is extended, so no
///   other consumer receives it meanwhile.
/// - Delivered messages are deleted (in batches); refused ones are written to
///   the dead-letter sink and then deleted; retryable failures are left on the
///   queue, to come back after [`retry_delay`](WorkerConfig::retry_delay). See
///   [`Delivery`] for the rules.
/// - When `shutdown` completes ([`shutdown_signal`]: SIGTERM or Ctrl-C), it
///   stops receiving, lets the sends in flight finish (at most
///   [`shutdown_grace`](WorkerConfig::shutdown_grace)), deletes what they
///   delivered and returns. A worker killed outright loses nothing either:
///   what it held comes back when the visibility timeout ends, and is sent
///   again with the same referenceId (Amazon answers 409: delivered). A
///   refusal it had just recorded, but not yet deleted, is refused and
///   recorded again: dead letters are at least once, and each names its
///   referenceId.
#[derive(Debug)]
pub struct Worker<D> {
    sqs: aws_sdk_sqs::Client,
    delivery: Delivery,
    dead_letters: Arc<D>,
    config: WorkerConfig,
}

/// What a message's task reports.
enum Done {
    Delivered {
        duplicate: bool,
        retries: u32,
    },
    DeadLettered {
        kind: String,
    },
    /// The sink could not keep the dead letter; the message comes back.
    DeadLetterFailed,
    Released,
}

impl<D: DeadLetterSink + 'static> Worker<D> {
    /// A worker that reads with `sqs`, sends with `delivery`, and keeps
    /// refusals in `dead_letters`.
    pub fn new(sqs: aws_sdk_sqs::Client, delivery: Delivery, dead_letters: D, config: WorkerConfig) -> Self {
        Self { sqs, delivery, dead_letters: Arc::new(dead_letters), config }
    }

    /// Runs until `shutdown` completes, then returns what it did. `Err` when the
    /// queue cannot be read (after the SDK's own retries), or at once when the
    /// dead-letter sink fails its [`check`](DeadLetterSink::check) (a
    /// dead-letter queue that does not exist). A dead letter the sink cannot
    /// keep later is logged as an error and counted in
    /// [`WorkerSummary::dead_letter_failures`]; its message comes back.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<WorkerSummary, WorkerError> {
        if let Err(cause) = self.dead_letters.check().await {
            error!(error = %cause, "the dead-letter sink cannot take records; not starting");
            return Err(WorkerError {
                message: "the dead-letter sink cannot take records, so refused events could not be kept".to_owned(),
                source: Some(Box::new(cause)),
            });
        }
        let started = Instant::now();
        let this = Arc::new(self);
        let permits = Arc::new(Semaphore::new(this.config.concurrency.max(1)));
        let (deletes, deleter) = this.deleter();
        let mut tasks = JoinSet::new();
        let mut summary = WorkerSummary::default();
        let mut shutdown = std::pin::pin!(shutdown);
        // Several receives at once, each for a batch, so that the queue's
        // round trips overlap and each call carries up to 10 messages.
        let mut receives = JoinSet::new();
        for _ in 0..receivers(this.config.concurrency) {
            receives.spawn(Arc::clone(&this).receive_batch(Arc::clone(&permits)));
        }
        let result = loop {
            while let Some(done) = tasks.try_join_next() {
                record(&mut summary, done);
            }
            let (held, received) = tokio::select! {
                () = &mut shutdown => break Ok(()),
                Some(batch) = receives.join_next() => match batch {
                    Ok(batch) => batch,
                    Err(error) => break Err(WorkerError { message: "a receive failed".to_owned(), source: Some(Box::new(error)) }),
                },
            };
            let messages = match received {
                Ok(messages) => messages,
                Err(error) => break Err(error),
            };
            summary.received += messages.len() as u64;
            for message in &messages {
                let sent = message.attributes().and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp));
                crate::observe::received(sent.map(String::as_str));
            }
            for (message, permit) in messages.into_iter().zip(held) {
                let this = Arc::clone(&this);
                let deletes = deletes.clone();
                tasks.spawn(async move {
                    let done = this.process(message, &deletes).await;
                    observe(&done);
                    drop(permit);
                    done
                });
            }
            receives.spawn(Arc::clone(&this).receive_batch(Arc::clone(&permits)));
        };
        // Receives still waiting are cancelled: what they would have got stays on the queue.
        receives.abort_all();
        info!(in_flight = tasks.len(), "stopping: no more receives");
        let grace = tokio::time::sleep(this.config.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                done = tasks.join_next() => match done {
                    Some(done) => record(&mut summary, done),
                    None => break,
                },
                () = &mut grace => {
                    warn!(in_flight = tasks.len(), "shutdown grace over; the messages in flight come back to the queue");
                    tasks.abort_all();
                    break;
                }
            }
        }
        drop(deletes);
        let _ = deleter.await;
        info!(?summary, elapsed_ms = started.elapsed().as_millis() as u64, "worker stopped");
        result.map(|()| summary)
    }

    /// Waits for room for a batch ([`hold`]), then receives at most that many.
    async fn receive_batch(
        self: Arc<Self>,
        permits: Arc<Semaphore>,
    ) -> (Vec<OwnedSemaphorePermit>, Result<Vec<Message>, WorkerError>) {
        let held = hold(&permits, batch(self.config.concurrency)).await;
        let received = self.receive(held.len()).await;
        (held, received)
    }

    async fn receive(&self, max: usize) -> Result<Vec<Message>, WorkerError> {
        let output = self
            .sqs
            .receive_message()
            .queue_url(&self.config.queue_url)
            .max_number_of_messages(i32::try_from(max).unwrap_or(10))
            .wait_time_seconds(secs(self.config.wait_time).min(20))
            .visibility_timeout(secs(self.config.visibility_timeout))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_attribute_names(REGION_ATTRIBUTE)
            .send()
            .await
            .map_err(|e| WorkerError {
                message: format!("could not receive from `{}`", self.config.queue_url),
                source: Some(Box::new(e)),
            })?;
        Ok(output.messages.unwrap_or_default())
    }

    /// Sends one message, keeping it invisible meanwhile, and settles it.
    async fn process(&self, message: Message, deletes: &mpsc::UnboundedSender<String>) -> Done {
        let receipt = message.receipt_handle().unwrap_or_default().to_owned();
        let inbound = Inbound {
            message_id: message.message_id().unwrap_or_default(),
            body: message.body().unwrap_or_default(),
            region: message.message_attributes().and_then(|a| a.get(REGION_ATTRIBUTE)).and_then(|a| a.string_value()),
            receive_count: message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|c| c.parse().ok())
                .unwrap_or(1),
        };
        let disposition = {
            let deliver = self.delivery.deliver(&inbound);
            tokio::pin!(deliver);
            let half = (self.config.visibility_timeout / 2).max(Duration::from_secs(1));
            let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + half, half);
            loop {
                tokio::select! {
                    disposition = &mut deliver => break disposition,
                    _ = heartbeat.tick() => self.change_visibility(&receipt, self.config.visibility_timeout).await,
                }
            }
        };
        match disposition {
            Disposition::Delivered { duplicate, retries } => {
                let _ = deletes.send(receipt);
                Done::Delivered { duplicate, retries }
            }
            Disposition::DeadLetter(letter) => match self.dead_letters.put(&letter).await {
                Ok(()) => {
                    info!(message_id = inbound.message_id, kind = %letter.kind, reason = %letter.reason, "dead-lettered");
                    let _ = deletes.send(receipt);
                    Done::DeadLettered { kind: letter.kind }
                }
                Err(cause) => {
                    error!(
                        message_id = inbound.message_id,
                        reference_id = letter.reference_id.as_deref(),
                        kind = %letter.kind,
                        error = %cause,
                        "the dead letter could not be kept; the message comes back"
                    );
                    self.change_visibility(&receipt, self.config.retry_delay).await;
                    Done::DeadLetterFailed
                }
            },
            Disposition::Retry(error) => {
                debug!(message_id = inbound.message_id, error = %error, "not delivered; the message comes back");
                self.change_visibility(&receipt, self.config.retry_delay).await;
                Done::Released
            }
        }
    }

    /// Best effort: when it fails, the message comes back a little earlier.
    async fn change_visibility(&self, receipt: &str, timeout: Duration) {
        let changed = self
            .sqs
            .change_message_visibility()
            .queue_url(&self.config.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(secs(timeout))
            .send()
            .await;
        if let Err(error) = changed {
            warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(error), "could not change a message's visibility");
        }
    }

    /// A task that deletes settled messages in batches of 10: it waits up to
    /// [`DELETE_LINGER`] to fill a batch, and keeps up to [`DELETES_IN_FLIGHT`]
    /// calls going at once.
    fn deleter(self: &Arc<Self>) -> (mpsc::UnboundedSender<String>, tokio::task::JoinHandle<()>) {
        let (sender, mut receipts) = mpsc::unbounded_channel::<String>();
        let this = Arc::clone(self);
        let task = tokio::spawn(async move {
            let mut calls = JoinSet::new();
            let mut batch = Vec::with_capacity(10);
            while receipts.recv_many(&mut batch, 10).await > 0 {
                let linger = tokio::time::sleep(DELETE_LINGER);
                tokio::pin!(linger);
                while batch.len() < 10 {
                    let room = 10 - batch.len();
                    tokio::select! {
                        read = receipts.recv_many(&mut batch, room) => if read == 0 { break },
                        () = &mut linger => break,
                    }
                }
                while calls.len() >= DELETES_IN_FLIGHT {
                    let _ = calls.join_next().await;
                }
                let (this, batch) = (Arc::clone(&this), std::mem::replace(&mut batch, Vec::with_capacity(10)));
                calls.spawn(async move { this.delete(batch).await });
            }
            while calls.join_next().await.is_some() {}
        });
        (sender, task)
    }

    /// Best effort: a message not deleted comes back, and is then answered 409.
    async fn delete(&self, receipts: Vec<String>) {
        let entries: Vec<_> = receipts
            .iter()
            .enumerate()
            .filter_map(|(i, receipt)| {
                DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(receipt).build().ok()
            })
            .collect();
        let deleted =
            self.sqs.delete_message_batch().queue_url(&self.config.queue_url).set_entries(Some(entries)).send().await;
        match deleted {
            Ok(output) if !output.failed().is_empty() => {
                warn!(failed = output.failed().len(), "some messages could not be deleted; they will come back");
            }
            Ok(_) => {}
            Err(error) => {
                warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(error), "could not delete messages; they will come back")
            }
        }
    }
}

fn record(summary: &mut WorkerSummary, done: Result<Done, tokio::task::JoinError>) {
    match done {
        Ok(Done::Delivered { duplicate, retries }) => {
            summary.delivered += 1;
            summary.duplicates += u64::from(duplicate);
            summary.retries += u64::from(retries);
        }
        Ok(Done::DeadLettered { kind }) => {
            summary.dead_lettered += 1;
            *summary.dead_lettered_by_kind.entry(kind).or_default() += 1;
        }
        Ok(Done::DeadLetterFailed) => {
            summary.dead_letter_failures += 1;
            summary.released += 1;
        }
        Ok(Done::Released) => summary.released += 1,
        Err(_) => {
            summary.released += 1;
            crate::observe::settled("released", 0);
        }
    }
}

/// Counts a settled message as soon as it is settled (the summary counts it
/// when the task is joined).
fn observe(done: &Done) {
    match done {
        Done::Delivered { duplicate, retries } => {
            crate::observe::settled(if *duplicate { "already_delivered" } else { "accepted" }, *retries);
        }
        Done::DeadLettered { .. } => crate::observe::settled("dead_lettered", 0),
        Done::Released | Done::DeadLetterFailed => crate::observe::settled("released", 0),
    }
}

/// How many receives are in flight at once: one for every 16 messages of
/// concurrency, 1 to 4.
fn receivers(concurrency: usize) -> usize {
    (concurrency / 16).clamp(1, 4)
}

/// How much room a receive waits for: a quarter of the concurrency, 1 to 10.
/// Waiting for a batch rather than for one free slot costs little concurrency
/// and makes each receive (and each delete) carry several messages.
fn batch(concurrency: usize) -> usize {
    (concurrency / 4).clamp(1, 10)
}

/// Waits until `first` permits are free, then takes as many more as are free,
/// up to 10 in all: one permit for each message a receive may bring.
async fn hold(permits: &Arc<Semaphore>, first: usize) -> Vec<OwnedSemaphorePermit> {
    let Ok(mut permit) = Arc::clone(permits).acquire_many_owned(u32::try_from(first).unwrap_or(1)).await else {
        // Never closed; were it, no receive could have room.
        return std::future::pending().await;
    };
    let more = permits.available_permits().min(10usize.saturating_sub(first));
    if more > 0
        && let Ok(extra) = Arc::clone(permits).try_acquire_many_owned(u32::try_from(more).unwrap_or(0))
    {
        permit.merge(extra);
    }
    let mut held = Vec::with_capacity(permit.num_permits());
    while permit.num_permits() > 1 {
        match permit.split(1) {
            Some(one) => held.push(one),
            None => break,
        }
    }
    held.push(permit);
    held
}

fn secs(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs()).unwrap_or(i32::MAX)
}

/// Completes on SIGTERM (what ECS, Kubernetes and systemd send) or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the worker");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
