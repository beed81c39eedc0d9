//! Compile-fail tests: what the compiler refuses, and the messages it gives.
//!
//! The `.stderr` files pin rustc's output; update them with
//! `TRYBUILD=overwrite cargo test -p proactive-tests --test compile_fail` and
//! read the diff before committing.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/builder/*.rs");
    // One folder per kind of mistake in `#[derive(ProactiveEvent)]`.
    t.compile_fail("tests/ui/derive/*/*.rs");
    // Derived structs that must compile without a warning under strict lints.
    t.pass("tests/ui/derive-pass/*.rs");
}
