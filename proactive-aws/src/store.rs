//! A subscription store in one DynamoDB table.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters as _;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, KeySchemaElement, KeyType, Put, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem,
};
use chrono::{DateTime, SecondsFormat, Utc};
use proactive_core::UserId;
use proactive_core::subscription::{
    Applied, Disabled, StoreError, SubscribedEvent, Subscriber, SubscriberPage, SubscriptionStore, TOMBSTONE_TTL,
    Tombstone, UserSubscriptions,
};

/// The layout this version writes in every state row (`v`); a row with another
/// value is refused rather than misread.
const LAYOUT: &str = "1";
/// How many event names one request may carry. A change writes the state
/// item, deletes the subscriptions it drops and puts the ones it adds, in one
/// transaction of at most 100 items (DynamoDB's limit): 1 + 49 + 49 = 99 fits
/// whatever the change. Amazon has 8 event schemas.
pub const MAX_EVENTS_PER_USER: usize = 49;
/// How long an event name may be, in bytes (DynamoDB allows 2,048 bytes of
/// partition key; Amazon's names are under 50).
pub const MAX_EVENT_NAME_BYTES: usize = 256;
/// The attribute that DynamoDB's time to live reads: a tombstone's item holds
/// the epoch second after which it may be deleted.
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// How many times a write is tried again after another writer changed the user
/// between the read and the write.
const MAX_CONFLICTS: u32 = 64;

/// A [`SubscriptionStore`] in one DynamoDB table: for a fleet of senders, or a
/// skill on AWS Lambda, where no local file survives.
///
/// # Table layout
///
/// One table, with a string partition key `pk` and a string sort key `sk`
/// (create it with [`create_table`](Self::create_table), or in your
/// infrastructure code with the same key schema), holding two kinds of item:
///
/// | item | `pk` | `sk` | other attributes |
/// |---|---|---|---|
/// | a user's state | `user#` + user id | `state` | `events` (list of event names), `timestamp` (RFC 3339, nanoseconds), `request_id`, `api_endpoint`, `v` (layout, `1`) |
/// | a user who disabled the skill | `user#` + user id | `state` | `tombstone` (`true`), `timestamp`, `request_id`, `expires_at` (epoch seconds, for the table's time to live), `v` |
/// | one subscription | `event#` + event name | user id | `api_endpoint` |
///
/// Timestamps are compared as instants: a state whose `timestamp` another
/// program wrote in another RFC 3339 form (`2020-05-01T12:00:00Z`) is read,
/// ordered and replaced like one this store wrote.
///
/// # Tombstones
///
/// A `SkillDisabled` replaces the user's state with a tombstone, which
/// DynamoDB's time to live deletes after [`TOMBSTONE_TTL`]: turn time to live on
/// for the attribute `expires_at` ([`create_table`](Self::create_table) does,
/// and so does the project's SAM template). DynamoDB deletes expired items
/// within a few days, never before; until then the tombstone keeps refusing
/// requests older than it, which the verifier refuses anyway by then.
/// [`purge_tombstones`](SubscriptionStore::purge_tombstones) removes nothing here.
///
/// # Limits
///
/// A request may carry at most [`MAX_EVENTS_PER_USER`] (49) event names, each at
/// most [`MAX_EVENT_NAME_BYTES`] (256) bytes; one beyond them is refused
/// ([`StoreError::is_refused`]: the tracker answers 400, so Alexa does not retry
/// it forever). A subscription item that cannot be read (no `api_endpoint`, an
/// invalid user id) is skipped with a warning, so one bad item never stops a
/// fan-out.
///
/// Why item-per-subscription, and not a list of events on the user's item with
/// a secondary index: an index cannot key on the members of a list or set, so
/// listing an event's subscribers would be a full table scan. With one item per
/// (event, user), [`subscribers_page`](SubscriptionStore::subscribers_page) is one
/// strongly consistent `Query` on the partition `event#NAME`, already sorted by
/// user id and read page by page (`ExclusiveStartKey` is the cursor), whatever
/// the size of the table; a global
/// secondary index would give the same query but only eventually consistent,
/// and at the price of a second copy of every write.
///
/// # Newest state wins
///
/// [`apply`](SubscriptionStore::apply) reads the user's state, compares with
/// [`UserSubscriptions::supersedes`], and writes the new state and the changed
/// subscription items in one transaction, on condition that the state row is
/// still the one it read (absent, or the same timestamp and request id). When
/// another writer got there first, the condition fails, and it reads again and
/// decides again, so concurrent writers on any number of machines keep the
/// newest state, whatever the order requests arrive in. A transaction is
/// all-or-nothing: a crash leaves either the old state or the new one.
///
/// Clones share the SDK client.
#[derive(Clone, Debug)]
pub struct DynamoDbStore {
    client: Client,
    table: Arc<str>,
}

