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
    /// Opens (or creates) the journal at `path` and reads what it already records.
    pub(crate) fn open(path: &str) -> Result<(Journal, Settled), String> {
        let cannot = |error: io::Error| format!("cannot open the journal `{path}`: {error}");
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(cannot)?;
        let settled = read(&file, path).map_err(cannot)?;
        // A record cut off by a kill: start the next one on a line of its own.
        let len = file.seek(SeekFrom::End(0)).map_err(cannot)?;
        if len > 0 {
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

/// The settled referenceIds of an existing journal.
fn read(file: &File, path: &str) -> io::Result<Settled> {
    let mut settled = Settled::default();
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(settled);
        }
        number += 1;
        let complete = line.ends_with('\n');
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
        let (mut journal, settled) = Journal::open(&path).unwrap();
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

        let (mut journal, settled) = Journal::open(&path).unwrap();
        assert!(settled.resumed);
        assert!(settled.contains("a") && settled.contains("c") && settled.contains("d"));
        assert!(!settled.contains("b") && !settled.contains("e"), "failed and cut-off events are sent again");
        journal.record("e", Outcome::Accepted, "f:5", Some(202)).unwrap();
        journal.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let last = text.lines().last().unwrap();
        assert_eq!(last, r#"{"referenceId":"e","outcome":"accepted","source":"f:5","status":202}"#);
        assert!(Journal::open(&path).unwrap().1.contains("e"));
    }

    #[test]
    fn a_file_that_is_not_a_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, "{\"timestamp\": 1}\n{}\n").unwrap();
        let error = Journal::open(&path.to_string_lossy()).err().unwrap();
        assert!(error.contains("line 1 is not a journal record"), "{error}");
    }
}
