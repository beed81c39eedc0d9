//! The commands of the README's "The CLI" section that send to the sandbox, run
//! as written: the 300-event `orders.jsonl` bulk example among them.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The `cargo run ... -p proactive-cli -- ARGS` lines of the README's CLI
/// section, as the arguments after `--`.
fn cli_section_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let section = readme.split("\n## The CLI\n").nth(1).expect("a `## The CLI` section");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|line| line.starts_with("cargo run --release -p proactive-cli -- "))
        .map(|line| {
            let command = line.split(" #").next().unwrap();
            let args = command.split_once(" -- ").unwrap().1;
            args.split_whitespace().map(str::to_owned).collect()
        })
        .collect()
}

#[test]
fn the_cli_section_sends_the_bulk_example_to_the_sandbox() {
    let commands = cli_section_commands();
    let bulk: Vec<&Vec<String>> =
        commands.iter().filter(|args| args.iter().any(|arg| arg == "examples/events/orders.jsonl")).collect();
    assert_eq!(bulk.len(), 1, "the CLI section should send orders.jsonl once: {commands:?}");
    let args = bulk[0];
    assert_eq!(args[..2], ["send", "--sandbox"], "{args:?}");

    let output = Command::new(cargo_bin!("proactive")).current_dir(ROOT).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("300 events: 300 accepted"), "{stdout}");
    // More than 20 events, none with a problem: the summary alone.
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}
