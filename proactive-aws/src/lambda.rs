//! The consumer for AWS Lambda: an SQS event in, partial batch failures out.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::stream::{self, StreamExt};
use lambda_runtime::{LambdaEvent, service_fn};
use tracing::{error, info};

use crate::dead_letter::DeadLetterSink;
use crate::delivery::{Delivery, Disposition, Inbound};
use crate::message::REGION_ATTRIBUTE;

/// How many messages of one batch are sent at once, by default.
const DEFAULT_CONCURRENCY: usize = 16;

/// The Lambda function for an SQS event source: sends each message's envelope
/// and answers with the ids of the messages that failed
/// (`batchItemFailures`), so that only those come back. Enable "Report batch
/// item failures" (`FunctionResponseTypes: ReportBatchItemFailures`) on the
/// event source mapping, or a single failure returns the whole batch.
///
/// Make it once per execution environment, outside the handler, as
/// [`run`](Self::run) does: the [`Client`](proactive_core::client::Client) in
/// its [`Delivery`] keeps one token for every invocation of that environment.
/// Final refusals are written to the dead-letter sink and are not failures
/// (they would only be refused again); a refusal the sink could not keep is
/// a failure, so it comes back rather than being lost.
///
/// ```no_run
/// use proactive_aws::{Delivery, SqsDeadLetters, SqsHandler, aws_sdk_sqs};
/// use proactive_core::client::Client;
///
/// #[tokio::main]
/// async fn main() -> Result<(), proactive_aws::lambda_runtime::Error> {
///     let config = proactive_aws::sdk_config(None).await;
///     let client = Client::builder(std::env::var("ALEXA_CLIENT_ID")?, std::env::var("ALEXA_CLIENT_SECRET")?).build()?;
///     let dead_letters = SqsDeadLetters::new(aws_sdk_sqs::Client::new(&config), std::env::var("DEAD_LETTER_URL")?);
///     SqsHandler::new(Delivery::new(client), dead_letters).run().await
/// }
/// ```
#[derive(Debug)]
pub struct SqsHandler<D> {
    delivery: Delivery,
    dead_letters: D,
    concurrency: usize,
}

impl<D: DeadLetterSink> SqsHandler<D> {
    /// A handler that sends with `delivery` and keeps refusals in `dead_letters`.
    pub fn new(delivery: Delivery, dead_letters: D) -> Self {
        Self { delivery, dead_letters, concurrency: DEFAULT_CONCURRENCY }
    }

    /// How many messages of a batch are sent at once (default 16, at least 1).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Handles one SQS event: every message is sent or dead-lettered, or its id
    /// is in `batch_item_failures`.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let failures: Vec<String> = stream::iter(event.records.iter())
            .map(|message| self.handle_message(message))
            .buffer_unordered(self.concurrency)
            .filter_map(|failed| async move { failed })
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures
            .into_iter()
            .map(|id| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                failure
            })
            .collect();
        response
    }

    /// Handles one message; the id when it failed.
    async fn handle_message(&self, message: &SqsMessage) -> Option<String> {
        let message_id = message.message_id.as_deref().unwrap_or_default();
        let inbound = Inbound {
            message_id,
            body: message.body.as_deref().unwrap_or_default(),
            region: message.message_attributes.get(REGION_ATTRIBUTE).and_then(|a| a.string_value.as_deref()),
            receive_count: message.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1),
        };
        crate::observe::received(message.attributes.get("SentTimestamp").map(String::as_str));
        let (outcome, retries, failed) = match self.delivery.deliver(&inbound).await {
            Disposition::Delivered { duplicate, retries } => {
                (if duplicate { "already_delivered" } else { "accepted" }, retries, None)
            }
            Disposition::DeadLetter(letter) => match self.dead_letters.put(&letter).await {
                Ok(()) => {
                    info!(message_id, kind = %letter.kind, reason = %letter.reason, "dead-lettered");
                    ("dead_lettered", 0, None)
                }
                Err(cause) => {
                    error!(message_id, kind = %letter.kind, reference_id = letter.reference_id.as_deref(), error = %cause, "the dead letter could not be kept; the message comes back");
                    ("released", 0, Some(message_id.to_owned()))
                }
            },
            Disposition::Retry(error) => {
                info!(message_id, error = %error, "not delivered; the message comes back");
                ("released", 0, Some(message_id.to_owned()))
            }
        };
        crate::observe::settled(outcome, retries);
        failed
    }
}

impl<D: DeadLetterSink + 'static> SqsHandler<D> {
    /// Runs the Lambda runtime loop with this handler until the environment is
    /// shut down. Fails at once, before any event, when the dead-letter sink
    /// fails its [`check`](DeadLetterSink::check) (a dead-letter queue that
    /// does not exist): the function's initialization fails, and says why.
    pub async fn run(self) -> Result<(), lambda_runtime::Error> {
        if let Err(cause) = self.dead_letters.check().await {
            error!(error = %cause, "the dead-letter sink cannot take records; not starting");
            return Err(cause.into());
        }
        let handler = Arc::new(self);
        lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
            let handler = Arc::clone(&handler);
            async move { Ok::<_, lambda_runtime::Error>(handler.handle(event.payload).await) }
        }))
        .await
    }
}
