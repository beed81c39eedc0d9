//! `relevantAudience`: one user, or every subscribed user.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::UserId;

/// Who receives the event. A malformed audience (Unicast without a user,
/// Multicast with one) cannot be expressed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// One user: `{"type":"Unicast","payload":{"user":ID}}`.
    Unicast(UserId),
    /// Every user subscribed to the event: `{"type":"Multicast","payload":{}}`.
    Multicast,
}

impl Audience {
    /// Unicast to the user with this id.
    pub fn unicast(user: &str) -> Result<Self, crate::InvalidUserId> {
        Ok(Self::Unicast(UserId::new(user)?))
    }

    /// The user, for Unicast.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            Self::Unicast(user) => Some(user),
            Self::Multicast => None,
        }
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct UnicastPayload<'a> {
            user: &'a UserId,
        }
        #[derive(Serialize)]
        struct Empty {}

        let mut s = serializer.serialize_struct("RelevantAudience", 2)?;
        match self {
            Self::Unicast(user) => {
                s.serialize_field("type", "Unicast")?;
                s.serialize_field("payload", &UnicastPayload { user })?;
            }
            Self::Multicast => {
                s.serialize_field("type", "Multicast")?;
                s.serialize_field("payload", &Empty {})?;
            }
        }
        s.end()
    }
}
