//! A derived struct in a crate that denies every lint the expansion could trip.

#![deny(warnings, missing_docs, unused_qualifications, unused_results, unreachable_pub, trivial_casts)]
#![deny(unused_lifetimes, single_use_lifetimes, unused_extern_crates, elided_lifetimes_in_paths)]

use std::fmt::Display;

use chrono::{DateTime, Utc};
use proactive_core::schemas::sports_event_updated::ScoreUpdate;
use proactive_core::{PerLocale, ProactiveEvent};

/// A score, generic over the team and borrowing the league's text.
#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.SportsEvent.Updated")]
pub struct Score<'a, T: Display> {
    #[proactive(path = "sportsEvent.eventLeague.name")]
    league: &'a PerLocale,
    #[proactive(path = "sportsEvent.homeTeamStatistic.team.name")]
    home: T,
    #[proactive(path = "sportsEvent.homeTeamStatistic.score")]
    home_score: u32,
    #[proactive(path = "sportsEvent.awayTeamStatistic.team.name")]
    away: &'a str,
    #[proactive(path = "sportsEvent.awayTeamStatistic.score")]
    away_score: u8,
    #[proactive(path = "update")]
    update: Option<ScoreUpdate>,
    #[proactive(skip)]
    received: DateTime<Utc>,
}

fn main() {
    let league = PerLocale::new();
    let score =
        Score { league: &league, home: 1, home_score: 1, away: "Apples", away_score: 2, update: None, received: Utc::now() };
    let _ = (score.event_name(), score.received);
}
