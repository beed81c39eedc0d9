//! `proactive fanout`: one template, sent to every subscriber of its event in
//! a SQLite subscription store, each with their own Unicast audience, region
//! and stable referenceId, through the same streaming send as `proactive send`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use proactive_core::Envelope;
use proactive_core::fanout::FanOut;
use proactive_core::subscription::{DEFAULT_PAGE_SIZE, SqliteStore, SubscriptionStore};
use tokio::sync::mpsc;

use crate::journal::{InputId, Settled};
use crate::send::{self, Event, Handoff, Read, SendArgs, Source};
use crate::{INVALID, OK, USAGE};

/// Every option of `proactive fanout`.
#[derive(clap::Args)]
pub(crate) struct FanoutArgs {
    /// The SQLite subscription store to read the subscribers from (written by the skill's events
    /// endpoint with `SqliteStore`, or by `proactive subscriptions apply`). It must exist.
    #[arg(long, value_name = "DB")]
    subscribers: String,
    /// What names this business event (an order number and its status, an alert id). Each user's
    /// referenceId is made from it and their user id, so running the fan-out again with the same
    /// key (after a crash, with --journal) sends nobody a second notification: Amazon answers 409.
    #[arg(long, value_name = "KEY")]
    event_key: String,
    #[command(flatten)]
    send: SendArgs,
}

/// Runs `proactive fanout`; the exit code.
pub(crate) fn run(args: FanoutArgs) -> u8 {
    let FanoutArgs { subscribers, event_key, send } = args;
    let template_path = match send.paths() {
        [path] if path != "-" => path.clone(),
        _ => {
            error!("give exactly one template file, such as `order_status.json`");
            return USAGE;
        }
    };
    if let Err(message) = send::check_paths(&send, &[&subscribers]) {
        error!("{message}");
        return USAGE;
    }
    let fanout = match read_template(&template_path, &event_key, send.restamp()) {
        Ok(fanout) => fanout,
        Err(code) => return code,
    };
    let store = match open_store(&subscribers) {
        Ok(store) => store,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    match has_subscribers(&store, &fanout) {
        Ok(true) => {}
        Ok(false) => {
            out!("`{subscribers}` has no subscriber of `{}`: nothing to send", fanout.event());
            return OK;
        }
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    }
    // A journal is for this template, this store and this event key: another
    // fan-out's records would skip users who never got this event.
    let journal_inputs = match InputId::of(&template_path)
        .and_then(|template| Ok(vec![template, InputId::fanout(&subscribers, &event_key)?]))
    {
        Ok(inputs) => inputs,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    let source = format!("{subscribers}#");
    send::run_source(&send, Source::Fanout(Reader { fanout, store, source }), None, &journal_inputs)
}

/// The template, read, re-stamped with `--restamp`, and validated once.
pub(crate) fn read_template(path: &str, event_key: &str, restamp: bool) -> Result<FanOut, u8> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        error!("cannot read the template `{path}`: {error}");
        USAGE
    })?;
    let mut template: Envelope = match Envelope::from_json(&text) {
        Ok((envelope, _warnings)) => envelope,
        Err(report) => {
            error!("the template `{path}` is not valid; nothing was sent:\n{report}");
            return Err(INVALID);
        }
    };
    if restamp {
        template.restamp();
    }
    let fanout = FanOut::from_template(event_key, template).map_err(|invalid| {
        error!("the template `{path}` is not valid; nothing was sent:\n{}", invalid.report());
        INVALID
    })?;
    // A long fan-out: each event is stamped again at each attempt, as `send --restamp` does.
    Ok(if restamp { fanout.restamped() } else { fanout })
}

/// Opens an existing SQLite store (never creates one: a misspelled path is an error).
pub(crate) fn open_store(path: &str) -> Result<SqliteStore, String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err(format!("the subscription store `{path}` is not a file")),
        Err(error) => return Err(format!("cannot open the subscription store `{path}`: {error}")),
    }
    SqliteStore::open(Path::new(path)).map_err(|error| error.to_string())
}

/// Whether the template's event has a subscriber at all.
fn has_subscribers(store: &SqliteStore, fanout: &FanOut) -> Result<bool, String> {
    let page = block_on(store.subscribers_page(fanout.event(), None, 1)).map_err(|error| error.to_string())?;
    Ok(!page.subscribers.is_empty())
}

/// Runs a store call to its end on this thread. Outside a Tokio runtime the
/// SQLite store works inline, so this never waits on another thread.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// The reader thread's side of a fan-out: pages through the subscribers and
/// hands each one's prepared envelope to the bulk send.
pub(crate) struct Reader {
    fanout: FanOut,
    store: SqliteStore,
    /// What an outcome line names before the user id: the store's path and `#`.
    source: String,
}

impl Reader {
    /// Reads every page of subscribers until they end, `stop` is set, or the
    /// send is closed; users the journal settled are reported as skipped.
    pub(crate) fn read(
        self,
        settled: &Settled,
        handoff: &mut Handoff<'_>,
        others: &mpsc::Sender<Read>,
        stop: &AtomicBool,
    ) {
        let mut after = None;
        loop {
            if stop.load(Ordering::Acquire) {
                return;
            }
            let page =
                match block_on(self.store.subscribers_page(self.fanout.event(), after.as_ref(), DEFAULT_PAGE_SIZE)) {
                    Ok(page) => page,
                    Err(error) => {
                        let _ = others.blocking_send(Read::Error(format!("cannot read the subscribers: {error}")));
                        return;
                    }
                };
            for subscriber in &page.subscribers {
                // The prepared body holds the referenceId: it is made (hashed) once.
                let Some(Ok(prepared)) = self.fanout.prepare_for(subscriber) else { continue };
                let source = format!("{}{}", self.source, subscriber.user_id);
                let reference_id = prepared.reference_id().as_str();
                if settled.contains(reference_id) {
                    if others.blocking_send(Read::Skipped(source, reference_id.to_owned())).is_err() {
                        return;
                    }
                    continue;
                }
                let event = Event::fanout(&source, &prepared, handoff.index());
                if !handoff.send_to(event, subscriber.region(), prepared) {
                    return;
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return,
            }
        }
    }
}
