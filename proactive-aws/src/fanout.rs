//! A fan-out onto SQS: every subscriber of an event in the DynamoDB store gets
//! their envelope on the queue, a page at a time, with a checkpoint in the
//! same table so that an interrupted fan-out resumes after the last page it
//! enqueued.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use proactive_core::fanout::FanOut;
use proactive_core::subscription::{StoreError, SubscriptionTracker};
use proactive_core::{MAX_EXPIRY, MIN_EXPIRY, Region, UserId};
use uuid::Uuid;

use crate::producer::{EnqueueError, EnqueueReport, Refused, RefusedReason, SqsProducer};
use crate::{DynamoDbStore, message};

/// How many batches of 10 are on their way to SQS at once.
const BATCHES_IN_FLIGHT: usize = 8;

/// The namespace of a checkpoint's key.
const CHECKPOINT_NAMESPACE: Uuid = Uuid::from_u128(0x2b5e_04a1_73c9_4f0e_a8d2_61f4_9c3b_7e15);

/// Where a fan-out onto SQS stands, kept in the store's table: the item
/// `pk = fanout#<id>`, `sk = checkpoint`, where the id is a name-based UUID of
/// the event and the event key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checkpoint {
    /// The last user whose page is all on the queue; `None` before the first.
    pub after: Option<UserId>,
    /// How many envelopes are on the queue so far.
    pub enqueued: u64,
    /// Whether every page is on the queue.
    pub done: bool,
}

/// What [`enqueue_fanout`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct FanoutReport {
    /// Envelopes put on the queue by this run.
    pub enqueued: u64,
    /// Envelopes not enqueued (SQS refused them, or they are outside Amazon's
    /// window now), each with why; `index` counts this run's subscribers.
    pub refused: Vec<Refused>,
    /// Pages read by this run.
    pub pages: u64,
    /// The checkpoint this run resumed from (`None`: it started at the first subscriber).
    pub resumed_after: Option<UserId>,
    /// The fan-out was already done: nothing was enqueued.
    pub already_done: bool,
}

/// Why [`enqueue_fanout`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FanoutError {
    /// The store (subscribers or checkpoint) could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue could not be reached.
    #[error(transparent)]
    Queue(#[from] EnqueueError),
    /// The checkpoint of this event key was made for another template.
    #[error(
        "the checkpoint of the event key `{event_key}` in the DynamoDB table `{table}` was written for another \
         template; give this template its own event key"
    )]
    AnotherTemplate {
        /// The event key.
        event_key: String,
        /// The table.
        table: String,
    },
}

/// The settings of a fan-out onto SQS.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct FanoutOptions {
    /// Subscribers read at once; the checkpoint is written after each page.
    pub page_size: usize,
    /// The region of a subscriber whose `apiEndpoint` is not one of Amazon's hosts.
    pub default_region: Region,
}

impl Default for FanoutOptions {
    fn default() -> Self {
        Self { page_size: proactive_core::subscription::DEFAULT_PAGE_SIZE, default_region: Region::NorthAmerica }
    }
}

impl FanoutOptions {
    /// Sets the page size (at least 1).
    #[must_use]
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Sets the region of subscribers whose `apiEndpoint` is not one of Amazon's hosts.
    #[must_use]
    pub fn default_region(mut self, region: Region) -> Self {
        self.default_region = region;
        self
    }
}

/// Puts the envelope of every subscriber of `fanout`'s event on the queue:
/// pages of subscribers from `store` (consistent reads), batches of 10 with
/// [`SendMessageBatch`](aws_sdk_sqs::Client::send_message_batch), several at
/// once, and a checkpoint in `store`'s table after each page.
///
/// Run it again after a crash with the same event key: it resumes after the
/// last page it finished. The page it was enqueueing may be enqueued again;
/// its envelopes have the same referenceIds, so Amazon delivers each once and
/// answers 409 to the repeat, which the worker counts as delivered. A fan-out
/// already done enqueues nothing ([`FanoutReport::already_done`]).
pub async fn enqueue_fanout(
    producer: &SqsProducer,
    store: &DynamoDbStore,
    fanout: &FanOut,
    options: FanoutOptions,
) -> Result<FanoutReport, FanoutError> {
    let checkpoints = Checkpoints::new(store, fanout);
    let mut checkpoint = checkpoints.load().await?;
    let mut report = FanoutReport { resumed_after: checkpoint.after.clone(), ..FanoutReport::default() };
    if checkpoint.done {
        report.already_done = true;
        return Ok(report);
    }
    let tracker = SubscriptionTracker::new(store.clone());
    let mut pages =
        std::pin::pin!(tracker.subscriber_pages(fanout.event().clone(), checkpoint.after.clone(), options.page_size));
    let mut index = 0;
    while let Some(page) = pages.try_next().await? {
        let mut items = Vec::with_capacity(page.subscribers.len());
        for subscriber in &page.subscribers {
            let region = subscriber.region().unwrap_or(options.default_region);
            if let Some(Ok(prepared)) = fanout.prepare_for(subscriber) {
                items.push((index, prepared, region));
            }
            index += 1;
        }
        let page_report = enqueue_page(producer, items).await?;
        report.pages += 1;
        report.enqueued += page_report.enqueued as u64;
        report.refused.extend(page_report.refused);
        checkpoint.enqueued += page_report.enqueued as u64;
        checkpoint.done = page.next.is_none();
        if let Some(next) = page.next {
            checkpoint.after = Some(next);
        }
        checkpoints.save(&checkpoint).await?;
    }
    if !checkpoint.done {
        // An event with no subscriber left (or none at all) ends here.
        checkpoint.done = true;
        checkpoints.save(&checkpoint).await?;
    }
    Ok(report)
}

