//! A local AWS for tests: moto's server on a free loopback port (the `moto`
//! feature).
//!
//! Needs Python with `moto[server]` (`pip install 'moto[server]'`). The server
//! is a child process that ends when the [`Moto`] is dropped, or when this
//! process ends (it exits when its standard input closes), so a test that
//! panics leaves nothing running.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use proactive_aws::moto::Moto;
//!
//! let moto = Moto::start()?;
//! let config = moto.sdk_config().await;
//! let store = proactive_aws::DynamoDbStore::create_table(
//!     proactive_aws::aws_sdk_dynamodb::Client::new(&config),
//!     "subscriptions-test",
//! )
//! .await?;
//! # Ok(())
//! # }
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::BehaviorVersion;
use aws_sdk_sqs::config::{Credentials, Region};

/// Starts moto's threaded server on 127.0.0.1, port 0, prints the port, and
/// serves until standard input closes.
///
/// Two fixes to moto's DynamoDB, which its server runs on many threads without
/// a lock: requests are serialized (so that a transaction is atomic, as in
/// DynamoDB, and concurrent writers cannot corrupt a table), and the rollback
/// copy a transaction takes of each table shares the items instead of copying
/// them deeply (a transaction only puts and deletes whole items; without this
/// each one costs time in proportion to the table).
const SERVER: &str = "
import copy, sys, threading
from collections import defaultdict
from moto.server import ThreadedMotoServer
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

lock = threading.Lock()
call_action = DynamoHandler.call_action
def serialized(self):
    with lock:
        return call_action(self)
DynamoHandler.call_action = serialized

def rollback_copy(self, memo):
    table = copy.copy(self)
    table.items = defaultdict(dict, {
        key: dict(value) if isinstance(value, dict) else value for key, value in self.items.items()
    })
    return table
Table.__deepcopy__ = rollback_copy

server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
";

/// A running moto server. Stops on drop.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    // Closing it tells the server to exit.
    _stdin: ChildStdin,
    endpoint: String,
}

/// moto's server could not be started.
#[derive(Debug, thiserror::Error)]
#[error("could not start moto's server with `{python}`: {reason}; install it with `pip install 'moto[server]'`")]
pub struct MotoError {
    python: String,
    reason: String,
}

impl Moto {
    /// Starts a server with `$MOTO_PYTHON`, or `python3`.
    pub fn start() -> Result<Self, MotoError> {
        let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let fail = |reason: String| MotoError { python: python.clone(), reason };
        let mut child = Command::new(&python)
            .args(["-c", SERVER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(e.to_string()))?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(fail("no pipe to the child".to_owned()));
        };
        // The server logs every request on stderr: drain it (keeping the last
        // line for an error), or it blocks once the pipe is full.
        let last_error = Arc::new(Mutex::new(String::new()));
        let keep = Arc::clone(&last_error);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !line.trim().is_empty() {
                    *keep.lock().unwrap_or_else(PoisonError::into_inner) = line;
                }
            }
        });
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let Ok(port) = line.trim().parse::<u16>() else {
            let _ = child.kill();
            let _ = child.wait();
            // Give the drain a moment to read the traceback's last line.
            std::thread::sleep(std::time::Duration::from_millis(200));
            let last = last_error.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let reason = if last.is_empty() { "it printed no port".to_owned() } else { last.trim().to_owned() };
            return Err(fail(reason));
        };
        Ok(Self { child, _stdin: stdin, endpoint: format!("http://127.0.0.1:{port}") })
    }

    /// [`start`](Self::start) for a test: `None`, after a loud message on
    /// standard error, when the server cannot start, so that the test can
    /// return early; with `PROACTIVE_REQUIRE_MOTO=1` in the environment (as in
    /// CI) it panics instead, so that no AWS test is skipped silently there.
    pub fn start_or_skip() -> Option<Self> {
        match Self::start() {
            Ok(moto) => Some(moto),
            Err(error) if std::env::var_os("PROACTIVE_REQUIRE_MOTO").is_some_and(|v| v == "1") => {
                panic!("PROACTIVE_REQUIRE_MOTO=1 but {error}")
            }
            Err(error) => {
                eprintln!("\n*** SKIPPED: this test needs a local AWS, and {error} ***\n");
                None
            }
        }
    }

    /// The endpoint URL of every service, such as `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An AWS configuration that reaches this server only: dummy credentials,
    /// region `us-east-1`, and the endpoint set explicitly, so that nothing can
    /// reach real AWS.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(crate::https_client())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .endpoint_url(&self.endpoint)
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
