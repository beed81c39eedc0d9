//! `#[derive(ProactiveEvent)]`, re-exported by `proactive-core`.
//!
//! The derive knows Amazon's schemas through a table that `cargo xtask regen`
//! generates from `proactive-schemas/schemas/*.json` (`src/generated/table.rs`).

#[rustfmt::skip]
#[allow(unreachable_pub, reason = "generated for two crates; private here")]
mod generated {
    pub(crate) mod table;
}
