//! `sqs-stand-in`: a stand-in for Amazon SQS on loopback, for benchmarks only.
//!
//! It speaks SQS's JSON protocol (what the AWS SDKs use), keeps queues in
//! memory, creates a queue the first time its name is used, honours visibility
//! timeouts, delays and long polling, and checks no signature. It does only
//! what `proactive queue send|work` and `bench/queue-bench.sh` call, on one
//! thread, so that a benchmark measures the worker rather than the queue (moto,
//! the local AWS of the tests, is much slower). It is not an emulator: use moto
//! for the semantics.
//!
//! ```text
//! sqs-stand-in [--listen 127.0.0.1:0]    (or $SQS_STAND_IN_LISTEN)
//! ```
//!
//! It prints its base URL (`http://127.0.0.1:PORT`) on the first line of
//! standard output; queue URLs are `BASE/000000000000/NAME`.

mod protocol;
mod queue;

use std::future::Future;
use std::process::ExitCode;

use sqs_stand_in::{Api, ApiError};

use protocol::Queues;

impl Api for Queues {
    const BINARY: &'static str = "sqs-stand-in";
    const SERVICE: &'static str = "SQS";
    const LISTEN_VAR: &'static str = "SQS_STAND_IN_LISTEN";
    const EXAMPLE_ADDRESS: &'static str = "127.0.0.1:9324";
    const TARGET_PREFIX: &'static str = "AmazonSQS.";
    const ERROR_PREFIX: &'static str = "com.amazonaws.sqs#";

    fn answer(&self, operation: &str, body: &[u8]) -> impl Future<Output = Result<Vec<u8>, ApiError>> + Send {
        protocol::answer(self, operation, body)
    }
}

fn main() -> ExitCode {
    sqs_stand_in::main(Queues::new)
}
