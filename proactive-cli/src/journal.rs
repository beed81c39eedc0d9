//! `proactive send --journal PATH`: a JSONL file with each sent event's final
//! outcome, appended as it completes, so a run that was interrupted (even by
//! SIGKILL) can be resumed with the same command.
//!
//! Each record is written with one `write` as soon as its outcome is known, so
//! a killed process loses no record the kernel has; the file is synced to disk
//! in batches (at most every [`SYNC_EVERY`]) and at the end. A resumed run skips
//! every event whose referenceId the journal records as settled (accepted,
//! already delivered or refused) and sends the rest; a record cut off by a kill
//! is ignored.
//!
//! The first line says what the journal is for:
//! `{"journal":1,"inputs":[{"path":…,"sha256":…}]}`, each input's canonical
//! path and the SHA-256 of its first MiB (standard input: `-`, no digest). A
//! journal for other inputs (other digests) is refused, since its records would
//! skip unrelated events whose referenceIds match, unless `--journal-force` is
//! given. So is a journal without that line (written before it existed): it
//! says nothing about its inputs, so resuming from it takes `--journal-force`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use proactive_core::client::Outcome;

/// The longest a record waits before it is synced to disk.
pub(crate) const SYNC_EVERY: Duration = Duration::from_millis(100);

/// One line of the journal.
#[derive(serde::Serialize, serde::Deserialize)]
struct Record<'a> {
    #[serde(rename = "referenceId", borrow)]
    reference_id: Cow<'a, str>,
    #[serde(borrow)]
    outcome: Cow<'a, str>,
    #[serde(borrow)]
    source: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

/// The format of the first line.
const FORMAT: u32 = 1;
/// How much of each input its digest covers.
const DIGEST_BYTES: u64 = 1 << 20;

/// The first line: what the journal was written for.
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    journal: u32,
    inputs: Vec<InputId>,
}

/// One input of a run: its canonical path and the SHA-256 of its first MiB
/// (none for standard input, a pipe or a device, which cannot be read twice).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct InputId {
    path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

impl InputId {
    /// Reads the first MiB of `path` (`-`: standard input, which is not read).
    pub(crate) fn of(path: &str) -> Result<Self, String> {
        use std::io::Read as _;
        if path == "-" {
            return Ok(Self { path: "-".to_owned(), sha256: None });
        }
        let cannot = |error: io::Error| format!("cannot read `{path}`: {error}");
        if !std::fs::metadata(path).map_err(cannot)?.is_file() {
            // A pipe (`<(…)`) or a device: opening or reading it here would take it from the run.
            return Ok(Self { path: path.to_owned(), sha256: None });
        }
        let mut head = Vec::new();
        File::open(path).and_then(|file| file.take(DIGEST_BYTES).read_to_end(&mut head)).map_err(cannot)?;
        let digest = ring::digest::digest(&ring::digest::SHA256, &head);
        let sha256 = digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect();
        let canonical = std::fs::canonicalize(path).map_or_else(|_| path.to_owned(), |p| p.display().to_string());
        Ok(Self { path: canonical, sha256: Some(sha256) })
    }

    /// A fan-out's audience: the subscription store (canonical path) and the
    /// event key, compared as text.
    pub(crate) fn fanout(store: &str, event_key: &str) -> Result<Self, String> {
        let canonical = std::fs::canonicalize(store).map_err(|error| format!("cannot read `{store}`: {error}"))?;
        Ok(Self { path: format!("{}#event-key={event_key}", canonical.display()), sha256: None })
    }

    /// The same input: the same digest, or the same path when neither can be digested.
    fn same(&self, other: &InputId) -> bool {
        match (&self.sha256, &other.sha256) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.path == other.path,
            _ => false,
        }
    }
}

/// The inputs, as messages name them.
fn list(inputs: &[InputId]) -> String {
    inputs.iter().map(|input| format!("`{}`", input.path)).collect::<Vec<_>>().join(", ")
}

