//! Project automation, run as `cargo xtask <command>` (the cargo-xtask convention:
//! <https://github.com/matklad/cargo-xtask>).
//!
//! - `cargo xtask regen` writes the code generated from
//!   `proactive-schemas/schemas/*.json`, and the table of derive paths
//!   (`proactive-schemas/PATHS.md`).
//! - `cargo xtask regen --check` writes nothing and fails, naming each stale file,
//!   when the checked-in code differs from what `regen` would write.

mod emit_builder;
mod emit_index;
mod emit_paths;
mod emit_payload;
mod emit_table;
mod model;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use proc_macro2::TokenStream;

const USAGE: &str = "usage: cargo xtask regen [--check]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["regen"] => Mode::Write,
        ["regen", "--check"] => Mode::Check,
        ["--help" | "-h"] | ["help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match regen(&project_root(), mode) {
        Ok(report) => {
            for line in &report.lines {
                eprintln!("{line}");
            }
            if report.stale && mode == Mode::Check { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `regen` writes files or only compares them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Write,
    Check,
}

/// What a run found.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) stale: bool,
    pub(crate) lines: Vec<String>,
}

pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives one level below the root").to_path_buf()
}

const SCHEMA_DIR: &str = "proactive-schemas/schemas";
const SCHEMAS_OUT: &str = "proactive-schemas/src/generated";
const TABLE_OUT: &str = "proactive-table/src/generated";
/// The table of derive paths, per schema, that the README links.
const PATHS_OUT: &str = "proactive-schemas/PATHS.md";

/// One generated file: where it goes, what it is generated from, and its code.
struct Output {
    /// The file, relative to the project root.
    path: String,
    /// The schema file(s) it comes from, for messages.
    source: String,
    /// The code, before formatting.
    tokens: TokenStream,
}

/// Reads every schema file and writes (or checks) every generated file.
pub(crate) fn regen(root: &Path, mode: Mode) -> Result<Report, String> {
    let schemas = read_schemas(root)?;
    let outputs = outputs(&schemas);
    let mut report = Report::default();
    for Output { path, source, tokens } in &outputs {
        let text = format_file(tokens).map_err(|e| format!("generated `{path}` does not parse: {e}"))?;
        ensure_file_contents(root, path, source, &text, mode, &mut report)?;
    }
    let paths = emit_paths::emit(&schemas);
    ensure_file_contents(root, PATHS_OUT, &format!("{SCHEMA_DIR}/*.json"), &paths, mode, &mut report)?;
    remove_orphans(root, &outputs, mode, &mut report)?;
    Ok(report)
}

/// Every schema file, parsed, in file-name order.
fn read_schemas(root: &Path) -> Result<Vec<model::Schema>, String> {
    let dir = root.join(SCHEMA_DIR);
    let mut files: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let mut schemas = Vec::new();
    for file in &files {
        let text = fs::read_to_string(dir.join(file)).map_err(|e| format!("cannot read `{SCHEMA_DIR}/{file}`: {e}"))?;
        schemas.push(model::parse(file, &text)?);
    }
    if schemas.is_empty() {
        return Err(format!("no schema files in `{SCHEMA_DIR}`"));
    }
    Ok(schemas)
}

/// What `regen` writes: one payload module per schema, their index, and the table.
fn outputs(schemas: &[model::Schema]) -> Vec<Output> {
    let mut outputs: Vec<Output> = schemas
        .iter()
        .map(|s| Output {
            path: format!("{SCHEMAS_OUT}/{}.rs", s.module),
            source: format!("{SCHEMA_DIR}/{}", s.file),
            tokens: emit_payload::emit(s),
        })
        .collect();
    let all = format!("{SCHEMA_DIR}/*.json");
    outputs.push(Output {
        path: format!("{SCHEMAS_OUT}/mod.rs"),
        source: all.clone(),
        tokens: emit_index::emit(schemas),
    });
    outputs.push(Output { path: format!("{TABLE_OUT}/table.rs"), source: all, tokens: emit_table::emit(schemas) });
    outputs
}

