//! `proactive queue fanout`: the envelope of every subscriber of a template's
//! event, read from the DynamoDB store a page at a time, onto the SQS queue,
//! with a checkpoint in the same table so that a run that was interrupted
//! resumes after the last page it enqueued.

use std::time::Instant;

use proactive_aws::{DynamoDbStore, FanoutError, FanoutOptions, SqsProducer, aws_sdk_dynamodb, enqueue_fanout};
use proactive_core::Region;

use super::{QueueArgs, chain, sqs};
use crate::{INVALID, OK, USAGE};

/// Every option of `proactive queue fanout`.
#[derive(clap::Args)]
pub(crate) struct FanoutArgs {
    #[command(flatten)]
    queue: QueueArgs,
    /// The DynamoDB table of the subscription store (`DynamoDbStore`); the fan-out's checkpoint is
    /// kept there too.
    #[arg(long, value_name = "TABLE")]
    table: String,
    /// Reach DynamoDB at this URL instead of --aws-endpoint (a local emulation of DynamoDB beside
    /// another of SQS, as the benchmark runs them).
    #[arg(long, value_name = "URL")]
    dynamodb_endpoint: Option<String>,
    /// What names this business event. Each user's referenceId is made from it and their user id,
    /// and the checkpoint is kept under it: run the same command again after an interruption and it
    /// resumes after the last page it enqueued; once done, it enqueues nothing.
    #[arg(long, value_name = "KEY")]
    event_key: String,
    /// The region of subscribers whose apiEndpoint is not one of Amazon's hosts: na, eu or fe.
    #[arg(long, default_value = "na")]
    default_region: Region,
    /// Subscribers read at once; the checkpoint is written after each page.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    page_size: u32,
    /// Re-stamp the template before the fan-out: timestamp = now, expiryTime = now + its own window.
    #[arg(long)]
    restamp: bool,
    /// The envelope every subscriber gets (its audience and referenceId are replaced).
    #[arg(value_name = "TEMPLATE")]
    template: String,
}

/// Runs `proactive queue fanout`; the exit code.
pub(crate) async fn run(args: FanoutArgs) -> u8 {
    let started = Instant::now();
    let fanout = match crate::fanout::read_template(&args.template, &args.event_key, args.restamp) {
        Ok(fanout) => fanout,
        Err(code) => return code,
    };
    let dynamodb_endpoint = args.dynamodb_endpoint.as_deref().or(args.queue.aws_endpoint.as_deref());
    let config = proactive_aws::sdk_config(dynamodb_endpoint).await;
    let store = DynamoDbStore::new(aws_sdk_dynamodb::Client::new(&config), args.table.clone());
    if let Err(error) = store.check_table().await {
        error!("{}", chain(&error));
        return USAGE;
    }
    let producer = SqsProducer::new(sqs(&args.queue).await, args.queue.queue_url.clone());
    let options = FanoutOptions::default().page_size(args.page_size as usize).default_region(args.default_region);
    let report = match enqueue_fanout(&producer, &store, &fanout, options).await {
        Ok(report) => report,
        Err(error @ FanoutError::AnotherTemplate { .. }) => {
            error!("{error}");
            return USAGE;
        }
        Err(error) => {
            error!("{}; run the same command again to resume after the last page enqueued", chain(&error));
            return USAGE;
        }
    };
    if report.already_done {
        out!("the fan-out `{}` of `{}` is already done: nothing enqueued", args.event_key, fanout.event());
        return OK;
    }
    for refused in &report.refused {
        out!("subscriber {} of this run: not enqueued: {}", refused.index, refused.reason);
    }
    let resumed = report.resumed_after.as_ref().map(|after| format!(", resumed after `{after}`")).unwrap_or_default();
    let elapsed = started.elapsed();
    out!(
        "{} enqueued, {} not enqueued, {} page{}{resumed}; {} ms ({:.0} events/s)",
        report.enqueued,
        report.refused.len(),
        report.pages,
        if report.pages == 1 { "" } else { "s" },
        elapsed.as_millis(),
        report.enqueued as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    if report.enqueued == 0 && report.refused.is_empty() {
        out!("no subscriber of `{}` in the table `{}`: nothing to send", fanout.event(), args.table);
    }
    if report.refused.is_empty() { OK } else { INVALID }
}
