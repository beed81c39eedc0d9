//! `dynamodb-stand-in`: a stand-in for Amazon DynamoDB on loopback, for
//! benchmarks only.
//!
//! It speaks DynamoDB's JSON protocol (what the AWS SDKs use), keeps tables in
//! memory (items by partition key, then sort key, as the caller wrote them),
//! and checks no signature. It does only what `proactive queue fanout` and the
//! seeding of `bench/queue-bench.sh` call (CreateTable, DescribeTable,
//! GetItem, PutItem, a Query of one partition page by page, BatchWriteItem of
//! puts), on one thread, so that a benchmark measures the fan-out rather than
//! DynamoDB (moto, the local AWS of the tests, is much slower: its Query is
//! what holds a fan-out back). It is not an emulator: conditions,
//! filters, projections, indexes, the 1 MB limit of a page and capacity are
//! not there, and a request that asks for them is refused by name. Use moto for
//! the semantics.
//!
//! ```text
//! dynamodb-stand-in [--listen 127.0.0.1:0]    (or $DYNAMODB_STAND_IN_LISTEN)
//! ```
//!
//! It prints its base URL (`http://127.0.0.1:PORT`) on the first line of
//! standard output: the endpoint URL of a DynamoDB client.

mod protocol;
mod table;

use std::future::Future;
use std::process::ExitCode;

use sqs_stand_in::{Api, ApiError};

use protocol::Tables;

impl Api for Tables {
    const BINARY: &'static str = "dynamodb-stand-in";
    const SERVICE: &'static str = "DynamoDB";
    const LISTEN_VAR: &'static str = "DYNAMODB_STAND_IN_LISTEN";
    const EXAMPLE_ADDRESS: &'static str = "127.0.0.1:8000";
    const TARGET_PREFIX: &'static str = "DynamoDB_20120810.";
    const ERROR_PREFIX: &'static str = "com.amazonaws.dynamodb.v20120810#";

    fn answer(&self, operation: &str, body: &[u8]) -> impl Future<Output = Result<Vec<u8>, ApiError>> + Send {
        std::future::ready(protocol::answer(self, operation, body))
    }
}

fn main() -> ExitCode {
    sqs_stand_in::main(|_base| Tables::default())
}
