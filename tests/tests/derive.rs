//! `#[derive(ProactiveEvent)]` for every schema: each derived struct validates and
//! produces exactly the envelope that the generated builders produce by hand;
//! plus generics, lifetimes, `Option` fields, constants and the run-time checks.

use std::fmt::Display;

use chrono::{DateTime, FixedOffset, Utc};
use proactive_core::schemas::LocalizedText;
use proactive_core::{
    Audience, Envelope, Locale, LocalizedAttributes, PerLocale, ProactiveEvent, ReferenceId, Report, Rule, Severity,
};
use serde_json::json;

fn time(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn locale(text: &str) -> Locale {
    text.parse().unwrap()
}

/// An envelope with fixed timestamp and reference id, so two can be compared.
fn envelope(event: &impl ProactiveEvent, attributes: LocalizedAttributes) -> (Envelope, Report) {
    Envelope::builder(event, Audience::Multicast)
        .timestamp(time("2026-05-01T08:00:00Z"))
        .reference_id(ReferenceId::new("derive-test-1").unwrap())
        .localized_attributes(attributes)
        .build_validated()
}

/// The derived event validates without errors and gives the same envelope, byte
/// for byte, as the payload built by hand with the same localized attributes.
fn assert_same_as_built(derived: &impl ProactiveEvent, built: &impl ProactiveEvent, attributes: LocalizedAttributes) {
    let (from_derive, report) = envelope(derived, LocalizedAttributes::new());
    assert!(!report.has_errors(), "{report}");
    let (by_hand, report) = envelope(built, attributes);
    assert!(!report.has_errors(), "{report}");
    assert_eq!(derived.event_name(), built.event_name());
    assert_eq!(derived.to_event(), built.to_event());
    assert_eq!(from_derive.to_json(), by_hand.to_json());
}

/// `[(locale, [(key, text)])]` as localized attributes. Locales are listed in the
/// order the derive writes them (`PerLocale` keeps them sorted), so the
/// comparisons hold whether `LocalizedAttributes` sorts locales or keeps their order.
fn attributes(entries: &[(&str, &[(&str, &str)])]) -> LocalizedAttributes {
    let mut attributes = LocalizedAttributes::new();
    for (locale_text, keys) in entries {
        for (key, text) in *keys {
            attributes.insert(locale(locale_text), key, *text).unwrap();
        }
    }
    attributes
}

mod media_content {
    use super::*;
    use proactive_core::schemas::media_content_available::*;

    #[derive(ProactiveEvent)]
    #[proactive(
        schema = "AMAZON.MediaContent.Available",
        constant(path = "content.contentType", value = "EPISODE"),
        constant(path = "availability.method", value = "STREAM")
    )]
    pub(crate) struct Episode {
        #[proactive(path = "content.name")]
        pub(crate) title: PerLocale,
        #[proactive(path = "availability.startTime")]
        pub(crate) airs: DateTime<Utc>,
        #[proactive(path = "availability.provider.name")]
        pub(crate) network: Option<PerLocale>,
        #[proactive(skip)]
        pub(crate) internal_id: u64,
    }

    pub(crate) fn episode() -> Episode {
        Episode {
            title: PerLocale::new()
                .with("en-US", "The Night Manager")
                .unwrap()
                .with("de-DE", "Der Nachtmanager")
                .unwrap(),
            airs: time("2026-05-01T20:00:00Z"),
            network: Some(PerLocale::new().with("en-US", "Example TV").unwrap().with("de-DE", "Beispiel TV").unwrap()),
            internal_id: 7,
        }
    }

    #[test]
    fn matches_the_builder() {
        let built = MediaContentAvailable::builder()
            .availability(
                Availability::builder()
                    .start_time(time("2026-05-01T20:00:00Z"))
                    .method(AvailabilityMethod::Stream)
                    .provider(LocalizedText::attribute("network"))
                    .build(),
            )
            .content(
                MediaContent::builder()
                    .name(LocalizedText::attribute("title"))
                    .content_type(ContentType::Episode)
                    .build(),
            )
            .build();
        let expected = attributes(&[
            ("de-DE", &[("title", "Der Nachtmanager"), ("network", "Beispiel TV")]),
            ("en-US", &[("title", "The Night Manager"), ("network", "Example TV")]),
        ]);
        assert_eq!(episode().localized_attributes(), expected);
        assert_same_as_built(&episode(), &built, expected);
    }

    #[test]
    fn none_leaves_the_optional_object_out() {
        let episode = Episode { network: None, ..episode() };
        let payload = serde_json::to_value(episode.to_event()).unwrap()["payload"].clone();
        assert_eq!(
            payload,
            json!({
                "availability": {"startTime": "2026-05-01T20:00:00Z", "method": "STREAM"},
                "content": {"name": "localizedattribute:title", "contentType": "EPISODE"}
            })
        );
        let keys: Vec<String> =
            episode.localized_attributes().iter().flat_map(|(_, keys)| keys.keys().map(|k| k.to_string())).collect();
        assert_eq!(keys, ["title", "title"]);
        let (_, report) = envelope(&episode, LocalizedAttributes::new());
        assert!(report.is_clean(), "{report}");
    }

    #[test]
    fn per_locale_fields_must_cover_the_same_locales() {
        let episode = Episode { network: Some(PerLocale::new().with("en-US", "Example TV").unwrap()), ..episode() };
        let (_, report) = envelope(&episode, LocalizedAttributes::new());
        let coverage: Vec<_> = report.problems().iter().filter(|p| p.rule == Rule::LocaleCoverage).collect();
        let [problem] = coverage.as_slice() else { panic!("{report}") };
        assert_eq!(problem.severity, Severity::Error);
        assert_eq!(problem.path, "event.payload.availability.provider.name");
        assert_eq!(
            problem.message,
            "per-locale field `network` has no text for `de-DE`, which `title` has; give every per-locale field the \
             same locales"
        );
    }

    /// A plain string on a localized path is literal text, the same in every locale.
    #[derive(ProactiveEvent)]
    #[proactive(
        schema = "AMAZON.MediaContent.Available",
        constant(path = "content.contentType", value = "MOVIE"),
        constant(path = "availability.method", value = "PREMIERE"),
        constant(path = "availability.provider.name", value = "Example Cinema")
    )]
    struct Premiere<'a> {
        #[proactive(path = "content.name")]
        title: &'a str,
        #[proactive(path = "availability.startTime")]
        at: DateTime<FixedOffset>,
    }

    #[test]
    fn literal_text_and_a_constant_for_a_localized_path() {
        let premiere = Premiere { title: "Heat", at: "2026-05-01T22:00:00+02:00".parse().unwrap() };
        let built = MediaContentAvailable::builder()
            .availability(
                Availability::builder()
                    .start_time(time("2026-05-01T20:00:00Z"))
                    .method(AvailabilityMethod::Premiere)
                    .provider("Example Cinema")
                    .build(),
            )
            .content(MediaContent::builder().name("Heat").content_type(ContentType::Movie).build())
            .build();
        assert!(premiere.localized_attributes().is_empty());
        assert_same_as_built(&premiere, &built, LocalizedAttributes::new());
    }

    /// A field may fill a whole object with its generated type.
    #[derive(ProactiveEvent)]
    #[proactive(schema = "AMAZON.MediaContent.Available")]
    struct Release {
        #[proactive(path = "availability")]
        availability: Availability,
        #[proactive(path = "content")]
        content: MediaContent,
    }

    #[test]
    fn a_field_can_fill_an_object() {
        let availability =
            Availability::builder().start_time(time("2026-05-01T20:00:00Z")).method(AvailabilityMethod::Drop).build();
        let content = MediaContent::builder().name("Album").content_type(ContentType::Album).build();
        let built =
            MediaContentAvailable::builder().availability(availability.clone()).content(content.clone()).build();
        assert_same_as_built(&Release { availability, content }, &built, LocalizedAttributes::new());
    }
}

