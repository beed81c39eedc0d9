//! Neither the client secret nor a token appears in tracing output or in any
//! `Debug` or `Display` string. Alone in its test binary, so that no other test
//! runs while its subscriber captures (tracing caches callsite interest per
//! process).

#[path = "client/events.rs"]
mod events;
#[path = "client/secrets.rs"]
mod secrets;
#[path = "client/server.rs"]
#[allow(dead_code)]
mod server;

use events::{envelope, expired_envelope};
