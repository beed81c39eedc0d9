//! Alexa Proactive Events on AWS: a DynamoDB subscription store, an SQS
//! producer, an SQS consumer for AWS Lambda and a long-polling worker for
//! containers.
//!
//! `proactive-core` works on one machine: subscriptions in SQLite, a send from
//! a file. A skill on Lambda has no file that survives, and a fan-out to a
//! million users should not depend on one process staying up. This crate puts
//! the same pieces on the AWS services a skill already uses:
//!
//! ```text
//!  business events ──▶ SqsProducer ──▶ SQS queue ──▶ Worker / SqsHandler (Lambda) ──▶ Amazon
//!                      (envelopes,     at least       (one Client per process,
//!                       stable ids)    once            409 = already delivered)
//!                                                            │ refusals, with the reason
//!                                                            ▼
//!                                                      dead-letter queue
//! ```
//!
//! - [`DynamoDbStore`]: a [`SubscriptionStore`](proactive_core::subscription::SubscriptionStore)
//!   in one DynamoDB table, with conditional writes so that the newest state per
//!   user wins under any concurrency (see its docs for the table layout).
//! - [`SqsProducer`]: validates envelopes and enqueues them in batches of 10,
//!   each message carrying its region; [`stable_reference_id`] derives an
//!   envelope's referenceId from an (event key, user) pair, so that an event
//!   enqueued twice is delivered once.
//! - [`enqueue_fanout`]: every subscriber of an event in the [`DynamoDbStore`]
//!   onto the queue, a page at a time, with a checkpoint in the same table so
//!   that an interrupted fan-out resumes after the last page it enqueued.
//! - [`SqsHandler`]: the Lambda consumer (`lambda_runtime` + `aws_lambda_events`),
//!   answering with partial batch failures.
//! - [`Worker`]: the long-polling consumer, with bounded concurrency, visibility
//!   extended while a send retries, and graceful shutdown.
//!
//! Delivery is at least once from the queue and once at Amazon: a message
//! received again after a crash is sent again with the same referenceId, and
//! Amazon's 409 for it counts as delivered.
//!
//! The AWS SDK is built without its default HTTPS client (which needs
//! aws-lc-rs, CMake and a long C build): [`https_client`] is rustls with ring,
//! the TLS stack of the proactive client, and [`sdk_config`] loads the usual
//! credential and region chain over it.

mod dead_letter;
mod delivery;
mod fanout;
#[cfg(feature = "lambda")]
pub mod function;
mod lambda;
mod message;
#[cfg(feature = "moto")]
pub mod moto;
pub mod observe;
mod producer;
mod secret;
mod store;
mod worker;

pub use aws_config;
pub use aws_lambda_events;
pub use aws_sdk_dynamodb;
pub use aws_sdk_secretsmanager;
pub use aws_sdk_sqs;
pub use aws_sdk_ssm;
pub use lambda_runtime;

pub use dead_letter::{DeadLetter, DeadLetterError, DeadLetterSink, MemoryDeadLetters, SqsDeadLetters};
pub use delivery::{Delivery, Disposition};
pub use fanout::{Checkpoint, FanoutError, FanoutOptions, FanoutReport, enqueue_fanout};
pub use lambda::SqsHandler;
pub use message::{MAX_MESSAGE_BYTES, REGION_ATTRIBUTE, stable_reference_id};
pub use producer::{EnqueueError, EnqueueReport, Refused, RefusedReason, SqsProducer};
pub use secret::{SecretError, SecretSource};
pub use store::{DynamoDbStore, MAX_EVENT_NAME_BYTES, MAX_EVENTS_PER_USER, TTL_ATTRIBUTE};
pub use worker::{Worker, WorkerConfig, WorkerError, WorkerSummary, shutdown_signal};

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// The HTTP client for the AWS SDK: HTTPS with rustls and the `ring` crypto
/// provider (the SDK's default client needs aws-lc-rs, which needs CMake).
/// Roots are the system's (`rustls-native-certs`).
pub fn https_client() -> aws_sdk_sqs::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// The AWS configuration from the environment (credentials and region from the
/// usual chain: environment variables, profile, web identity, ECS, IMDS), over
/// [`https_client`]. With `endpoint_url`, every service is reached there
/// instead of AWS (a local emulation such as moto's server).
///
/// ```no_run
/// # async fn run() {
/// let config = proactive_aws::sdk_config(None).await;
/// let dynamodb = proactive_aws::aws_sdk_dynamodb::Client::new(&config);
/// let store = proactive_aws::DynamoDbStore::new(dynamodb, "proactive-subscriptions");
/// # }
/// ```
pub async fn sdk_config(endpoint_url: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
