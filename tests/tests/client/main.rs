//! The client against real HTTP servers on loopback: a scripted one per test
//! (`server`), and the workspace's sandbox. (The test that captures tracing
//! output is `client_secrets`, alone in its process: tracing's callsite cache is
//! process-wide.)

mod bulk;
mod connections;
mod events;
mod refusals;
mod sandbox;
mod send;
mod server;
mod token;

use events::{envelope, expired_envelope};