mod weather_alert {
    use super::*;
    use proactive_core::schemas::weather_alert_activated::*;

    #[derive(ProactiveEvent)]
    #[proactive(schema = "AMAZON.WeatherAlert.Activated")]
    struct Alert<'a> {
        #[proactive(path = "weatherAlert.alertType")]
        kind: WeatherAlertType,
        #[proactive(path = "weatherAlert.source")]
        source: Option<&'a PerLocale>,
    }

    #[test]
    fn matches_the_builder() {
        let source =
            PerLocale::new().with("en-US", "Example Weather").unwrap().with("en-GB", "Example Weather UK").unwrap();
        let alert = Alert { kind: WeatherAlertType::Tornado, source: Some(&source) };
        let built = WeatherAlertActivated::builder()
            .weather_alert(
                WeatherAlert::builder()
                    .alert_type(WeatherAlertType::Tornado)
                    .source(LocalizedText::attribute("source"))
                    .build(),
            )
            .build();
        let expected =
            attributes(&[("en-GB", &[("source", "Example Weather UK")]), ("en-US", &[("source", "Example Weather")])]);
        assert_same_as_built(&alert, &built, expected);

        let without = Alert { kind: WeatherAlertType::SnowStorm, source: None };
        let built = WeatherAlertActivated::builder()
            .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::SnowStorm).build())
            .build();
        assert_same_as_built(&without, &built, LocalizedAttributes::new());
    }
}

