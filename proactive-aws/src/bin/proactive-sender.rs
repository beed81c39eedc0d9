//! The sender on AWS Lambda: sends the envelopes of each SQS batch to Amazon and
//! answers with the `batchItemFailures` to retry. Settings:
//! `proactive_aws::function`; the stack: `deploy/template.yaml`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Boxed: the future is too deep for the layout query otherwise.
    match Box::pin(proactive_aws::function::sender()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