/// What an existing journal says: the referenceIds already settled.
#[derive(Default)]
pub(crate) struct Settled {
    ids: HashSet<Box<str>>,
    /// Whether the journal had any record: this run resumes an earlier one.
    pub(crate) resumed: bool,
}

impl Settled {
    /// Whether an earlier run settled this referenceId.
    pub(crate) fn contains(&self, reference_id: &str) -> bool {
        self.ids.contains(reference_id)
    }
}

/// The journal being appended to.
pub(crate) struct Journal {
    file: File,
    line: Vec<u8>,
    dirty: Arc<AtomicBool>,
    syncer: Option<(Sender<()>, JoinHandle<()>)>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` for `inputs` and reads what it
    /// already records; a journal for other inputs is refused unless `force`.
    pub(crate) fn open(path: &str, inputs: &[InputId], force: bool) -> Result<(Journal, Settled), String> {
        let cannot = |error: io::Error| format!("cannot open the journal `{path}`: {error}");
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(cannot)?;
        crate::paths::check_opened("--journal", std::path::Path::new(path), &file)?;
        let (header, settled) = read(&file, path).map_err(cannot)?;
        let len = file.seek(SeekFrom::End(0)).map_err(cannot)?;
        check_header(path, header.as_ref(), len, inputs, force)?;
        if len == 0 {
            let mut line = serde_json::to_vec(&Header { journal: FORMAT, inputs: inputs.to_vec() })
                .map_err(io::Error::from)
                .map_err(cannot)?;
            line.push(b'\n');
            file.write_all(&line).map_err(cannot)?;
        } else {
            // A record cut off by a kill: start the next one on a line of its own.
            let mut last = [0u8];
            std::os::unix::fs::FileExt::read_exact_at(&file, &mut last, len - 1).map_err(cannot)?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(cannot)?;
            }
        }
        let dirty = Arc::new(AtomicBool::new(false));
        let syncer = spawn_syncer(file.try_clone().map_err(cannot)?, Arc::clone(&dirty));
        Ok((Journal { file, line: Vec::with_capacity(256), dirty, syncer: Some(syncer) }, settled))
    }

    /// Appends one event's outcome (one `write`; synced within [`SYNC_EVERY`]).
    pub(crate) fn record(
        &mut self,
        reference_id: &str,
        outcome: Outcome,
        source: &str,
        status: Option<u16>,
    ) -> io::Result<()> {
        self.line.clear();
        let record = Record {
            reference_id: reference_id.into(),
            outcome: outcome.as_str().into(),
            source: source.into(),
            status,
        };
        serde_json::to_writer(&mut self.line, &record)?;
        self.line.push(b'\n');
        self.file.write_all(&self.line)?;
        self.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Stops the batched syncing and syncs what is left.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        if let Some((stop, handle)) = self.syncer.take() {
            drop(stop);
            let _ = handle.join();
        }
        self.file.sync_data()
    }
}

/// Syncs the file whenever it was written to, at most every [`SYNC_EVERY`].
fn spawn_syncer(file: File, dirty: Arc<AtomicBool>) -> (Sender<()>, JoinHandle<()>) {
    let (stop, stopped) = channel::<()>();
    let handle = std::thread::spawn(move || {
        loop {
            let last = matches!(stopped.recv_timeout(SYNC_EVERY), Err(RecvTimeoutError::Disconnected));
            if dirty.swap(false, Ordering::AcqRel)
                && let Err(error) = file.sync_data()
            {
                error!("cannot sync the journal: {error}");
            }
            if last {
                return;
            }
        }
    });
    (stop, handle)
}

/// Refuses a journal written for other inputs, or that does not say, unless `force`.
fn check_header(path: &str, header: Option<&Header>, len: u64, inputs: &[InputId], force: bool) -> Result<(), String> {
    let problem = match header {
        _ if len == 0 => return Ok(()),
        Some(header) if header.journal != FORMAT => {
            return Err(format!(
                "the journal `{path}` has format {} (a newer proactive wrote it); this one reads format {FORMAT}: \
                 give a new journal",
                header.journal
            ));
        }
        Some(header)
            if header.inputs.len() == inputs.len() && header.inputs.iter().zip(inputs).all(|(a, b)| a.same(b)) =>
        {
            return Ok(());
        }
        Some(header) => format!(
            "the journal `{path}` was written for {}, not for {} (compared by the SHA-256 of their first MiB): its \
             records would skip events of another input",
            list(&header.inputs),
            list(inputs)
        ),
        None => format!(
            "the journal `{path}` does not say which input it was written for (an older proactive wrote it): its \
             records could skip events of another input"
        ),
    };
    if force {
        warning!("{problem}; resuming from it anyway (--journal-force)");
        Ok(())
    } else {
        Err(format!("{problem}; give a new journal, or pass --journal-force if it is for these events"))
    }
}

/// The first line of an existing journal, if it has one, and its settled referenceIds.
fn read(file: &File, path: &str) -> io::Result<(Option<Header>, Settled)> {
    let mut settled = Settled::default();
    let mut header = None;
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok((header, settled));
        }
        number += 1;
        let complete = line.ends_with('\n');
        if number == 1
            && let Ok(first) = serde_json::from_str::<Header>(line.trim_end())
        {
            header = Some(first);
            continue;
        }
        match serde_json::from_str::<Record<'_>>(line.trim_end()) {
            Ok(record) => {
                settled.resumed = true;
                let outcome = Outcome::ALL.into_iter().find(|o| o.as_str() == record.outcome);
                if outcome.is_some_and(|o| o != Outcome::Failed && o != Outcome::Invalid) {
                    settled.ids.insert(record.reference_id.as_ref().into());
                }
            }
            Err(_) if line.trim().is_empty() => {}
            // A record cut off by a kill (the next run starts a new line after it): its event is sent again.
            Err(_) if !complete || line.starts_with(r#"{"referenceId":"#) => {
                settled.resumed = true;
                warning!("{path}:{number}: a record cut off by an interruption; its event is sent again");
            }
            Err(error) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line {number} is not a journal record ({error})"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_back_and_a_cut_off_one_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl").to_string_lossy().into_owned();
        let inputs = [InputId { path: "events.jsonl".to_owned(), sha256: Some("00".to_owned()) }];
        let (mut journal, settled) = Journal::open(&path, &inputs, false).unwrap();
        assert!(!settled.resumed);
        journal.record("a", Outcome::Accepted, "f:1", Some(202)).unwrap();
        journal.record("b", Outcome::Failed, "f:2", None).unwrap();
        journal.record("c", Outcome::Refused, "f:3", Some(400)).unwrap();
        journal.record("d", Outcome::AlreadyDelivered, "f:4", Some(409)).unwrap();
        journal.finish().unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(br#"{"referenceId":"e","outc"#)
            .unwrap();

        let (mut journal, settled) = Journal::open(&path, &inputs, false).unwrap();
        assert!(settled.resumed);
        assert!(settled.contains("a") && settled.contains("c") && settled.contains("d"));
        assert!(!settled.contains("b") && !settled.contains("e"), "failed and cut-off events are sent again");
        journal.record("e", Outcome::Accepted, "f:5", Some(202)).unwrap();
        journal.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let last = text.lines().last().unwrap();
        assert_eq!(last, r#"{"referenceId":"e","outcome":"accepted","source":"f:5","status":202}"#);
        assert!(Journal::open(&path, &inputs, false).unwrap().1.contains("e"));
        let other = [InputId { path: "events.jsonl".to_owned(), sha256: Some("01".to_owned()) }];
        let error = Journal::open(&path, &other, false).err().unwrap();
        assert!(error.contains("was written for `events.jsonl`, not for `events.jsonl`"), "{error}");
        assert!(Journal::open(&path, &other, true).unwrap().1.contains("e"), "--journal-force");
    }

    #[test]
    fn a_file_that_is_not_a_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, "{\"timestamp\": 1}\n{}\n").unwrap();
        let error = Journal::open(&path.to_string_lossy(), &[], false).err().unwrap();
        assert!(error.contains("line 1 is not a journal record"), "{error}");
    }
}