mod sports_event {
    use super::*;
    use proactive_core::schemas::sports_event_updated::*;

    /// Generic over the team type: anything `Display` fills a text path.
    #[derive(ProactiveEvent)]
    #[proactive(schema = "AMAZON.SportsEvent.Updated")]
    struct Score<T: Display> {
        #[proactive(path = "sportsEvent.eventLeague.name", key = "league")]
        league_name: PerLocale,
        #[proactive(path = "sportsEvent.homeTeamStatistic.team.name")]
        home: T,
        #[proactive(path = "sportsEvent.homeTeamStatistic.score")]
        home_score: u8,
        #[proactive(path = "sportsEvent.awayTeamStatistic.team.name")]
        away: T,
        #[proactive(path = "sportsEvent.awayTeamStatistic.score")]
        away_score: u32,
        #[proactive(path = "update.teamName")]
        scorer: Option<T>,
        #[proactive(path = "update.scoreEarned")]
        points: Option<u32>,
    }

    struct Team(&'static str);

    impl Display for Team {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    fn score(scorer: Option<Team>, points: Option<u32>) -> Score<Team> {
        Score {
            league_name: PerLocale::new().with("en-US", "TreeFruit League").unwrap(),
            home: Team("Oranges"),
            home_score: 1,
            away: Team("Apples"),
            away_score: 2,
            scorer,
            points,
        }
    }

    fn built(update: Option<ScoreUpdate>) -> SportsEventUpdated {
        let sports_event = SportsEvent::builder()
            .event_league(LocalizedText::attribute("league"))
            .home_team_statistic(TeamStatistic::builder().team("Oranges").score(1).build())
            .away_team_statistic(TeamStatistic::builder().team("Apples").score(2).build())
            .build();
        SportsEventUpdated::builder().sports_event(sports_event).maybe_update(update).build()
    }

    #[test]
    fn matches_the_builder() {
        let expected = || attributes(&[("en-US", &[("league", "TreeFruit League")])]);
        let update = ScoreUpdate::builder().score_earned(1).team_name("Apples").build();
        assert_same_as_built(&score(Some(Team("Apples")), Some(1)), &built(Some(update)), expected());
        assert_same_as_built(&score(None, None), &built(None), expected());
    }

    #[test]
    fn a_half_set_optional_object_is_left_out_with_a_warning() {
        let half = score(None, Some(1));
        assert_same_as_built(&half, &built(None), attributes(&[("en-US", &[("league", "TreeFruit League")])]));
        let (_, report) = envelope(&half, LocalizedAttributes::new());
        let [problem] = report.problems() else { panic!("{report}") };
        assert_eq!(
            (problem.severity, problem.rule, problem.path.as_str()),
            (Severity::Warning, Rule::MissingField, "event.payload.update")
        );
        assert_eq!(
            problem.message,
            "`update` is left out of the event because field `scorer` (`update.teamName`) is `None` while field \
             `points` (`update.scoreEarned`) is set; Amazon requires `update.teamName` whenever `update` is present"
        );
    }
}

mod message_alert {
    use super::*;
    use proactive_core::schemas::message_alert_activated::*;

    #[derive(ProactiveEvent)]
    #[proactive(
        schema = "AMAZON.MessageAlert.Activated",
        constant(path = "state.status", value = "UNREAD"),
        constant(path = "messageGroup.urgency", value = "URGENT")
    )]
    struct Inbox {
        #[proactive(path = "messageGroup.creator.name")]
        sender: String,
        #[proactive(path = "messageGroup.count")]
        count: u16,
        #[proactive(path = "state.freshness")]
        freshness: Option<MessageFreshness>,
    }

