//! Integration and compile-fail tests for the proactive workspace; the tests live in `tests/`.
//!
//! The library holds what several test files share: the local AWS (moto's
//! server) that the AWS tests run against.

use std::sync::OnceLock;

use proactive_aws::moto::Moto;

/// The moto server of this test process, started on first use; `None`, after a
/// loud message, when it cannot start (Python or `moto[server]` missing).
///
/// With `PROACTIVE_REQUIRE_MOTO=1` (as `.ci/run` sets) a server that cannot
/// start fails the test instead: CI never skips the AWS tests silently.
/// Each test makes its own tables and queues on it ([`unique_name`]).
pub fn moto() -> Option<&'static Moto> {
    static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();
    match MOTO.get_or_init(|| Moto::start().map_err(|e| e.to_string())) {
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

/// A table or queue name no other test of this process uses.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
