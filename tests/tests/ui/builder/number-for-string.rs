use proactive_core::schemas::sports_event_updated::ScoreUpdate;

fn main() {
    // `teamName` is text.
    let _ = ScoreUpdate::builder().score_earned(1).team_name(42).build();
}
