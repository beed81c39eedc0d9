//! A subscription store in a SQLite file (the `sqlite` feature).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::event::SubscribedEvent;
use super::store::{
    Applied, Disabled, StoreError, Subscriber, SubscriberPage, SubscriptionStore, Tombstone, UserSubscriptions,
};
use crate::UserId;

/// The layout this version writes. A file in layout 1 is brought to it when
/// opened ([`MIGRATE_FROM_1`]); a file with another version is refused rather
/// than misread.
const SCHEMA_VERSION: i64 = 2;

/// How long a call waits for another process holding the file's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA_TABLE: &str = "
CREATE TABLE IF NOT EXISTS proactive_schema (
    version INTEGER NOT NULL
);
";

/// Layout 2. Each subscription row carries its user's `api_endpoint`, so that
/// a page of subscribers is one range of the `(event_name, user_id,
/// api_endpoint)` index, read in order, with no lookup of each user's row: a
/// fan-out to a million users reads the index sequentially.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS proactive_users (
    user_id         TEXT    NOT NULL PRIMARY KEY,
    timestamp_secs  INTEGER NOT NULL,
    timestamp_nanos INTEGER NOT NULL,
    request_id      TEXT    NOT NULL,
    api_endpoint    TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS proactive_subscriptions (
    user_id      TEXT NOT NULL REFERENCES proactive_users (user_id) ON DELETE CASCADE,
    event_name   TEXT NOT NULL,
    api_endpoint TEXT NOT NULL,
    PRIMARY KEY (user_id, event_name)
);
CREATE INDEX IF NOT EXISTS proactive_subscribers
    ON proactive_subscriptions (event_name, user_id, api_endpoint);
