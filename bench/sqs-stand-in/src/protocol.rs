//! SQS's JSON protocol (awsJson1_0): the operation in `X-Amz-Target:
//! AmazonSQS.<Operation>`, a JSON body each way, errors as
//! `{"__type": "com.amazonaws.sqs#<Code>", "message": ...}` with status 400.
//!
//! Only what the proactive worker, producer and dead-letter sink call, and what
//! a benchmark needs to watch a queue drain. Queues are created on first use
//! of their name; signatures are not checked.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqs_stand_in::ApiError;

use crate::queue::{Fault, Queue, Received, message_id};

/// The visibility timeout of a queue created without one: SQS's default.
const DEFAULT_VISIBILITY: Duration = Duration::from_secs(30);

/// Every queue, by name.
pub(crate) struct Queues {
    base: String,
    queues: Mutex<HashMap<String, Arc<Queue>>>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError { code: "InvalidParameterValue", message: message.into() }
}

impl Queues {
    /// Queue URLs start with `base` (`http://127.0.0.1:PORT`).
    pub(crate) fn new(base: String) -> Self {
        Self { base, queues: Mutex::default() }
    }

    fn named(&self, name: &str) -> Arc<Queue> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(queues.entry(name.to_owned()).or_insert_with(|| {
            let queue = Queue::default();
            queue.state().visibility = DEFAULT_VISIBILITY;
            Arc::new(queue)
        }))
    }

    /// The queue a URL names: its last path segment.
    fn by_url(&self, url: &str) -> Result<Arc<Queue>, ApiError> {
        match url.trim_end_matches('/').rsplit('/').next() {
            Some(name) if !name.is_empty() && !name.contains(':') => Ok(self.named(name)),
            _ => Err(invalid(format!("`{url}` does not name a queue"))),
        }
    }

    fn url(&self, name: &str) -> String {
        format!("{}/000000000000/{name}", self.base)
    }
}