    #[test]
    fn matches_the_builder() {
        let inbox = Inbox { sender: "Andy".to_owned(), count: 5, freshness: Some(MessageFreshness::New) };
        let built = MessageAlertActivated::builder()
            .state(MessageState::builder().status(MessageStatus::Unread).freshness(MessageFreshness::New).build())
            .message_group(MessageGroup::builder().creator("Andy").count(5).urgency(MessageUrgency::Urgent).build())
            .build();
        assert!(inbox.localized_attributes().is_empty());
        assert_same_as_built(&inbox, &built, LocalizedAttributes::new());
    }
}

mod order_status {
    use super::*;
    use proactive_core::schemas::order_status_updated::*;

    #[derive(ProactiveEvent)]
    #[proactive(schema = "AMAZON.OrderStatus.Updated")]
    struct Delivery {
        #[proactive(path = "order.seller.name", key = "sellerName")]
        seller: PerLocale,
        #[proactive(path = "state.status")]
        status: OrderStatus,
        #[proactive(path = "state.deliveryDetails.expectedArrival")]
        arrival: Option<DateTime<FixedOffset>>,
    }

    #[test]
    fn matches_the_builder() {
        let delivery = Delivery {
            seller: PerLocale::new().with("en-US", "Delivery Owl").unwrap(),
            status: OrderStatus::OrderShipped,
            arrival: Some("2026-05-02T17:30:00-07:00".parse().unwrap()),
        };
        let built = OrderStatusUpdated::builder()
            .state(
                OrderState::builder()
                    .status(OrderStatus::OrderShipped)
                    .delivery_details(DeliveryDetails::builder().expected_arrival(time("2026-05-03T00:30:00Z")).build())
                    .build(),
            )
            .order(Order::builder().seller(LocalizedText::attribute("sellerName")).build())
            .build();
        assert_same_as_built(&delivery, &built, attributes(&[("en-US", &[("sellerName", "Delivery Owl")])]));

        // An optional object with only optional fields is present when any of them is.
        let delivered = Delivery { status: OrderStatus::OrderDelivered, arrival: None, ..delivery };
        let payload = serde_json::to_value(delivered.to_event()).unwrap()["payload"].clone();
        assert_eq!(payload["state"], json!({"status": "ORDER_DELIVERED"}));
    }
}

mod occasion {
    use super::*;
    use proactive_core::schemas::occasion_updated::*;

    #[derive(ProactiveEvent)]
    #[proactive(
        schema = "AMAZON.Occasion.Updated",
        constant(path = "occasion.occasionType", value = "APPOINTMENT"),
        constant(path = "state.confirmationStatus", value = "CONFIRMED")
    )]
    struct Appointment {
        #[proactive(path = "occasion.subject")]
        subject: PerLocale,
        #[proactive(path = "occasion.provider.name", key = "providerName")]
        provider: PerLocale,
        #[proactive(path = "occasion.bookingTime")]
        booking: DateTime<Utc>,
        #[proactive(path = "occasion.broker.name")]
        broker: Option<String>,
    }

    #[test]
    fn matches_the_builder() {
        let appointment = Appointment {
            subject: PerLocale::new()
                .with("en-US", "a root canal")
                .unwrap()
                .with("fr-FR", "une dévitalisation")
                .unwrap(),
            provider: PerLocale::new().with("en-US", "Dental XYZ").unwrap().with("fr-FR", "Dentaire XYZ").unwrap(),
            booking: time("2026-05-10T09:00:00Z"),
            broker: Some("Booking Co".to_owned()),
        };
        let built = OccasionUpdated::builder()
            .state(OccasionState::builder().confirmation_status(ConfirmationStatus::Confirmed).build())
            .occasion(
                Occasion::builder()
                    .occasion_type(OccasionType::Appointment)
                    .subject(LocalizedText::attribute("subject"))
                    .provider(LocalizedText::attribute("providerName"))
                    .booking_time(time("2026-05-10T09:00:00Z"))
                    .broker("Booking Co")
                    .build(),
            )
            .build();
        let expected = attributes(&[
            ("en-US", &[("subject", "a root canal"), ("providerName", "Dental XYZ")]),
            ("fr-FR", &[("subject", "une dévitalisation"), ("providerName", "Dentaire XYZ")]),
        ]);
        assert_same_as_built(&appointment, &built, expected);
    }
}

