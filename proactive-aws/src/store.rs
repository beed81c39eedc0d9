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
    TransactWriteItem,
};
use chrono::{DateTime, SecondsFormat, Utc};
use proactive_core::UserId;
use proactive_core::subscription::{
    Applied, StoreError, SubscribedEvent, Subscriber, SubscriptionStore, UserSubscriptions,
};

/// The layout this version writes in every state row (`v`); a row with another
/// value is refused rather than misread.
const LAYOUT: &str = "1";
/// DynamoDB's limit on the items of one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;
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
/// | one subscription | `event#` + event name | user id | `api_endpoint` |
///
/// Why item-per-subscription, and not a list of events on the user's item with
/// a secondary index: an index cannot key on the members of a list or set, so
/// listing an event's subscribers would be a full table scan. With one item per
/// (event, user), [`subscribers`](SubscriptionStore::subscribers) is one
/// strongly consistent `Query` on the partition `event#NAME`, already sorted by
/// user id and read page by page, whatever the size of the table; a global
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
/// A user can be subscribed to at most 98 events at once (DynamoDB's limit of
/// 100 items per transaction); Amazon has 8.
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
        Ok(store)
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn error(&self, doing: &str, source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> StoreError {
        StoreError::with_source(format!("could not {doing} in the DynamoDB table `{}`", self.table), source)
    }

    /// The state row of `user_id`, read consistently.
    async fn load(&self, user_id: &UserId) -> Result<Option<UserSubscriptions>, StoreError> {
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

    fn decode(
        &self,
        user_id: &UserId,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<UserSubscriptions, StoreError> {
        let bad = |what: &str| {
            StoreError::new(format!(
                "the state of `{user_id}` in the DynamoDB table `{}` has {what}; was it written by another program?",
                self.table
            ))
        };
        let text =
            |name: &str| item.get(name).and_then(|v| v.as_s().ok()).ok_or_else(|| bad(&format!("no `{name}` string")));
        match item.get("v").and_then(|v| v.as_s().ok()) {
            Some(layout) if layout == LAYOUT => {}
            Some(other) => {
                return Err(StoreError::new(format!(
                    "the state of `{user_id}` in the DynamoDB table `{}` is in layout {other}, but this version of \
                     proactive-aws reads layout {LAYOUT}",
                    self.table
                )));
            }
            None => return Err(bad("no layout version `v`")),
        }
        let timestamp = DateTime::parse_from_rfc3339(text("timestamp")?)
            .map_err(|_| bad("a `timestamp` that is not RFC 3339"))?
            .with_timezone(&Utc);
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
        Ok(UserSubscriptions {
            user_id: user_id.clone(),
            events,
            timestamp,
            request_id: text("request_id")?.clone(),
            api_endpoint: text("api_endpoint")?.clone(),
        })
    }

    /// The transaction that replaces `stored` (what was read) with `state`.
    fn replace(
        &self,
        state: &UserSubscriptions,
        stored: Option<&UserSubscriptions>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
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
        put = match stored {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(stored) => unchanged_since(put, stored),
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
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::new(format!(
                "`{}` changes {} subscriptions at once; the DynamoDB store writes at most {} in one transaction",
                state.user_id,
                items.len() - 1,
                MAX_TRANSACTION_ITEMS - 1
            )));
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

/// Adds the condition "the state row is still `stored`" to `put`.
fn unchanged_since(
    put: aws_sdk_dynamodb::types::builders::PutBuilder,
    stored: &UserSubscriptions,
) -> aws_sdk_dynamodb::types::builders::PutBuilder {
    put.condition_expression("#ts = :ts AND request_id = :rid")
        .expression_attribute_names("#ts", "timestamp")
        .expression_attribute_values(":ts", AttributeValue::S(timestamp(stored.timestamp)))
        .expression_attribute_values(":rid", AttributeValue::S(stored.request_id.clone()))
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

impl SubscriptionStore for DynamoDbStore {
    async fn apply(&self, state: UserSubscriptions) -> Result<Applied, StoreError> {
        // The SDK retries a transaction with the same client request token, so
        // a write whose answer was lost is not made twice; a conflict is
        // decided again from a fresh read.
        for conflicts in 0..=MAX_CONFLICTS {
            let stored = self.load(&state.user_id).await?;
            if let Some(stored) = stored.as_ref().filter(|stored| !state.supersedes(stored)) {
                return Ok(Applied::Stale { stored: stored.clone() });
            }
            let items = self.replace(&state, stored.as_ref())?;
            if self.write(items, &format!("store the subscriptions of `{}`", state.user_id)).await? {
                return Ok(Applied::Stored { previous: stored });
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
        self.load(user_id).await
    }

    async fn subscribers(&self, event: &SubscribedEvent) -> Result<Vec<Subscriber>, StoreError> {
        let doing = format!("list the subscribers of `{event}`");
        let mut pages = self
            .client
            .query()
            .table_name(&*self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", event_key(event))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut subscribers = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| self.error(&doing, e))?;
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
            let (Some(user), Some(api_endpoint)) = (text("sk"), text("api_endpoint")) else {
                return Err(StoreError::new(format!(
                    "a subscription of `{event}` in the DynamoDB table `{}` lacks `sk` or `api_endpoint`",
                    self.table
                )));
            };
            let user_id = UserId::new(user).map_err(|e| {
                StoreError::with_source(format!("the DynamoDB table `{}` holds an invalid user id", self.table), e)
            })?;
            subscribers.push(Subscriber { user_id, api_endpoint: api_endpoint.clone() });
        }
        Ok(subscribers)
    }

    async fn delete(&self, user_id: &UserId) -> Result<Option<UserSubscriptions>, StoreError> {
        for conflicts in 0..=MAX_CONFLICTS {
            let Some(stored) = self.load(user_id).await? else { return Ok(None) };
            let state = Delete::builder()
                .table_name(&*self.table)
                .key("pk", user_key(user_id))
                .key("sk", AttributeValue::S("state".to_owned()))
                .condition_expression("#ts = :ts AND request_id = :rid")
                .expression_attribute_names("#ts", "timestamp")
                .expression_attribute_values(":ts", AttributeValue::S(timestamp(stored.timestamp)))
                .expression_attribute_values(":rid", AttributeValue::S(stored.request_id.clone()))
                .build()
                .map_err(|e| self.error("prepare a delete", e))?;
            let mut items = vec![TransactWriteItem::builder().delete(state).build()];
            for event in &stored.events {
                items.push(self.delete_subscription(event, user_id)?);
            }
            if self.write(items, &format!("delete `{user_id}`")).await? {
                return Ok(Some(stored));
            }
            back_off(conflicts).await;
        }
        Err(StoreError::new(format!(
            "could not delete `{user_id}` from the DynamoDB table `{}`: other writers changed the user \
             {MAX_CONFLICTS} times in a row",
            self.table
        )))
    }
}
