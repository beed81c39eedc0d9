//! Every `rust` block of README.md, built and run as printed (issue 23).
//!
//! The format is described at the top of README.md's source: each sample is a
//! whole program right after a `toml` block holding its `[dependencies]`; a
//! block whose info string is `rust,ignore-fragment` is not a program, and at
//! most three are. New blocks are picked up as they are added.
//!
//! All samples are built as the binaries of one scratch workspace under
//! `target/readme-samples` (one dependency build for all of them, kept between
//! runs), offline, against this workspace's `Cargo.lock`, with each
//! `proactive-*` dependency pointed at this workspace's crate. Each then runs in
//! an empty directory, with a sandbox's URL and credentials in the environment
//! (`ALEXA_CLIENT_ID`, `ALEXA_CLIENT_SECRET`, `PROACTIVE_BASE_URL`,
//! `PROACTIVE_TOKEN_URL`), and must exit 0.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The most blocks that may be fragments.
const MAX_FRAGMENTS: usize = 3;
/// The info string of a block that is not a whole program.
const FRAGMENT: &str = "rust,ignore-fragment";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One fenced code block: its info string, first line number and text.
struct Block {
    info: String,
    line: usize,
    text: String,
}

/// Every fenced block of `markdown`, in order.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, line) in markdown.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block { info: info.trim().to_owned(), line: index + 1, text: String::new() })
            }
            (Some(_), Some(rest)) if rest.trim().is_empty() => blocks.extend(open.take()),
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "README.md ends inside a code block");
    blocks
}

/// A sample program: where it is, its `Cargo.toml` lines and its code.
struct Sample {
    line: usize,
    manifest: String,
    code: String,
}

/// The samples of the README, and how many fragments it has.
fn samples(readme: &str) -> (Vec<Sample>, usize) {
    let blocks = blocks(readme);
    let mut samples = Vec::new();
    let mut fragments = 0;
    for (i, block) in blocks.iter().enumerate() {
        if block.info == FRAGMENT {
            fragments += 1;
            continue;
        }
        if !block.info.starts_with("rust") {
            continue;
        }
        assert_eq!(block.info, "rust", "README.md:{}: a rust block is `rust` or `{FRAGMENT}`", block.line);
        let manifest = i.checked_sub(1).map(|j| &blocks[j]).filter(|b| b.info == "toml").unwrap_or_else(|| {
            panic!("README.md:{}: a sample needs its Cargo.toml lines in a `toml` block right before it", block.line)
        });
        assert!(
            manifest.text.trim_start().starts_with("[dependencies]"),
            "README.md:{}: the toml block before a sample starts with `[dependencies]`",
            manifest.line
        );
        assert!(block.text.contains("fn main("), "README.md:{}: a sample is a whole program with `main`", block.line);
        samples.push(Sample { line: block.line, manifest: manifest.text.clone(), code: block.text.clone() });
    }
    (samples, fragments)
}

/// The `[dependencies]` lines with every `proactive-*` crate taken from this workspace.
fn local_dependencies(manifest: &str, root: &Path) -> String {
    let mut out = String::new();
    for line in manifest.lines() {
        let local = line.split_once(" = ").filter(|(name, _)| name.starts_with("proactive-"));
        match local {
            Some((name, spec)) => {
                let path = root.join(name);
                let path = path.display();
                let spec = spec.trim();
                let rest = match spec.strip_prefix('{') {
                    // `{ version = "0.1", features = [...] }`: the version goes, the rest stays.
                    Some(table) => {
                        let table = table.trim_end_matches('}').trim();
                        let rest: Vec<&str> = table.splitn(2, ", ").collect();
                        assert!(rest[0].starts_with("version = "), "{line}: the version first");
                        rest.get(1).map(|r| format!(", {r}")).unwrap_or_default()
                    }
                    None => String::new(),
                };
                writeln!(out, "{name} = {{ path = \"{path}\"{rest} }}").unwrap();
            }
            None => writeln!(out, "{line}").unwrap(),
        }
    }
    out
}