/// Enqueues one page's prepared envelopes, [`BATCHES_IN_FLIGHT`] batches at a time.
async fn enqueue_page(
    producer: &SqsProducer,
    items: Vec<(usize, proactive_core::client::PreparedEnvelope, Region)>,
) -> Result<EnqueueReport, EnqueueError> {
    let mut report = EnqueueReport::default();
    let now = Utc::now();
    let mut bodies = Vec::with_capacity(items.len());
    for (index, prepared, region) in items {
        let expiry = prepared.expiry_time();
        if expiry < now + MIN_EXPIRY || expiry > now + MAX_EXPIRY {
            let reason = RefusedReason::Window { expiry_time: expiry };
            report.refused.push(Refused { index, reason });
            continue;
        }
        let body = String::from_utf8_lossy(prepared.body()).into_owned();
        let bytes = message::size(&body, region);
        if bytes > producer.max_bytes() {
            let reason = RefusedReason::TooLarge { bytes, limit: producer.max_bytes() };
            report.refused.push(Refused { index, reason });
            continue;
        }
        bodies.push((index, body, region));
    }
    let batches: Vec<Vec<_>> = producer.batches(bodies);
    let mut sent = stream::iter(batches)
        .map(|batch| async move {
            let mut part = EnqueueReport::default();
            producer.send_batch(batch, &mut part).await.map(|()| part)
        })
        .buffer_unordered(BATCHES_IN_FLIGHT);
    while let Some(part) = sent.next().await {
        let part = part?;
        report.enqueued += part.enqueued;
        report.refused.extend(part.refused);
    }
    Ok(report)
}

/// The checkpoint item of one fan-out.
struct Checkpoints<'a> {
    store: &'a DynamoDbStore,
    key: String,
    event_key: &'a str,
    /// What the fan-out sends: its event and its template's body.
    template: String,
}

impl<'a> Checkpoints<'a> {
    fn new(store: &'a DynamoDbStore, fanout: &'a FanOut) -> Self {
        let name = format!("{}:{}{}", fanout.event_key().len(), fanout.event_key(), fanout.event());
        let key = format!("fanout#{}", Uuid::new_v5(&CHECKPOINT_NAMESPACE, name.as_bytes()).simple());
        // What is sent, without the times: a re-stamped template is the same fan-out.
        let body = fanout
            .template()
            .map(|t| serde_json::json!({"event": &t.event, "localizedAttributes": &t.localized_attributes}).to_string())
            .unwrap_or_default();
        let template = Uuid::new_v5(&CHECKPOINT_NAMESPACE, body.as_bytes()).simple().to_string();
        Self { store, key, event_key: fanout.event_key(), template }
    }

    async fn load(&self) -> Result<Checkpoint, FanoutError> {
        let Some(item) = self.store.get_raw(&self.key, "checkpoint").await? else {
            return Ok(Checkpoint::default());
        };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
        if text("template").is_some_and(|template| *template != self.template) {
            return Err(FanoutError::AnotherTemplate {
                event_key: self.event_key.to_owned(),
                table: self.store.table().to_owned(),
            });
        }
        Ok(Checkpoint {
            after: text("after").and_then(|after| UserId::new(after).ok()),
            enqueued: item.get("enqueued").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0),
            done: item.get("done").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        })
    }

    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let mut item: HashMap<String, AttributeValue> = HashMap::new();
        item.insert("event_key".into(), AttributeValue::S(self.event_key.to_owned()));
        item.insert("template".into(), AttributeValue::S(self.template.clone()));
        item.insert("enqueued".into(), AttributeValue::N(checkpoint.enqueued.to_string()));
        item.insert("done".into(), AttributeValue::Bool(checkpoint.done));
        item.insert("updated".into(), AttributeValue::S(Utc::now().to_rfc3339()));
        if let Some(after) = &checkpoint.after {
            item.insert("after".into(), AttributeValue::S(after.as_str().to_owned()));
        }
        self.store.put_raw(&self.key, "checkpoint", item).await
    }
}