CREATE TABLE IF NOT EXISTS proactive_tombstones (
    user_id         TEXT    NOT NULL PRIMARY KEY,
    timestamp_secs  INTEGER NOT NULL,
    timestamp_nanos INTEGER NOT NULL,
    request_id      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS proactive_tombstones_by_time
    ON proactive_tombstones (timestamp_secs, timestamp_nanos);
";

/// Layout 1 to layout 2, in the transaction that opens the file: each
/// subscription row gets its user's `api_endpoint`, and the `(event_name,
/// user_id)` index gives way to one that also holds it.
const MIGRATE_FROM_1: &str = "
ALTER TABLE proactive_subscriptions ADD COLUMN api_endpoint TEXT NOT NULL DEFAULT '';
UPDATE proactive_subscriptions SET api_endpoint =
    (SELECT u.api_endpoint FROM proactive_users AS u WHERE u.user_id = proactive_subscriptions.user_id);
DROP INDEX IF EXISTS proactive_subscriptions_by_event;
UPDATE proactive_schema SET version = 2;
";

/// A [`SubscriptionStore`] in a SQLite file, which survives restarts. Needs
/// the `sqlite` feature.
///
/// - The file and its tables are created on first use; the tables' names start
///   with `proactive_`, so the file may hold other tables too.
/// - One connection, behind a mutex, serves every clone of the store; each
///   call runs on Tokio's blocking pool (or inline when called outside a Tokio
///   runtime), so the executor is never blocked on disk. Calls from many tasks
///   are safe and serialized; each update is one transaction.
/// - Other processes may open the same file: writes take SQLite's write lock
///   up front (`BEGIN IMMEDIATE`) and wait up to 5 s for it.
/// - The journal is in WAL mode with `synchronous = NORMAL`: a committed update
///   survives a crash of the process; a power loss may undo the last few
///   commits, never corrupt the file. Amazon sends the full set on every
///   change, so a lost update is repaired by the user's next one.
///
/// Timestamps are stored exactly (seconds and nanoseconds), so ordering is the
/// same as in memory.
///
/// ```
/// use proactive_core::subscription::{SqliteStore, SubscriptionTracker};
///
/// let dir = tempfile::tempdir()?;
/// // The file and its tables are created on first use.
/// let tracker = SubscriptionTracker::new(SqliteStore::open(dir.path().join("subscriptions.db"))?);
/// # let _ = tracker;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[derive(Clone, Debug)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl SqliteStore {
    /// Opens the store in the file at `path`, creating the file and the tables
    /// if needed. A file in layout 1 (before subscription rows carried the
    /// `api_endpoint`) is brought to layout 2 first, in one transaction that
    /// holds the write lock: once, and about 8 s for a million subscribers on
    /// a 2-core machine.
    ///
    /// This touches the disk: in async code, call it before serving, or
    /// through `tokio::task::spawn_blocking`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let mut connection = Connection::open(&path)
            .map_err(|e| StoreError::with_source(format!("could not open the subscription database `{shown}`"), e))?;
        prepare(&mut connection).map_err(|e| match e {
            Prepare::Sqlite(e) => StoreError::with_source(
                format!("could not create the subscription tables in `{shown}`; is it a SQLite database?"),
                e,
            ),
            Prepare::Version(found) => StoreError::new(format!(
                "`{shown}` holds subscriptions in layout version {found}, but this version of proactive-core reads \
                 version {SCHEMA_VERSION}; use the proactive-core version that wrote it, or another file"
            )),
        })?;
        Ok(Self { connection: Arc::new(Mutex::new(connection)), path: Arc::new(path) })
    }

    /// The file the store is in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `job` with the connection on a blocking thread.
    async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        let job = move || {
            // A panic while the lock was held left no transaction open (a
            // dropped rusqlite transaction rolls back), so the connection is
            // still usable.
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            job(&mut connection)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(job)
                .await
                .map_err(|e| StoreError::with_source("the subscription database task did not finish", e))?,
            Err(_) => job(),
        }
    }

    /// How many subscribers each event has, sorted by event name; an event
    /// nobody subscribes to is not listed. One query over the `(event_name,
    /// user_id, api_endpoint)` index, counting the users
    /// [`subscribers_page`](SubscriptionStore::subscribers_page) lists.
    ///
    /// ```
    /// use proactive_core::subscription::SqliteStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let store = SqliteStore::open(dir.path().join("subscriptions.db"))?;
    /// for (event, subscribers) in store.event_counts().await? {
    ///     println!("{subscribers} {event}");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn event_counts(&self) -> Result<Vec<(SubscribedEvent, u64)>, StoreError> {
        let store = self.clone();
        self.run(move |connection| {
            let read = |e| store.error("count the subscribers", e);
            let mut statement = connection
                .prepare(
                    "SELECT event_name, count(*)
                     FROM proactive_subscriptions INDEXED BY proactive_subscribers
                     GROUP BY event_name
                     ORDER BY event_name",
                )
                .map_err(read)?;
            let rows =
                statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))).map_err(read)?;
            rows.map(|row| {
                let (name, count) = row.map_err(read)?;
                Ok((SubscribedEvent::new(&name), u64::try_from(count).unwrap_or(0)))
            })
            .collect()
        })
        .await
    }

    fn error(&self, doing: &str, error: rusqlite::Error) -> StoreError {
        StoreError::with_source(format!("could not {doing} in `{}`", self.path.display()), error)
    }
}

enum Prepare {
    Sqlite(rusqlite::Error),
    Version(i64),
}

impl From<rusqlite::Error> for Prepare {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

/// Sets the connection up and creates (or checks) the tables.
fn prepare(connection: &mut Connection) -> Result<(), Prepare> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // `journal_mode` answers with the mode in force; an in-memory or read-only
    // file may keep its own, which is fine.
    let _mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    connection.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    transaction.execute_batch(SCHEMA_TABLE)?;
    let version: Option<i64> =
        transaction.query_row("SELECT max(version) FROM proactive_schema", [], |row| row.get(0))?;
    match version {
        None => {
            transaction.execute("INSERT INTO proactive_schema (version) VALUES (?1)", [SCHEMA_VERSION])?;
        }
        Some(1) => transaction.execute_batch(MIGRATE_FROM_1)?,
        Some(SCHEMA_VERSION) => {}
        Some(other) => return Err(Prepare::Version(other)),
    }
    // Creates what is missing: everything in a new file, the new index after a migration.
    transaction.execute_batch(SCHEMA)?;
    transaction.commit()?;
    Ok(())
}

