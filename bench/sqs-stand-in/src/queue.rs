//! One in-memory queue: visible messages in arrival order, received ones hidden
//! until their visibility timeout ends.
//!
//! Every change of a message's visibility gives it a new `lease`; the ready
//! list and the hidden heap hold (id, lease) pairs, and an entry whose lease is
//! no longer the message's is stale and skipped. So no transition searches a
//! list, and a timeout needs no timer: each call first moves the messages whose
//! time has come back to the ready list.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::Notify;

/// A queue shared by the connections, and the waiters of its long polls.
#[derive(Default)]
pub(crate) struct Queue {
    state: Mutex<State>,
    /// Woken when a message becomes visible (sent, or its visibility set to 0).
    pub(crate) arrived: Notify,
}

impl Queue {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The messages of one queue.
#[derive(Default)]
pub(crate) struct State {
    /// The queue's default visibility timeout.
    pub(crate) visibility: Duration,
    next_id: u64,
    messages: HashMap<u64, Message>,
    ready: VecDeque<(u64, u32)>,
    hidden: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    visible: usize,
}

struct Message {
    body: Arc<str>,
    attributes: Arc<Map<String, Value>>,
    sent_at_ms: u64,
    /// Bumped at each change of visibility: older ready or hidden entries are stale.
    lease: u32,
    /// Bumped at each receive: the receipt handle names it.
    receipt: u32,
    receive_count: u32,
    hidden: bool,
}

/// A message as one receive hands it out.
pub(crate) struct Received {
    pub(crate) message_id: String,
    pub(crate) receipt_handle: String,
    pub(crate) body: Arc<str>,
    pub(crate) attributes: Arc<Map<String, Value>>,
    pub(crate) sent_at_ms: u64,
    pub(crate) receive_count: u32,
}

/// Why a receipt handle was refused: SQS's error codes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Not a handle this queue gave out, or one from an earlier receive.
    ReceiptHandleIsInvalid,
    /// The message is visible: nobody holds it.
    MessageNotInflight,
}

impl Fault {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            Self::MessageNotInflight => "MessageNotInflight",
        }
    }
}

/// SQS's message id shape (a UUID) made from the queue's counter.
pub(crate) fn message_id(id: u64) -> String {
    format!("00000000-0000-4000-8000-{id:012x}")
}

impl State {
    /// Adds a message, hidden for `delay`; returns its id.
    pub(crate) fn send(
        &mut self,
        body: Arc<str>,
        attributes: Arc<Map<String, Value>>,
        delay: Duration,
        sent_at_ms: u64,
        now: Instant,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let hidden = !delay.is_zero();
        self.messages
            .insert(id, Message { body, attributes, sent_at_ms, lease: 0, receipt: 0, receive_count: 0, hidden });
        if hidden {
            self.hidden.push(Reverse((now + delay, id, 0)));
        } else {
            self.ready.push_back((id, 0));
            self.visible += 1;
        }
        id
    }

    /// Up to `max` visible messages, each hidden for `visibility` from `now`.
    pub(crate) fn receive(&mut self, max: usize, visibility: Duration, now: Instant) -> Vec<Received> {
        self.reveal(now);
        let mut out = Vec::with_capacity(max.min(self.visible));
        while out.len() < max {
            let Some((id, lease)) = self.ready.pop_front() else { break };
            let Some(message) = self.messages.get_mut(&id).filter(|m| m.lease == lease && !m.hidden) else { continue };
            message.lease += 1;
            message.receipt += 1;
            message.receive_count += 1;
            message.hidden = true;
            self.visible -= 1;
            self.hidden.push(Reverse((now + visibility, id, message.lease)));
            out.push(Received {
                message_id: message_id(id),
                receipt_handle: format!("{id}.{}", message.receipt),
                body: Arc::clone(&message.body),
                attributes: Arc::clone(&message.attributes),
                sent_at_ms: message.sent_at_ms,
                receive_count: message.receive_count,
            });
        }
        out
    }

    /// Deletes the message a receipt handle names. As in SQS, a handle from an
    /// earlier receive still deletes it; a deleted message's handle is no error.
    pub(crate) fn delete(&mut self, receipt_handle: &str) -> Result<(), Fault> {
        let (id, _) = parse_receipt(receipt_handle)?;
        if let Some(message) = self.messages.remove(&id)
            && !message.hidden
        {
            self.visible -= 1;
        }
        Ok(())
    }

    /// Hides a received message for `timeout` from `now` (0: visible at once).
    /// Returns whether it became visible.
    pub(crate) fn change_visibility(
        &mut self,
        receipt_handle: &str,
        timeout: Duration,
        now: Instant,
    ) -> Result<bool, Fault> {
        self.reveal(now);
        let (id, receipt) = parse_receipt(receipt_handle)?;
        let message = self.messages.get_mut(&id).ok_or(Fault::ReceiptHandleIsInvalid)?;
        if message.receipt != receipt {
            return Err(Fault::ReceiptHandleIsInvalid);
        }
        if !message.hidden {
            return Err(Fault::MessageNotInflight);
        }
        message.lease += 1;
        if timeout.is_zero() {
            message.hidden = false;
            self.visible += 1;
            self.ready.push_back((id, message.lease));
            Ok(true)
        } else {
            self.hidden.push(Reverse((now + timeout, id, message.lease)));
            Ok(false)
        }
    }