mod trash_collection {
    use super::*;
    use proactive_core::schemas::trash_collection_alert_activated::*;

    /// Every value a constant: a unit struct is a whole event.
    #[derive(ProactiveEvent)]
    #[proactive(
        schema = "AMAZON.TrashCollectionAlert.Activated",
        constant(path = "alert.garbageTypes", value = ["GLASS", "CANS"]),
        constant(path = "alert.collectionDayOfWeek", value = "TUESDAY")
    )]
    struct GlassDay;

    #[derive(ProactiveEvent)]
    #[proactive(schema = "AMAZON.TrashCollectionAlert.Activated")]
    struct Pickup<'a> {
        #[proactive(path = "alert.garbageTypes")]
        types: &'a [GarbageType],
        #[proactive(path = "alert.collectionDayOfWeek")]
        day: DayOfWeek,
    }

    #[test]
    fn matches_the_builder() {
        let built = TrashCollectionAlertActivated::builder()
            .alert(
                TrashCollectionAlert::builder()
                    .garbage_types([GarbageType::Glass, GarbageType::Cans])
                    .collection_day_of_week(DayOfWeek::Tuesday)
                    .build(),
            )
            .build();
        assert_same_as_built(&GlassDay, &built, LocalizedAttributes::new());
        let pickup = Pickup { types: &[GarbageType::Glass, GarbageType::Cans], day: DayOfWeek::Tuesday };
        assert_same_as_built(&pickup, &built, LocalizedAttributes::new());
    }
}

mod social_game_invite {
    use super::*;
    use proactive_core::schemas::social_game_invite_available::*;

    #[derive(ProactiveEvent)]
    #[proactive(
        schema = "AMAZON.SocialGameInvite.Available",
        constant(path = "invite.inviteType", value = "CHALLENGE"),
        constant(path = "game.offer", value = "MATCH")
    )]
    struct Challenge {
        #[proactive(path = "invite.inviter.name")]
        inviter: String,
        #[proactive(path = "invite.relationshipToInvitee")]
        relationship: Relationship,
        #[proactive(path = "game.name", key = "gameName")]
        game: PerLocale,
    }

    #[test]
    fn matches_the_builder() {
        let challenge = Challenge {
            inviter: "Max".to_owned(),
            relationship: Relationship::Friend,
            game: PerLocale::new().with("en-US", "Word Duel").unwrap(),
        };
        let built = SocialGameInviteAvailable::builder()
            .invite(
                Invite::builder()
                    .inviter("Max")
                    .relationship_to_invitee(Relationship::Friend)
                    .invite_type(InviteType::Challenge)
                    .build(),
            )
            .game(Game::builder().offer(GameOffer::Match).name(LocalizedText::attribute("gameName")).build())
            .build();
        assert_same_as_built(&challenge, &built, attributes(&[("en-US", &[("gameName", "Word Duel")])]));
    }
}

/// `crate = "..."` for a crate that renamed `proactive-core`.
mod renamed {
    extern crate proactive_core as renamed_core;
    use super::*;

    #[derive(ProactiveEvent)]
    #[proactive(
        crate = "renamed_core",
        schema = "AMAZON.WeatherAlert.Activated",
        constant(path = "weatherAlert.alertType", value = "HURRICANE")
    )]
    struct Hurricane;

    #[test]
    fn the_crate_path_is_used() {
        assert_eq!(Hurricane.event_name().as_str(), "AMAZON.WeatherAlert.Activated");
    }
}

/// A derived event works through a trait object like any other.
#[test]
fn derived_events_are_object_safe() {
    let events: Vec<Box<dyn ProactiveEvent>> = vec![Box::new(media_content::episode())];
    assert_eq!(events[0].event_name().as_str(), "AMAZON.MediaContent.Available");
    assert_eq!(events[0].localized_attributes().len(), 2);
}