/// Reads the stored state of `user_id` (inside the caller's transaction).
fn load(connection: &Connection, user_id: &UserId, path: &Path) -> Result<Option<UserSubscriptions>, StoreError> {
    let read = |e| {
        StoreError::with_source(format!("could not read the subscription of `{user_id}` in `{}`", path.display()), e)
    };
    let row = connection
        .query_row(
            "SELECT timestamp_secs, timestamp_nanos, request_id, api_endpoint FROM proactive_users WHERE user_id = ?1",
            [user_id.as_str()],
            |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?, row.get::<_, String>(3)?))
            },
        )
        .optional()
        .map_err(read)?;
    let Some((secs, nanos, request_id, api_endpoint)) = row else {
        return Ok(None);
    };
    let timestamp = instant(secs, nanos, "subscription", user_id, path)?;
    let mut statement =
        connection.prepare("SELECT event_name FROM proactive_subscriptions WHERE user_id = ?1").map_err(read)?;
    let events = statement
        .query_map([user_id.as_str()], |row| row.get::<_, String>(0))
        .map_err(read)?
        .map(|name| name.map(|name| SubscribedEvent::new(&name)))
        .collect::<rusqlite::Result<BTreeSet<_>>>()
        .map_err(read)?;
    Ok(Some(UserSubscriptions { user_id: user_id.clone(), events, timestamp, request_id, api_endpoint }))
}

/// The instant stored as `secs` and `nanos` in the `what` row of `user_id`.
fn instant(secs: i64, nanos: i64, what: &str, user_id: &UserId, path: &Path) -> Result<DateTime<Utc>, StoreError> {
    u32::try_from(nanos).ok().and_then(|nanos| DateTime::from_timestamp(secs, nanos)).ok_or_else(|| {
        StoreError::new(format!(
            "the {what} of `{user_id}` in `{}` has an impossible timestamp ({secs} s, {nanos} ns); was the file \
             edited by hand?",
            path.display()
        ))
    })
}

/// Reads the tombstone of `user_id` (inside the caller's transaction).
fn load_tombstone(connection: &Connection, user_id: &UserId, path: &Path) -> Result<Option<Tombstone>, StoreError> {
    let row = connection
        .query_row(
            "SELECT timestamp_secs, timestamp_nanos, request_id FROM proactive_tombstones WHERE user_id = ?1",
            [user_id.as_str()],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?)),
        )
        .optional()
        .map_err(|e| {
            StoreError::with_source(format!("could not read the tombstone of `{user_id}` in `{}`", path.display()), e)
        })?;
    let Some((secs, nanos, request_id)) = row else { return Ok(None) };
    let timestamp = instant(secs, nanos, "tombstone", user_id, path)?;
    Ok(Some(Tombstone { user_id: user_id.clone(), timestamp, request_id }))
}

/// Replaces the state of `state.user_id` with `state` (inside the caller's transaction).
fn write_state(transaction: &Connection, state: &UserSubscriptions) -> rusqlite::Result<()> {
    transaction.execute(
        "INSERT INTO proactive_users (user_id, timestamp_secs, timestamp_nanos, request_id, api_endpoint)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id) DO UPDATE SET
             timestamp_secs = excluded.timestamp_secs,
             timestamp_nanos = excluded.timestamp_nanos,
             request_id = excluded.request_id,
             api_endpoint = excluded.api_endpoint",
        params![
            state.user_id.as_str(),
            state.timestamp.timestamp(),
            i64::from(state.timestamp.timestamp_subsec_nanos()),
            state.request_id,
            state.api_endpoint,
        ],
    )?;
    transaction.execute("DELETE FROM proactive_subscriptions WHERE user_id = ?1", [state.user_id.as_str()])?;
    let mut insert = transaction
        .prepare("INSERT INTO proactive_subscriptions (user_id, event_name, api_endpoint) VALUES (?1, ?2, ?3)")?;
    for event in &state.events {
        insert.execute([state.user_id.as_str(), event.as_str(), state.api_endpoint.as_str()])?;
    }
    transaction.execute("DELETE FROM proactive_tombstones WHERE user_id = ?1", [state.user_id.as_str()])?;
    Ok(())
}