impl DynamoDbStore {
    /// A store in the existing table `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into().into() }
    }

    /// Creates `table` with the key schema above (on-demand capacity), waits
    /// until it is active, and returns the store. For tests and first runs;
    /// production tables usually come from infrastructure code.
    pub async fn create_table(client: Client, table: impl Into<String>) -> Result<Self, StoreError> {
        let store = Self::new(client, table);
        let key = |name: &str, key_type| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
                .map_err(|e| store.error("describe the table", e))
        };
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| store.error("describe the table", e))
        };
        store
            .client
            .create_table()
            .table_name(&*store.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .attribute_definitions(attribute("pk")?)
            .attribute_definitions(attribute("sk")?)
            .send()
            .await
            .map_err(|e| store.error("create the table", e))?;
        store
            .client
            .wait_until_table_exists()
            .table_name(&*store.table)
            .wait(Duration::from_secs(300))
            .await
            .map_err(|e| store.error("wait for the new table", e))?;
        store.enable_time_to_live().await?;
        Ok(store)
    }

    /// Turns on the table's time to live for [`TTL_ATTRIBUTE`], which removes
    /// tombstones. Infrastructure code usually does this instead.
    pub async fn enable_time_to_live(&self) -> Result<(), StoreError> {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(|e| self.error("describe the time to live", e))?;
        self.client
            .update_time_to_live()
            .table_name(&*self.table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| self.error("turn on the time to live", e))?;
        Ok(())
    }

    /// Checks that the table exists and can be read, with a clear error when
    /// it does not: for tools, before they start.
    pub async fn check_table(&self) -> Result<(), StoreError> {
        self.client.describe_table().table_name(&*self.table).send().await.map(|_| ()).map_err(|e| {
            StoreError::with_source(format!("the DynamoDB table `{}` does not exist or cannot be read", self.table), e)
        })
    }

    /// The item at (`pk`, `sk`), read consistently: for the fan-out's checkpoint.
    pub(crate) async fn get_raw(
        &self,
        pk: &str,
        sk: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&*self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error(&format!("read `{pk}`"), e))?;
        Ok(output.item)
    }

    /// Writes the item (`pk`, `sk`) with `attributes`: for the fan-out's checkpoint.
    pub(crate) async fn put_raw(
        &self,
        pk: &str,
        sk: &str,
        mut attributes: HashMap<String, AttributeValue>,
    ) -> Result<(), StoreError> {
        attributes.insert("pk".to_owned(), AttributeValue::S(pk.to_owned()));
        attributes.insert("sk".to_owned(), AttributeValue::S(sk.to_owned()));
        self.client
            .put_item()
            .table_name(&*self.table)
            .set_item(Some(attributes))
            .send()
            .await
            .map_err(|e| self.error(&format!("write `{pk}`"), e))?;
        Ok(())
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn error(&self, doing: &str, source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> StoreError {
        StoreError::with_source(format!("could not {doing} in the DynamoDB table `{}`", self.table), source)
    }

    /// The state row of `user_id`, read consistently.
    async fn load(&self, user_id: &UserId) -> Result<Option<Loaded>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&*self.table)
            .key("pk", user_key(user_id))
            .key("sk", AttributeValue::S("state".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error(&format!("read the subscriptions of `{user_id}`"), e))?;
        output.item.map(|item| self.decode(user_id, &item)).transpose()
    }

    fn decode(&self, user_id: &UserId, item: &HashMap<String, AttributeValue>) -> Result<Loaded, StoreError> {
        let bad = |what: &str| {
            StoreError::new(format!(
                "the state of `{user_id}` in the DynamoDB table `{}` has {what}; was it written by another program?",
                self.table
            ))
        };
        let text =
            |name: &str| item.get(name).and_then(|v| v.as_s().ok()).ok_or_else(|| bad(&format!("no `{name}` string")));
        self.check_layout(user_id, item).map_err(|e| e.unwrap_or_else(|| bad("no layout version `v`")))?;
        let raw_timestamp = text("timestamp")?.clone();
        let timestamp = DateTime::parse_from_rfc3339(&raw_timestamp)
            .map_err(|_| bad("a `timestamp` that is not RFC 3339"))?
            .with_timezone(&Utc);
        let request_id = text("request_id")?.clone();
        if item.get("tombstone").and_then(|v| v.as_bool().ok()) == Some(&true) {
            let tombstone = Tombstone { user_id: user_id.clone(), timestamp, request_id };
            return Ok(Loaded { row: Row::Tombstone(tombstone), raw_timestamp });
        }
        let events = match item.get("events") {
            Some(AttributeValue::L(list)) => list
                .iter()
                .map(|v| {
                    v.as_s()
                        .map(|name| SubscribedEvent::new(name))
                        .map_err(|_| bad("an event name that is not a string"))
                })
                .collect::<Result<BTreeSet<_>, _>>()?,
            _ => return Err(bad("no `events` list")),
        };
        let api_endpoint = text("api_endpoint")?.clone();
        let state = UserSubscriptions { user_id: user_id.clone(), events, timestamp, request_id, api_endpoint };
        Ok(Loaded { row: Row::State(state), raw_timestamp })
    }

    /// `Err(None)` when the item has no layout version.
    fn check_layout(&self, user_id: &UserId, item: &HashMap<String, AttributeValue>) -> Result<(), Option<StoreError>> {
        match item.get("v").and_then(|v| v.as_s().ok()) {
            Some(layout) if layout == LAYOUT => Ok(()),
            Some(other) => Err(Some(StoreError::new(format!(
                "the state of `{user_id}` in the DynamoDB table `{}` is in layout {other}, but this version of \
                 proactive-aws reads layout {LAYOUT}",
                self.table
            )))),
            None => Err(None),
        }
    }

    /// Refuses a state beyond the store's limits, before anything is read.
    fn check_limits(&self, state: &UserSubscriptions) -> Result<(), StoreError> {
        if state.events.len() > MAX_EVENTS_PER_USER {
            return Err(StoreError::refused(format!(
                "the request for `{}` names {} events; the DynamoDB store keeps at most {MAX_EVENTS_PER_USER} per user",
                state.user_id,
                state.events.len()
            )));
        }
        if let Some(long) = state.events.iter().find(|e| e.as_str().len() > MAX_EVENT_NAME_BYTES) {
            return Err(StoreError::refused(format!(
                "the request for `{}` names an event of {} bytes; the DynamoDB store keeps event names of at most \
                 {MAX_EVENT_NAME_BYTES} bytes",
                state.user_id,
                long.as_str().len()
            )));
        }
        Ok(())
    }

    /// The transaction that replaces `stored` (what was read) with `state`.
    fn replace(
        &self,
        state: &UserSubscriptions,
        loaded: Option<&Loaded>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let stored = loaded.and_then(Loaded::state);
        let events: Vec<AttributeValue> =
            state.events.iter().map(|e| AttributeValue::S(e.as_str().to_owned())).collect();
        let mut put = Put::builder()
            .table_name(&*self.table)
            .item("pk", user_key(&state.user_id))
            .item("sk", AttributeValue::S("state".to_owned()))
            .item("v", AttributeValue::S(LAYOUT.to_owned()))
            .item("events", AttributeValue::L(events))
            .item("timestamp", AttributeValue::S(timestamp(state.timestamp)))
            .item("request_id", AttributeValue::S(state.request_id.clone()))
            .item("api_endpoint", AttributeValue::S(state.api_endpoint.clone()));
        put = match loaded {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(loaded) => unchanged_since(put, loaded),
        };
        let mut items =
            vec![TransactWriteItem::builder().put(put.build().map_err(|e| self.error("prepare a write", e))?).build()];
        let before = stored.map(|s| &s.events);
        let moved = stored.is_some_and(|s| s.api_endpoint != state.api_endpoint);
        for event in before.into_iter().flatten().filter(|e| !state.events.contains(*e)) {
            items.push(self.delete_subscription(event, &state.user_id)?);
        }
        for event in state.events.iter().filter(|e| moved || !before.is_some_and(|b| b.contains(*e))) {
            let put = Put::builder()
                .table_name(&*self.table)
                .item("pk", event_key(event))
                .item("sk", AttributeValue::S(state.user_id.as_str().to_owned()))
                .item("api_endpoint", AttributeValue::S(state.api_endpoint.clone()))
                .build()
                .map_err(|e| self.error("prepare a write", e))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        Ok(items)
    }

    fn delete_subscription(&self, event: &SubscribedEvent, user_id: &UserId) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&*self.table)
            .key("pk", event_key(event))
            .key("sk", AttributeValue::S(user_id.as_str().to_owned()))
            .build()
            .map_err(|e| self.error("prepare a write", e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Runs one transaction: `Ok(true)` when written, `Ok(false)` when another
    /// writer changed the user first (read again and decide again).
    async fn write(&self, items: Vec<TransactWriteItem>, doing: &str) -> Result<bool, StoreError> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(error) if is_conflict(&error) => Ok(false),
            Err(error) => Err(self.error(doing, error)),
        }
    }
}

