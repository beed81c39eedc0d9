//! The skill's events endpoint on AWS Lambda: checks each skill event (application
//! id and timestamp), then applies it to the DynamoDB table. Settings:
//! `proactive_aws::function`; the stack: `deploy/template.yaml`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Boxed: the future is too deep for the layout query otherwise.
    match Box::pin(proactive_aws::function::events_endpoint()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