/// Removes the state of `tombstone.user_id` and keeps the tombstone, unless
/// an equal or newer one is kept already (inside the caller's transaction).
fn write_tombstone(transaction: &Connection, tombstone: &Tombstone) -> rusqlite::Result<()> {
    // The subscriptions go with the user row (`ON DELETE CASCADE`).
    transaction.execute("DELETE FROM proactive_users WHERE user_id = ?1", [tombstone.user_id.as_str()])?;
    transaction.execute(
        "INSERT INTO proactive_tombstones (user_id, timestamp_secs, timestamp_nanos, request_id)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id) DO UPDATE SET
             timestamp_secs = excluded.timestamp_secs,
             timestamp_nanos = excluded.timestamp_nanos,
             request_id = excluded.request_id
         WHERE (excluded.timestamp_secs, excluded.timestamp_nanos, excluded.request_id)
             > (timestamp_secs, timestamp_nanos, request_id)",
        params![
            tombstone.user_id.as_str(),
            tombstone.timestamp.timestamp(),
            i64::from(tombstone.timestamp.timestamp_subsec_nanos()),
            tombstone.request_id,
        ],
    )?;
    Ok(())
}

/// One page of the subscribers of `event` after `after`: one range of the
/// `(event_name, user_id, api_endpoint)` index.
fn read_page(
    connection: &Connection,
    event: &SubscribedEvent,
    after: Option<&UserId>,
    limit: usize,
    path: &Path,
) -> Result<SubscriberPage, StoreError> {
    let read =
        |e| StoreError::with_source(format!("could not list the subscribers of `{event}` in `{}`", path.display()), e);
    let limit = limit.max(1);
    // Keyset pagination: `user_id > ?2` on the index, never OFFSET. One row
    // beyond the page says whether there is a next one.
    let mut statement = connection
        .prepare(
            "SELECT user_id, api_endpoint
             FROM proactive_subscriptions INDEXED BY proactive_subscribers
             WHERE event_name = ?1 AND user_id > ?2
             ORDER BY user_id
             LIMIT ?3",
        )
        .map_err(read)?;
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    let rows = statement
        .query_map(params![event.as_str(), after.map_or("", UserId::as_str), fetch], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(read)?;
    let mut page = SubscriberPage::default();
    for row in rows {
        let (user_id, api_endpoint) = row.map_err(read)?;
        if page.subscribers.len() == limit {
            page.next = page.subscribers.last().map(|last: &Subscriber| last.user_id.clone());
            break;
        }
        let user_id = UserId::new(&user_id)
            .map_err(|e| StoreError::with_source(format!("`{}` holds an invalid user id", path.display()), e))?;
        page.subscribers.push(Subscriber { user_id, api_endpoint });
    }
    Ok(page)
}

impl SubscriptionStore for SqliteStore {
    async fn apply(&self, state: UserSubscriptions) -> Result<Applied, StoreError> {
        let store = self.clone();
        self.run(move |connection| {
            let write = |e| store.error("store a subscription change", e);
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(write)?;
            // Dropping the transaction without committing rolls back; nothing was written.
            if let Some(tombstone) = load_tombstone(&transaction, &state.user_id, &store.path)?
                && !tombstone.is_superseded_by(&state)
            {
                return Ok(Applied::Disabled { tombstone });
            }
            let previous = load(&transaction, &state.user_id, &store.path)?;
            if let Some(stored) = previous.as_ref().filter(|stored| !state.supersedes(stored)) {
                return Ok(Applied::Stale { stored: stored.clone() });
            }
            write_state(&transaction, &state).map_err(write)?;
            transaction.commit().map_err(write)?;
            Ok(Applied::Stored { previous })
        })
        .await
    }

    async fn get(&self, user_id: &UserId) -> Result<Option<UserSubscriptions>, StoreError> {
        let store = self.clone();
        let user_id = user_id.clone();
        self.run(move |connection| {
            // One read transaction, so the user's row and events are consistent.
            let transaction =
                connection.transaction().map_err(|e| store.error("read the subscription of a user", e))?;
            load(&transaction, &user_id, &store.path)
        })
        .await
    }

    async fn subscribers_page(
        &self,
        event: &SubscribedEvent,
        after: Option<&UserId>,
        limit: usize,
    ) -> Result<SubscriberPage, StoreError> {
        let store = self.clone();
        let event = event.clone();
        let after = after.cloned();
        self.run(move |connection| read_page(connection, &event, after.as_ref(), limit, &store.path)).await
    }

    async fn disable(&self, tombstone: Tombstone) -> Result<Disabled, StoreError> {
        let store = self.clone();
        self.run(move |connection| {
            let write = |e| store.error("remove a user who disabled the skill", e);
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(write)?;
            let previous = load(&transaction, &tombstone.user_id, &store.path)?;
            if let Some(stored) = previous.as_ref().filter(|stored| !tombstone.supersedes(stored)) {
                return Ok(Disabled::Stale { stored: stored.clone() });
            }
            write_tombstone(&transaction, &tombstone).map_err(write)?;
            transaction.commit().map_err(write)?;
            Ok(Disabled::Removed { previous })
        })
        .await
    }

    async fn purge_tombstones(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError> {
        let store = self.clone();
        self.run(move |connection| {
            let removed = connection
                .execute(
                    "DELETE FROM proactive_tombstones
                     WHERE (timestamp_secs, timestamp_nanos) < (?1, ?2)",
                    params![older_than.timestamp(), i64::from(older_than.timestamp_subsec_nanos())],
                )
                .map_err(|e| store.error("remove old tombstones", e))?;
            Ok(removed as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_another_layout_is_refused_not_misread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subs.db");
        drop(SqliteStore::open(&path).unwrap());
        let connection = Connection::open(&path).unwrap();
        connection.execute("UPDATE proactive_schema SET version = 3", []).unwrap();
        drop(connection);
        let error = SqliteStore::open(&path).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "`{}` holds subscriptions in layout version 3, but this version of proactive-core reads version 2; \
                 use the proactive-core version that wrote it, or another file",
                path.display()
            )
        );
    }

    /// Layout 1, as proactive-core 0.x wrote it before the subscription rows
    /// carried the api_endpoint.
    const LAYOUT_1: &str = "
        CREATE TABLE proactive_schema (version INTEGER NOT NULL);
        CREATE TABLE proactive_users (user_id TEXT NOT NULL PRIMARY KEY, timestamp_secs INTEGER NOT NULL,
            timestamp_nanos INTEGER NOT NULL, request_id TEXT NOT NULL, api_endpoint TEXT NOT NULL);
        CREATE TABLE proactive_subscriptions (
            user_id TEXT NOT NULL REFERENCES proactive_users (user_id) ON DELETE CASCADE,
            event_name TEXT NOT NULL, PRIMARY KEY (user_id, event_name));
        CREATE INDEX proactive_subscriptions_by_event ON proactive_subscriptions (event_name, user_id);
        CREATE TABLE proactive_tombstones (user_id TEXT NOT NULL PRIMARY KEY, timestamp_secs INTEGER NOT NULL,
            timestamp_nanos INTEGER NOT NULL, request_id TEXT NOT NULL);
        CREATE INDEX proactive_tombstones_by_time ON proactive_tombstones (timestamp_secs, timestamp_nanos);
        INSERT INTO proactive_schema (version) VALUES (1);
        INSERT INTO proactive_users VALUES ('amzn1.ask.account.a', 1772352000, 0, 'r1', 'https://api.eu.amazonalexa.com');
        INSERT INTO proactive_users VALUES ('amzn1.ask.account.b', 1772352000, 0, 'r2', 'https://api.fe.amazonalexa.com');
        INSERT INTO proactive_subscriptions VALUES ('amzn1.ask.account.a', 'AMAZON.WeatherAlert.Activated');
        INSERT INTO proactive_subscriptions VALUES ('amzn1.ask.account.a', 'AMAZON.TrashCollectionAlert.Activated');
        INSERT INTO proactive_subscriptions VALUES ('amzn1.ask.account.b', 'AMAZON.WeatherAlert.Activated');
    ";

    #[test]
    fn a_file_in_layout_1_is_brought_to_layout_2_with_every_subscriber_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subs.db");
        Connection::open(&path).unwrap().execute_batch(LAYOUT_1).unwrap();
        let store = SqliteStore::open(&path).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let weather = SubscribedEvent::new("AMAZON.WeatherAlert.Activated");
        let page = runtime.block_on(store.subscribers_page(&weather, None, 10)).unwrap();
        let listed: Vec<(&str, &str)> =
            page.subscribers.iter().map(|s| (s.user_id.as_str(), s.api_endpoint.as_str())).collect();
        assert_eq!(
            listed,
            [
                ("amzn1.ask.account.a", "https://api.eu.amazonalexa.com"),
                ("amzn1.ask.account.b", "https://api.fe.amazonalexa.com")
            ],
            "each subscriber with their own endpoint"
        );
        let user = UserId::new("amzn1.ask.account.a").unwrap();
        let state = runtime.block_on(store.get(&user)).unwrap().unwrap();
        assert_eq!(state.events.len(), 2);
        drop(store);

        let connection = Connection::open(&path).unwrap();
        let versions: Vec<i64> = connection
            .prepare("SELECT version FROM proactive_schema")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(versions, [2]);
        let old_index: i64 = connection
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'proactive_subscriptions_by_event'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(old_index, 0, "the old index is gone");
        // Opened again: nothing more to do, the same subscribers.
        let store = SqliteStore::open(&path).unwrap();
        let again = runtime.block_on(store.subscribers_page(&weather, None, 10)).unwrap();
        assert_eq!(again.subscribers, page.subscribers);
    }

    #[test]
    fn a_changed_api_endpoint_is_the_one_a_page_lists() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("subs.db")).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let weather = SubscribedEvent::new("AMAZON.WeatherAlert.Activated");
        let state = |at: &str, endpoint: &str| UserSubscriptions {
            user_id: UserId::new("amzn1.ask.account.a").unwrap(),
            events: [weather.clone()].into(),
            timestamp: at.parse().unwrap(),
            request_id: at.to_owned(),
            api_endpoint: endpoint.to_owned(),
        };
        runtime.block_on(store.apply(state("2026-03-01T08:00:00Z", "https://api.amazonalexa.com"))).unwrap();
        runtime.block_on(store.apply(state("2026-03-01T09:00:00Z", "https://api.eu.amazonalexa.com"))).unwrap();
        let page = runtime.block_on(store.subscribers_page(&weather, None, 10)).unwrap();
        assert_eq!(page.subscribers.len(), 1);
        assert_eq!(page.subscribers[0].api_endpoint, "https://api.eu.amazonalexa.com");
    }

    #[test]
    fn event_counts_count_the_subscribers_of_each_event() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("subs.db")).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_eq!(runtime.block_on(store.event_counts()).unwrap(), [], "an empty store counts nothing");
        let state = |user: &str, events: &[&str]| UserSubscriptions {
            user_id: UserId::new(&format!("amzn1.ask.account.{user}")).unwrap(),
            events: events.iter().map(|name| SubscribedEvent::new(name)).collect(),
            timestamp: "2026-03-01T08:00:00Z".parse().unwrap(),
            request_id: "r".to_owned(),
            api_endpoint: "https://api.amazonalexa.com".to_owned(),
        };
        let (weather, trash) = ("AMAZON.WeatherAlert.Activated", "AMAZON.TrashCollectionAlert.Activated");
        for state in [state("a", &[weather, trash]), state("b", &[weather]), state("c", &[])] {
            runtime.block_on(store.apply(state)).unwrap();
        }
        let counts = runtime.block_on(store.event_counts()).unwrap();
        assert_eq!(counts, [(SubscribedEvent::new(trash), 1), (SubscribedEvent::new(weather), 2)], "by event name");
        let tombstone = Tombstone {
            user_id: UserId::new("amzn1.ask.account.a").unwrap(),
            timestamp: "2026-03-01T09:00:00Z".parse().unwrap(),
            request_id: "d".to_owned(),
        };
        runtime.block_on(store.disable(tombstone)).unwrap();
        let counts = runtime.block_on(store.event_counts()).unwrap();
        assert_eq!(counts, [(SubscribedEvent::new(weather), 1)], "a disabled user and an empty set count for nothing");
    }

    #[test]
    fn opening_twice_keeps_one_layout_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subs.db");
        drop(SqliteStore::open(&path).unwrap());
        drop(SqliteStore::open(&path).unwrap());
        let connection = Connection::open(&path).unwrap();
        let rows: i64 = connection.query_row("SELECT count(*) FROM proactive_schema", [], |row| row.get(0)).unwrap();
        assert_eq!(rows, 1);
    }
}