/// What a user's state item held when it was read.
struct Loaded {
    row: Row,
    /// The `timestamp` attribute exactly as stored, for the write's condition:
    /// the instant is what orders states, the text is what DynamoDB compares.
    raw_timestamp: String,
}

enum Row {
    State(UserSubscriptions),
    Tombstone(Tombstone),
}

impl Loaded {
    fn state(&self) -> Option<&UserSubscriptions> {
        match &self.row {
            Row::State(state) => Some(state),
            Row::Tombstone(_) => None,
        }
    }

    fn request_id(&self) -> &str {
        match &self.row {
            Row::State(state) => &state.request_id,
            Row::Tombstone(tombstone) => &tombstone.request_id,
        }
    }
}

/// Adds the condition "the state row is still what was read" to `put`.
fn unchanged_since(
    put: aws_sdk_dynamodb::types::builders::PutBuilder,
    loaded: &Loaded,
) -> aws_sdk_dynamodb::types::builders::PutBuilder {
    put.condition_expression("#ts = :ts AND request_id = :rid")
        .expression_attribute_names("#ts", "timestamp")
        .expression_attribute_values(":ts", AttributeValue::S(loaded.raw_timestamp.clone()))
        .expression_attribute_values(":rid", AttributeValue::S(loaded.request_id().to_owned()))
}

