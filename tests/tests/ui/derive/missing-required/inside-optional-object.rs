use proactive_core::{PerLocale, ProactiveEvent};

// `update` is optional, but once `update.scoreEarned` is mapped it is present,
// and Amazon then requires `update.teamName` too.
#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.SportsEvent.Updated",
    constant(path = "sportsEvent.homeTeamStatistic.team.name", value = "Oranges"),
    constant(path = "sportsEvent.awayTeamStatistic.team.name", value = "Apples")
)]
struct Score {
    #[proactive(path = "sportsEvent.eventLeague.name")]
    league: PerLocale,
    #[proactive(path = "sportsEvent.homeTeamStatistic.score")]
    home: u32,
    #[proactive(path = "sportsEvent.awayTeamStatistic.score")]
    away: u32,
    #[proactive(path = "update.scoreEarned")]
    points: Option<u32>,
}

fn main() {}