    /// (visible, hidden) message counts at `now`.
    pub(crate) fn counts(&mut self, now: Instant) -> (usize, usize) {
        self.reveal(now);
        (self.visible, self.messages.len() - self.visible)
    }

    /// When the next hidden message becomes visible, if any is hidden.
    pub(crate) fn next_reveal(&self) -> Option<Instant> {
        self.hidden.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Deletes every message.
    pub(crate) fn purge(&mut self) {
        *self = Self { visibility: self.visibility, next_id: self.next_id, ..Self::default() };
    }

    /// Makes visible the hidden messages whose time has come.
    fn reveal(&mut self, now: Instant) {
        while let Some(Reverse((at, id, lease))) = self.hidden.peek().copied() {
            if at > now {
                break;
            }
            self.hidden.pop();
            if let Some(message) = self.messages.get_mut(&id).filter(|m| m.lease == lease && m.hidden) {
                message.lease += 1;
                message.hidden = false;
                self.visible += 1;
                self.ready.push_back((id, message.lease));
            }
        }
    }
}

fn parse_receipt(handle: &str) -> Result<(u64, u32), Fault> {
    let (id, receipt) = handle.split_once('.').ok_or(Fault::ReceiptHandleIsInvalid)?;
    Ok((
        id.parse().map_err(|_| Fault::ReceiptHandleIsInvalid)?,
        receipt.parse().map_err(|_| Fault::ReceiptHandleIsInvalid)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn queue_of(n: usize, now: Instant) -> State {
        let mut state = State::default();
        for i in 0..n {
            state.send(format!("m{i}").into(), Arc::default(), Duration::ZERO, 0, now);
        }
        state
    }

    fn bodies(received: &[Received]) -> Vec<&str> {
        received.iter().map(|r| &*r.body).collect()
    }

    #[test]
    fn a_received_message_is_hidden_until_its_timeout_then_comes_back_counted() {
        let now = Instant::now();
        let mut state = queue_of(3, now);
        let first = state.receive(2, 30 * SECOND, now);
        assert_eq!(bodies(&first), ["m0", "m1"]);
        assert_eq!(state.counts(now), (1, 2));
        assert_eq!(bodies(&state.receive(10, 30 * SECOND, now + 29 * SECOND)), ["m2"]);
        assert!(state.receive(10, 30 * SECOND, now + 29 * SECOND).is_empty());
        let again = state.receive(10, 30 * SECOND, now + 30 * SECOND);
        assert_eq!(bodies(&again), ["m0", "m1"]);
        assert_eq!(again[0].receive_count, 2);
    }

    #[test]
    fn a_deleted_message_never_comes_back() {
        let now = Instant::now();
        let mut state = queue_of(2, now);
        let received = state.receive(10, SECOND, now);
        state.delete(&received[0].receipt_handle).unwrap();
        assert_eq!(state.counts(now), (0, 1));
        assert_eq!(bodies(&state.receive(10, SECOND, now + SECOND)), ["m1"]);
        assert_eq!(state.delete("not-a-handle"), Err(Fault::ReceiptHandleIsInvalid));
    }

    #[test]
    fn a_changed_visibility_moves_the_return_and_zero_returns_at_once() {
        let now = Instant::now();
        let mut state = queue_of(2, now);
        let received = state.receive(10, SECOND, now);
        assert_eq!(state.change_visibility(&received[0].receipt_handle, 60 * SECOND, now), Ok(false));
        assert_eq!(state.change_visibility(&received[1].receipt_handle, Duration::ZERO, now), Ok(true));
        let again = state.receive(10, SECOND, now + 2 * SECOND);
        assert_eq!(bodies(&again), ["m1"]);
        state.delete(&again[0].receipt_handle).unwrap();
        assert!(state.receive(10, SECOND, now + 59 * SECOND).is_empty());
        assert_eq!(bodies(&state.receive(10, SECOND, now + 60 * SECOND)), ["m0"]);
        // The handle of the first receive is stale now.
        assert_eq!(
            state.change_visibility(&received[0].receipt_handle, SECOND, now + 60 * SECOND),
            Err(Fault::ReceiptHandleIsInvalid)
        );
    }

    #[test]
    fn a_visible_message_cannot_have_its_visibility_changed() {
        let now = Instant::now();
        let mut state = queue_of(1, now);
        let received = state.receive(1, SECOND, now);
        assert_eq!(
            state.change_visibility(&received[0].receipt_handle, SECOND, now + 5 * SECOND),
            Err(Fault::MessageNotInflight)
        );
    }

    #[test]
    fn a_delayed_message_is_hidden_until_its_delay_ends() {
        let now = Instant::now();
        let mut state = State::default();
        state.send("late".into(), Arc::default(), 5 * SECOND, 0, now);
        assert_eq!(state.counts(now), (0, 1));
        assert!(state.receive(10, SECOND, now).is_empty());
        assert_eq!(state.next_reveal(), Some(now + 5 * SECOND));
        assert_eq!(bodies(&state.receive(10, SECOND, now + 5 * SECOND)), ["late"]);
    }
}