fn user_key(user_id: &UserId) -> AttributeValue {
    AttributeValue::S(format!("user#{user_id}"))
}

fn event_key(event: &SubscribedEvent) -> AttributeValue {
    AttributeValue::S(format!("event#{event}"))
}

/// Exact to the nanosecond, so that the stored order is the order in memory.
fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Whether a transaction failed because another writer changed the user first
/// (its condition failed, or DynamoDB saw two transactions on one item).
fn is_conflict<R>(error: &SdkError<TransactWriteItemsError, R>) -> bool {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(canceled)) => canceled
            .cancellation_reasons()
            .iter()
            .any(|reason| matches!(reason.code(), Some("ConditionalCheckFailed" | "TransactionConflict"))),
        Some(TransactWriteItemsError::TransactionInProgressException(_)) => true,
        _ => false,
    }
}

/// A short random pause before trying again after a conflict, so that writers
/// of one user do not collide in step.
async fn back_off(conflicts: u32) {
    let ceiling = 2u64.saturating_pow(conflicts.min(6)).min(50);
    let millis = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % ceiling.max(1);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

impl DynamoDbStore {
    /// The transaction that replaces what was read with `tombstone`.
    fn bury(&self, tombstone: &Tombstone, loaded: Option<&Loaded>) -> Result<Vec<TransactWriteItem>, StoreError> {
        let expires_at = (tombstone.timestamp + TOMBSTONE_TTL).timestamp();
        let mut put = Put::builder()
            .table_name(&*self.table)
            .item("pk", user_key(&tombstone.user_id))
            .item("sk", AttributeValue::S("state".to_owned()))
            .item("v", AttributeValue::S(LAYOUT.to_owned()))
            .item("tombstone", AttributeValue::Bool(true))
            .item("timestamp", AttributeValue::S(timestamp(tombstone.timestamp)))
            .item("request_id", AttributeValue::S(tombstone.request_id.clone()))
            .item(TTL_ATTRIBUTE, AttributeValue::N(expires_at.to_string()));
        put = match loaded {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(loaded) => unchanged_since(put, loaded),
        };
        let put = put.build().map_err(|e| self.error("prepare a write", e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        for event in loaded.and_then(Loaded::state).into_iter().flat_map(|state| &state.events) {
            items.push(self.delete_subscription(event, &tombstone.user_id)?);
        }
        Ok(items)
    }

    /// A subscription item as a subscriber, or `None` (with a warning) when it
    /// cannot be read.
    fn subscriber(&self, event: &SubscribedEvent, item: &HashMap<String, AttributeValue>) -> Option<Subscriber> {
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
        let user = text("sk").map(|sk| (sk, UserId::new(sk)));
        match (user, text("api_endpoint")) {
            (Some((_, Ok(user_id))), Some(api_endpoint)) => {
                Some(Subscriber { user_id, api_endpoint: api_endpoint.clone() })
            }
            (user, _) => {
                let sk = user.map_or("", |(sk, _)| sk);
                tracing::warn!(
                    table = %self.table,
                    event = %event,
                    sk = %sk.chars().take(300).collect::<String>(),
                    "skipped a subscription item without a valid user id in `sk` or without `api_endpoint`"
                );
                None
            }
        }
    }

    /// The cursor of the next page, from a query's `LastEvaluatedKey`.
    fn cursor(&self, key: Option<&HashMap<String, AttributeValue>>) -> Result<Option<UserId>, StoreError> {
        let Some(sk) = key.and_then(|key| key.get("sk")).and_then(|v| v.as_s().ok()) else { return Ok(None) };
        UserId::new(sk).map(Some).map_err(|e| {
            StoreError::with_source(
                format!("the DynamoDB table `{}` holds a subscription whose `sk` is not a user id", self.table),
                e,
            )
        })
    }
}

impl SubscriptionStore for DynamoDbStore {
    async fn apply(&self, state: UserSubscriptions) -> Result<Applied, StoreError> {
        self.check_limits(&state)?;
        // The SDK retries a transaction with the same client request token, so
        // a write whose answer was lost is not made twice; a conflict is
        // decided again from a fresh read.
        for conflicts in 0..=MAX_CONFLICTS {
            let loaded = self.load(&state.user_id).await?;
            match loaded.as_ref().map(|loaded| &loaded.row) {
                Some(Row::State(stored)) if !state.supersedes(stored) => {
                    return Ok(Applied::Stale { stored: stored.clone() });
                }
                Some(Row::Tombstone(tombstone)) if !tombstone.is_superseded_by(&state) => {
                    return Ok(Applied::Disabled { tombstone: tombstone.clone() });
                }
                _ => {}
            }
            let items = self.replace(&state, loaded.as_ref())?;
            if self.write(items, &format!("store the subscriptions of `{}`", state.user_id)).await? {
                return Ok(Applied::Stored { previous: loaded.and_then(|loaded| loaded.state().cloned()) });
            }
            back_off(conflicts).await;
        }
        Err(StoreError::new(format!(
            "could not store the subscriptions of `{}` in the DynamoDB table `{}`: other writers changed the user \
             {MAX_CONFLICTS} times in a row",
            state.user_id, self.table
        )))
    }

    async fn get(&self, user_id: &UserId) -> Result<Option<UserSubscriptions>, StoreError> {
        Ok(self.load(user_id).await?.and_then(|loaded| loaded.state().cloned()))
    }

    async fn subscribers_page(
        &self,
        event: &SubscribedEvent,
        after: Option<&UserId>,
        limit: usize,
    ) -> Result<SubscriberPage, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&*self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", event_key(event))
            .consistent_read(true)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX));
        if let Some(after) = after {
            query = query
                .exclusive_start_key("pk", event_key(event))
                .exclusive_start_key("sk", AttributeValue::S(after.as_str().to_owned()));
        }
        let output = query.send().await.map_err(|e| self.error(&format!("list the subscribers of `{event}`"), e))?;
        let subscribers = output.items().iter().filter_map(|item| self.subscriber(event, item)).collect();
        Ok(SubscriberPage { subscribers, next: self.cursor(output.last_evaluated_key())? })
    }

    async fn disable(&self, tombstone: Tombstone) -> Result<Disabled, StoreError> {
        let user_id = &tombstone.user_id;
        for conflicts in 0..=MAX_CONFLICTS {
            let loaded = self.load(user_id).await?;
            match loaded.as_ref().map(|loaded| &loaded.row) {
                Some(Row::State(stored)) if !tombstone.supersedes(stored) => {
                    return Ok(Disabled::Stale { stored: stored.clone() });
                }
                Some(Row::Tombstone(kept))
                    if (kept.timestamp, &kept.request_id) >= (tombstone.timestamp, &tombstone.request_id) =>
                {
                    return Ok(Disabled::Removed { previous: None });
                }
                _ => {}
            }
            let items = self.bury(&tombstone, loaded.as_ref())?;
            if self.write(items, &format!("remove `{user_id}`, who disabled the skill")).await? {
                return Ok(Disabled::Removed { previous: loaded.and_then(|loaded| loaded.state().cloned()) });
            }
            back_off(conflicts).await;
        }
        Err(StoreError::new(format!(
            "could not remove `{user_id}` from the DynamoDB table `{}`: other writers changed the user \
             {MAX_CONFLICTS} times in a row",
            self.table
        )))
    }

    async fn purge_tombstones(&self, _older_than: DateTime<Utc>) -> Result<u64, StoreError> {
        // DynamoDB's time to live deletes them (see the type's docs).
        Ok(0)
    }
}
