//! Who subscribed to what: the inbound `AlexaSkillEvent.ProactiveSubscriptionChanged`
//! request and the other skill events ([`SkillEvent`]), and a tracker that
//! keeps each user's newest subscriptions in a store.
//!
//! Amazon tells a skill which events a user wants by POSTing a
//! `ProactiveSubscriptionChanged` request to the manifest's `events.endpoint`
//! whenever the user changes them in the Alexa app. The request carries the
//! user's **whole current set**, not a delta, and requests may arrive out of
//! order. The [`SubscriptionTracker`] keeps only the newest state per user (by
//! the request's `timestamp`), tells what changed, and answers "who subscribed to
//! this event?" for Unicast fan-out.
//!
//! ```
//! use proactive_core::schemas::EventName;
//! use futures_util::TryStreamExt;
//! use proactive_core::subscription::{MemoryStore, SubscriptionChangedRequest, SubscriptionTracker, Tracked};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tracker = SubscriptionTracker::new(MemoryStore::new());
//!
//! // The body of the POST that Alexa sends to the events endpoint.
//! let body = r#"{
//!   "version": "1.0",
//!   "context": {"System": {
//!     "application": {"applicationId": "amzn1.ask.skill.example"},
//!     "user": {"userId": "amzn1.ask.account.EXAMPLE"},
//!     "apiEndpoint": "https://api.eu.amazonalexa.com"
//!   }},
//!   "request": {
//!     "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
//!     "requestId": "amzn1.echo-api.request.1",
//!     "timestamp": "2024-05-01T12:00:00Z",
//!     "body": {"subscriptions": [{"eventName": "AMAZON.WeatherAlert.Activated"}]}
//!   }
//! }"#;
//! let request = SubscriptionChangedRequest::from_json(body)?;
//! match tracker.apply(&request).await? {
//!     Tracked::Updated(change) => {
//!         println!("{} added {:?}, removed {:?}", change.user_id(), change.added(), change.removed());
//!     }
//!     Tracked::Stale(stale) => println!("ignored an out-of-order request for {}", stale.user_id()),
//!     Tracked::Disabled(_) => println!("ignored a request made before the user disabled the skill"),
//! }
//!
//! // Unicast fan-out: everyone who wants weather alerts, with the region to
//! // send to, read a page at a time.
//! let mut subscribers = std::pin::pin!(tracker.subscriber_stream(EventName::WeatherAlertActivated));
//! while let Some(subscriber) = subscribers.try_next().await? {
//!     println!("send to {} in {:?}", subscriber.user_id, subscriber.region());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The other skill events matter too: a user who disables the skill gets no
//! subscription change, and a new user id if they enable it again.
//! [`SkillEvent::from_json`] reads any of them and [`SubscriptionTracker::handle`]
//! applies it (`SkillDisabled` forgets the user and keeps a [`Tombstone`] for
//! an hour, so that an older request arriving late does not bring them back; a
//! permission change without the notifications permission unsubscribes them).
//!
//! Nothing here checks that Alexa sent the request: on an HTTPS endpoint, put
//! the `verify` feature's verifier in front (see the `subscriptions` example).
//!
//! Stores: [`MemoryStore`] (tests, single-process prototypes) and, with the
//! `sqlite` feature, `SqliteStore` (a file that survives restarts). Anything
//! else (DynamoDB, Postgres, ...) implements [`SubscriptionStore`].

mod event;
mod memory;
mod request;
mod skill_event;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
mod tracker;

pub use event::SubscribedEvent;
pub use memory::MemoryStore;
pub use request::{REQUEST_TYPE, RequestError, SubscriptionChangedRequest};
pub use skill_event::{LifecycleEvent, PermissionEvent, SkillEvent};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;
pub use store::{
    Applied, DEFAULT_PAGE_SIZE, Disabled, StoreError, Subscriber, SubscriberPage, SubscriptionStore, TOMBSTONE_TTL,
    Tombstone, UserSubscriptions,
};
pub use tracker::{Change, Handled, MAX_FUTURE, Stale, SubscriptionTracker, Tracked, TrackerError};
