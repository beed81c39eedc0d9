//! The "A million subscribers" sample of the README: `tests/readme/fanout.rs`
//! is the README's block as printed (checked here), and the test runs its
//! `main`, which starts the sandbox and checks the two deliveries itself.

/// The sample, word for word; `run` calls its `main`.
mod sample {
    include!("../readme/fanout.rs");

    pub(super) fn run() -> Result<(), Box<dyn std::error::Error>> {
        main()
    }
}

/// The block under "## A million subscribers" in README.md.
fn readme_block() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = &readme[readme.find("## A million subscribers").expect("the section")..];
    let start = section.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let block = &section[start..];
    block[..block.find("```\n").expect("the block's end")].to_owned()
}

#[test]
fn the_sample_is_the_readme_block_as_printed() {
    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/readme/fanout.rs")).unwrap();
    assert_eq!(sample, readme_block(), "tests/readme/fanout.rs must be the README's block, unchanged");
}

#[test]
fn the_sample_sends_one_event_to_each_subscriber() {
    // `main` starts its own runtime and asserts the two deliveries itself.
    sample::run().unwrap();
}
