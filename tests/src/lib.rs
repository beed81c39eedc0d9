//! Integration and compile-fail tests for the proactive workspace; the tests live in `tests/`.
//!
//! The library holds what several test files share: the local AWS (moto's
//! server) that the AWS tests run against.

use std::sync::OnceLock;

use proactive_aws::moto::Moto;

/// The moto server of this test process, started on first use; `None`, after a
/// loud message, when it cannot start (Python or `moto[server]` missing), and a
/// panic instead with `PROACTIVE_REQUIRE_MOTO=1` (as `.ci/run` sets): see
/// [`Moto::start_or_skip`]. Each test makes its own tables and queues on it
/// ([`unique_name`]).
pub fn moto() -> Option<&'static Moto> {
    static MOTO: OnceLock<Option<Moto>> = OnceLock::new();
    MOTO.get_or_init(Moto::start_or_skip).as_ref()
}

/// A table or queue name no other test of this process uses.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
