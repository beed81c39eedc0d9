//! `relevantAudience`: one user, or every subscribed user.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::UserId;

/// Who receives the event. A malformed audience (Unicast without a user,
/// Multicast with one) cannot be expressed.
///
/// ```
/// use proactive_core::Audience;
///
/// let one_user = Audience::unicast("amzn1.ask.account.AGF7EXAMPLEUSERID")?;
/// assert!(one_user.user().is_some());
/// assert_eq!(Audience::Multicast.user(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// One user: `{"type":"Unicast","payload":{"user":ID}}`.
    Unicast(UserId),
    /// Every user subscribed to the event: `{"type":"Multicast","payload":{}}`.
    Multicast,
}

impl Audience {
    /// Unicast to the user with this id (`context.System.user.userId` of a
    /// request Alexa sent to the skill).
    ///
    /// ```
    /// use proactive_core::Audience;
    ///
    /// let audience = Audience::unicast("amzn1.ask.account.AGF7EXAMPLEUSERID")?;
    /// assert_eq!(audience.user().map(|user| user.as_str()), Some("amzn1.ask.account.AGF7EXAMPLEUSERID"));
    /// assert!(Audience::unicast("").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