/// Answers one call: the response body, or a refusal.
pub(crate) async fn answer(queues: &Queues, operation: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let value = match operation {
        "ReceiveMessage" => return receive(queues, parse(body)?).await,
        "DeleteMessageBatch" => delete_batch(queues, parse(body)?)?,
        "SendMessageBatch" => send_batch(queues, parse(body)?)?,
        "SendMessage" => send(queues, parse(body)?)?,
        "DeleteMessage" => delete(queues, parse(body)?)?,
        "ChangeMessageVisibility" => change_visibility(queues, parse(body)?)?,
        "ChangeMessageVisibilityBatch" => change_visibility_batch(queues, parse(body)?)?,
        "CreateQueue" => create_queue(queues, parse(body)?),
        "GetQueueUrl" => {
            let request: GetQueueUrl = parse(body)?;
            json!({"QueueUrl": queues.url(&request.queue_name)})
        }
        "GetQueueAttributes" => attributes(queues, parse(body)?)?,
        "PurgeQueue" => {
            let request: QueueOnly = parse(body)?;
            queues.by_url(&request.queue_url)?.state().purge();
            json!({})
        }
        other => {
            return Err(ApiError {
                code: "UnsupportedOperation",
                message: format!("the SQS stand-in does not implement `{other}`"),
            });
        }
    };
    Ok(value.to_string().into_bytes())
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| invalid(format!("the request body is not what the operation takes: {e}")))
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueOnly {
    queue_url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetQueueUrl {
    queue_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateQueue {
    queue_name: String,
    #[serde(default)]
    attributes: HashMap<String, String>,
}

fn create_queue(queues: &Queues, request: CreateQueue) -> Value {
    let queue = queues.named(&request.queue_name);
    if let Some(seconds) = request.attributes.get("VisibilityTimeout").and_then(|s| s.parse().ok()) {
        queue.state().visibility = Duration::from_secs(seconds);
    }
    json!({"QueueUrl": queues.url(&request.queue_name)})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetQueueAttributes {
    queue_url: String,
}

/// The counts a benchmark watches; other attributes are not kept.
fn attributes(queues: &Queues, request: GetQueueAttributes) -> Result<Value, ApiError> {
    let queue = queues.by_url(&request.queue_url)?;
    let mut state = queue.state();
    let (visible, hidden) = state.counts(Instant::now());
    Ok(json!({"Attributes": {
        "ApproximateNumberOfMessages": visible.to_string(),
        "ApproximateNumberOfMessagesNotVisible": hidden.to_string(),
        "ApproximateNumberOfMessagesDelayed": "0",
        "VisibilityTimeout": state.visibility.as_secs().to_string(),
    }}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendMessage {
    queue_url: String,
    #[serde(flatten)]
    message: NewMessage,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewMessage {
    message_body: String,
    #[serde(default)]
    delay_seconds: u64,
    #[serde(default)]
    message_attributes: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendEntry {
    id: String,
    #[serde(flatten)]
    message: NewMessage,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendMessageBatch {
    queue_url: String,
    entries: Vec<SendEntry>,
}

fn send(queues: &Queues, request: SendMessage) -> Result<Value, ApiError> {
    let queue = queues.by_url(&request.queue_url)?;
    let id = enqueue(&queue, request.message, now_ms());
    queue.arrived.notify_waiters();
    Ok(json!({"MessageId": message_id(id)}))
}

fn send_batch(queues: &Queues, request: SendMessageBatch) -> Result<Value, ApiError> {
    check_batch(request.entries.len())?;
    let queue = queues.by_url(&request.queue_url)?;
    let sent_at = now_ms();
    let successful: Vec<Value> = request
        .entries
        .into_iter()
        .map(|entry| json!({"Id": entry.id, "MessageId": message_id(enqueue(&queue, entry.message, sent_at))}))
        .collect();
    queue.arrived.notify_waiters();
    Ok(json!({"Successful": successful, "Failed": []}))
}

fn enqueue(queue: &Queue, message: NewMessage, sent_at: u64) -> u64 {
    let delay = Duration::from_secs(message.delay_seconds);
    let body = message.message_body.into();
    queue.state().send(body, Arc::new(message.message_attributes), delay, sent_at, Instant::now())
}

fn check_batch(entries: usize) -> Result<(), ApiError> {
    match entries {
        0 => Err(ApiError { code: "EmptyBatchRequest", message: "the batch has no entries".to_owned() }),
        1..=10 => Ok(()),
        n => Err(ApiError { code: "TooManyEntriesInBatchRequest", message: format!("{n} entries; at most 10") }),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiveMessage {
    queue_url: String,
    max_number_of_messages: Option<usize>,
    #[serde(default)]
    wait_time_seconds: u64,
    visibility_timeout: Option<u64>,
    #[serde(default)]
    attribute_names: Vec<String>,
    #[serde(default)]
    message_system_attribute_names: Vec<String>,
    #[serde(default)]
    message_attribute_names: Vec<String>,
}

/// Receives up to the maximum, waiting up to the wait time for a first
/// message (long polling).
async fn receive(queues: &Queues, request: ReceiveMessage) -> Result<Vec<u8>, ApiError> {
    let max = request.max_number_of_messages.unwrap_or(1);
    if !(1..=10).contains(&max) || request.wait_time_seconds > 20 {
        return Err(invalid("MaxNumberOfMessages must be 1 to 10 and WaitTimeSeconds 0 to 20"));
    }
    let queue = queues.by_url(&request.queue_url)?;
    let deadline = Instant::now() + Duration::from_secs(request.wait_time_seconds);
    loop {
        let mut arrived = pin!(queue.arrived.notified());
        arrived.as_mut().enable();
        let (received, next) = {
            let mut state = queue.state();
            let visibility = request.visibility_timeout.map_or(state.visibility, Duration::from_secs);
            (state.receive(max, visibility, Instant::now()), state.next_reveal())
        };
        if !received.is_empty() || Instant::now() >= deadline {
            return Ok(encode_received(&request, &received));
        }
        let wake = next.map_or(deadline, |next| next.min(deadline));
        tokio::select! {
            () = arrived => {}
            () = tokio::time::sleep_until(wake.into()) => {}
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OutMessage<'a> {
    message_id: &'a str,
    receipt_handle: &'a str,
    body: &'a str,
    #[serde(skip_serializing_if = "Map::is_empty")]
    attributes: Map<String, Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    message_attributes: Map<String, Value>,
}

fn encode_received(request: &ReceiveMessage, received: &[Received]) -> Vec<u8> {
    let system: Vec<&str> =
        request.attribute_names.iter().chain(&request.message_system_attribute_names).map(String::as_str).collect();
    let wants = |name: &str| system.iter().any(|s| *s == name || *s == "All");
    let messages: Vec<OutMessage<'_>> = received
        .iter()
        .map(|message| {
            let mut attributes = Map::new();
            if wants("ApproximateReceiveCount") {
                attributes.insert("ApproximateReceiveCount".to_owned(), message.receive_count.to_string().into());
            }
            if wants("SentTimestamp") {
                attributes.insert("SentTimestamp".to_owned(), message.sent_at_ms.to_string().into());
            }
            let message_attributes = message
                .attributes
                .iter()
                .filter(|(name, _)| wanted(&request.message_attribute_names, name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            OutMessage {
                message_id: &message.message_id,
                receipt_handle: &message.receipt_handle,
                body: &message.body,
                attributes,
                message_attributes,
            }
        })
        .collect();
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Out<'a> {
        messages: Vec<OutMessage<'a>>,
    }
    serde_json::to_vec(&Out { messages }).unwrap_or_default()
}

/// Whether a message attribute is asked for: `All`, `.*`, `prefix.*` or its name.
fn wanted(names: &[String], name: &str) -> bool {
    names.iter().any(|n| n == "All" || n == name || n.strip_suffix(".*").is_some_and(|prefix| name.starts_with(prefix)))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteMessage {
    queue_url: String,
    receipt_handle: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteEntry {
    id: String,
    receipt_handle: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteMessageBatch {
    queue_url: String,
    entries: Vec<DeleteEntry>,
}

fn delete(queues: &Queues, request: DeleteMessage) -> Result<Value, ApiError> {
    let queue = queues.by_url(&request.queue_url)?;
    let deleted = queue.state().delete(&request.receipt_handle);
    deleted.map(|()| json!({})).map_err(refused)
}

fn delete_batch(queues: &Queues, request: DeleteMessageBatch) -> Result<Value, ApiError> {
    check_batch(request.entries.len())?;
    let queue = queues.by_url(&request.queue_url)?;
    let mut state = queue.state();
    let results = request.entries.into_iter().map(|entry| (entry.id, state.delete(&entry.receipt_handle)));
    Ok(batch_answer(results))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangeVisibility {
    queue_url: String,
    receipt_handle: String,
    visibility_timeout: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangeVisibilityEntry {
    id: String,
    receipt_handle: String,
    visibility_timeout: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangeVisibilityBatch {
    queue_url: String,
    entries: Vec<ChangeVisibilityEntry>,
}

fn change_visibility(queues: &Queues, request: ChangeVisibility) -> Result<Value, ApiError> {
    let queue = queues.by_url(&request.queue_url)?;
    let timeout = Duration::from_secs(request.visibility_timeout);
    let changed = queue.state().change_visibility(&request.receipt_handle, timeout, Instant::now());
    if changed == Ok(true) {
        queue.arrived.notify_waiters();
    }
    changed.map(|_| json!({})).map_err(refused)
}

fn change_visibility_batch(queues: &Queues, request: ChangeVisibilityBatch) -> Result<Value, ApiError> {
    check_batch(request.entries.len())?;
    let queue = queues.by_url(&request.queue_url)?;
    let now = Instant::now();
    let results: Vec<_> = {
        let mut state = queue.state();
        request
            .entries
            .into_iter()
            .map(|e| {
                let changed =
                    state.change_visibility(&e.receipt_handle, Duration::from_secs(e.visibility_timeout), now);
                (e.id, changed)
            })
            .collect()
    };
    if results.iter().any(|(_, changed)| *changed == Ok(true)) {
        queue.arrived.notify_waiters();
    }
    Ok(batch_answer(results.into_iter().map(|(id, changed)| (id, changed.map(|_| ())))))
}

fn refused(fault: Fault) -> ApiError {
    ApiError { code: fault.code(), message: format!("the receipt handle was refused: {}", fault.code()) }
}

/// `{"Successful": [{"Id"}], "Failed": [{"Id", "Code", "SenderFault", "Message"}]}`.
fn batch_answer(results: impl Iterator<Item = (String, Result<(), Fault>)>) -> Value {
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    for (id, result) in results {
        match result {
            Ok(()) => successful.push(json!({"Id": id})),
            Err(fault) => {
                failed.push(json!({"Id": id, "Code": fault.code(), "SenderFault": true, "Message": fault.code()}))
            }
        }
    }
    json!({"Successful": successful, "Failed": failed})
}