/// A generated file that nothing generates any more (a schema was removed) is stale too.
fn remove_orphans(root: &Path, outputs: &[Output], mode: Mode, report: &mut Report) -> Result<(), String> {
    let expected: Vec<&str> = outputs.iter().map(|output| output.path.as_str()).collect();
    for out_dir in [SCHEMAS_OUT, TABLE_OUT] {
        for entry in fs::read_dir(root.join(out_dir)).map_err(|e| format!("cannot read `{out_dir}`: {e}"))? {
            let name = entry.map_err(|e| e.to_string())?.file_name().to_string_lossy().into_owned();
            let path = format!("{out_dir}/{name}");
            if expected.contains(&path.as_str()) {
                continue;
            }
            report.stale = true;
            if mode == Mode::Check {
                report
                    .lines
                    .push(format!("`{path}` is not generated from any schema; run `cargo xtask regen` and commit"));
            } else {
                fs::remove_file(root.join(&path)).map_err(|e| format!("cannot remove `{path}`: {e}"))?;
                report.lines.push(format!("removed `{path}`"));
            }
        }
    }
    Ok(())
}

fn format_file(tokens: &TokenStream) -> Result<String, syn::Error> {
    let file: syn::File = syn::parse2(tokens.clone())?;
    Ok(space_out_items(&prettyplease::unparse(&file)))
}

/// Puts a blank line between items (and after the header), as progenitor does,
/// so that the generated files and their diffs read well.
fn space_out_items(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        let Some(next) = lines.get(i + 1) else { continue };
        let closes_item = line.trim() == "}" && indent(next) == indent(line);
        let ends_header = line.starts_with("//!") && !next.starts_with("//!");
        let opens_next = !next.trim_start().starts_with(['}', ')', ']']) && !next.trim().is_empty();
        if (closes_item || ends_header) && opens_next {
            out.push('\n');
        }
    }
    out
}

/// Compares `text` with the file on disk; writes it or reports it stale.
fn ensure_file_contents(
    root: &Path,
    path: &str,
    source: &str,
    text: &str,
    mode: Mode,
    report: &mut Report,
) -> Result<(), String> {
    let full = root.join(path);
    let current = fs::read_to_string(&full).ok().map(|t| t.replace("\r\n", "\n"));
    if current.as_deref() == Some(text) {
        return Ok(());
    }
    report.stale = true;
    match mode {
        Mode::Check => {
            let hint = if std::env::var_os("CI").is_some() { " locally" } else { "" };
            report.lines.push(format!(
                "`{path}` (from `{source}`) is stale; run `cargo xtask regen`{hint} and commit the result"
            ));
        }
        Mode::Write => {
            if let Some(parent) = full.parent() {
                fs::create_dir_all(parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
            }
            fs::write(&full, text).map_err(|e| format!("cannot write `{path}`: {e}"))?;
            report.lines.push(format!("updated `{path}` (from `{source}`)"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain `cargo test` fails when the checked-in generated code is stale.
    #[test]
    fn generated_code_is_fresh() {
        let report = regen(&project_root(), Mode::Check).unwrap();
        assert!(!report.stale, "{}", report.lines.join("\n"));
    }

    /// A schema edit that is not regenerated is caught, and the message names
    /// the stale file and the schema it comes from.
    #[test]
    fn an_edited_schema_makes_check_fail_naming_the_file() {
        let root = project_root();
        let scratch = std::env::temp_dir().join(format!("proactive-xtask-{}", std::process::id()));
        let _ = fs::remove_dir_all(&scratch);
        for dir in [SCHEMA_DIR, SCHEMAS_OUT, TABLE_OUT] {
            fs::create_dir_all(scratch.join(dir)).unwrap();
            for entry in fs::read_dir(root.join(dir)).unwrap() {
                let entry = entry.unwrap();
                fs::copy(entry.path(), scratch.join(dir).join(entry.file_name())).unwrap();
            }
        }
        fs::copy(root.join(PATHS_OUT), scratch.join(PATHS_OUT)).unwrap();
        assert!(!regen(&scratch, Mode::Check).unwrap().stale, "a fresh copy is not stale");

        let schema = scratch.join(SCHEMA_DIR).join("weather_alert_activated.json");
        let edited = fs::read_to_string(&schema).unwrap().replace("\"HURRICANE\", ", "\"HURRICANE\", \"HAIL\", ");
        let edited =
            edited.replace("\"HURRICANE\": \"hurricane\",", "\"HURRICANE\": \"hurricane\", \"HAIL\": \"hail\",");
        fs::write(&schema, edited).unwrap();
        let report = regen(&scratch, Mode::Check).unwrap();
        assert!(report.stale);
        let text = report.lines.join("\n");
        assert!(
            text.contains("`proactive-schemas/src/generated/weather_alert_activated.rs` (from `proactive-schemas/schemas/weather_alert_activated.json`) is stale"),
            "{text}"
        );

        // Writing brings it back in line.
        regen(&scratch, Mode::Write).unwrap();
        assert!(!regen(&scratch, Mode::Check).unwrap().stale);
        fs::remove_dir_all(&scratch).unwrap();
    }
}