/// Writes the scratch workspace; the names of its binaries, in README order.
fn write_workspace(dir: &Path, samples: &[Sample], root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    // A removed sample leaves no member behind.
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("sample-") {
            std::fs::remove_dir_all(entry.path()).unwrap();
        }
    }
    for (index, sample) in samples.iter().enumerate() {
        let name = format!("sample-{:02}", index + 1);
        let member = dir.join(&name);
        std::fs::create_dir_all(member.join("src")).unwrap();
        let manifest = format!(
            "# README.md line {}\n[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n{}",
            sample.line,
            local_dependencies(&sample.manifest, root)
        );
        std::fs::write(member.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(member.join("src/main.rs"), &sample.code).unwrap();
        names.push(name);
    }
    let members: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    // The workspace's profile, so the sandbox's RSA keys are as quick to make.
    let workspace = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n[profile.dev]\ndebug = false\n\n\
         [profile.dev.package.crypto-bigint]\nopt-level = 3\n\n[profile.dev.package.crypto-primes]\nopt-level = 3\n\n\
         [profile.dev.package.rsa]\nopt-level = 3\n",
        members.join(", ")
    );
    std::fs::write(dir.join("Cargo.toml"), workspace).unwrap();
    // The same versions as this workspace: its lockfile, copied afresh each run.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    names
}

#[test]
fn the_readme_has_no_fragment_beyond_three_and_every_sample_has_its_dependencies() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (samples, fragments) = samples(&readme);
    assert!(fragments <= MAX_FRAGMENTS, "{fragments} fragments in README.md; at most {MAX_FRAGMENTS}");
    assert!(samples.len() >= 5, "only {} samples found", samples.len());
}

#[test]
fn the_dependency_lines_point_at_this_workspace() {
    let root = Path::new("/w");
    let lines = "[dependencies]\nproactive-core = { version = \"0.1\", features = [\"sqlite\"] }\n\
                 proactive-sandbox = \"0.1\"\ntokio = { version = \"1\", features = [\"macros\"] }\n";
    assert_eq!(
        local_dependencies(lines, root),
        "[dependencies]\nproactive-core = { path = \"/w/proactive-core\", features = [\"sqlite\"] }\n\
         proactive-sandbox = { path = \"/w/proactive-sandbox\" }\ntokio = { version = \"1\", features = [\"macros\"] }\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_sample_builds_and_runs_as_printed() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let (samples, _) = samples(&readme);
    let dir = root.join("target/readme-samples");
    std::fs::create_dir_all(&dir).unwrap();
    let names = write_workspace(&dir, &samples, &root);

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let build = tokio::task::block_in_place(|| {
        Command::new(&cargo)
            .current_dir(&dir)
            .args(["build", "--offline", "--workspace", "--quiet"])
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap()
    });
    assert!(build.status.success(), "the README samples do not build:\n{}", String::from_utf8_lossy(&build.stderr));

    let sandbox = proactive_sandbox::Sandbox::start().await.unwrap();
    for (sample, name) in samples.iter().zip(&names) {
        let run_dir = tempfile::tempdir().unwrap();
        let output = tokio::task::block_in_place(|| {
            Command::new(dir.join("target/debug").join(name))
                .current_dir(run_dir.path())
                .env("ALEXA_CLIENT_ID", sandbox.client_id())
                .env("ALEXA_CLIENT_SECRET", sandbox.client_secret())
                .env("PROACTIVE_BASE_URL", sandbox.base_url())
                .env("PROACTIVE_TOKEN_URL", sandbox.token_url())
                .output()
                .unwrap()
        });
        assert!(
            output.status.success(),
            "the sample at README.md:{} ({name}) failed:\n{}{}",
            sample.line,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(!sandbox.records().accepted.is_empty(), "no sample sent to the sandbox");
}
