use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.SocialGameInvite.Available",
    constant(path = "invite.relationshipToInvitee", value = "FRIEND"),
    constant(path = "invite.inviteType", value = "INVITE"),
    constant(path = "game.offer", value = "GAME"),
    constant(path = "game.name", value = "Word Duel")
)]
struct Invite {
    #[proactive(path = "invite.inviter.name", key = "inviterName")]
    inviter: String,
}

fn main() {}
