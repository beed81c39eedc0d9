//! `proactive doctor`: one test per finding, each with the exact first line a
//! user sees, and `manifest --merge` refusing what doctor calls an error.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use proactive_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn doctor(args: &[&str]) -> Run {
    let output = Command::new(cargo_bin!("proactive"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .arg("doctor")
        .args(args)
        .env_remove("ALEXA_CLIENT_ID")
        .env_remove("ALEXA_CLIENT_SECRET")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn scratch(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("proactive-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// A manifest doctor finds nothing wrong with.
fn healthy() -> Value {
    json!({"manifest": {
        "publishingInformation": {"locales": {"en-US": {"name": "Owl Weather"}}},
        "permissions": [{"name": "alexa::devices:all:notifications:write"}],
        "events": {
            "publications": [{"eventName": "AMAZON.WeatherAlert.Activated"}],
            "subscriptions": [{"eventName": "SKILL_PROACTIVE_SUBSCRIPTION_CHANGED"}, {"eventName": "SKILL_DISABLED"}],
            "endpoint": {"uri": "arn:aws:lambda:us-east-1:210987654321:function:owl-weather"}
        }
    }})
}

/// Runs doctor on `skill` (plus `extra` arguments); returns the run and its first line.
fn check(name: &str, skill: &Value, extra: &[&str]) -> (Run, String) {
    let path = scratch(&format!("{name}.json"), &serde_json::to_string_pretty(skill).unwrap());
    let mut args = vec!["--manifest", path.as_str()];
    args.extend(extra);
    let run = doctor(&args);
    let first = run.stdout.lines().next().unwrap_or_default().to_owned();
    (run, first)
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    *value.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer}")) = new;
}

#[test]
fn a_healthy_manifest_is_clean() {
    let (run, first) = check("healthy", &healthy(), &[]);
    assert_eq!((run.code, first.as_str()), (0, "doctor: no problem found"), "{}", run.stderr);
}

#[test]
fn no_proactive_events_at_all() {
    let (run, first) = check("nothing", &json!({"manifest": {"apis": {"custom": {}}}}), &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        first,
        "error: manifest.events.publications: the skill publishes no proactive event and lacks the notifications \
         permission; add both with `proactive manifest --event NAME --endpoint URI --merge skill.json`"
    );
}

#[test]
fn publications_without_the_permission() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/permissions", json!([]));
    let (run, first) = check("no-permission", &skill, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        first,
        "error: manifest.permissions: the skill publishes events but lacks the \
         `alexa::devices:all:notifications:write` permission, and SMAPI rejects the manifest; add \
         {\"name\": \"alexa::devices:all:notifications:write\"} to manifest.permissions"
    );
}

#[test]
fn the_permission_without_publications() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/events/publications", json!([]));
    let (run, first) = check("no-publications", &skill, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        first,
        "error: manifest.events.publications: the skill has the notifications permission but publishes no event, \
         so no proactive event can be sent; add {\"eventName\": \"AMAZON.…\"} for each event it sends"
    );
}

#[test]
fn an_unknown_event_name() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/events/publications", json!([{"eventName": "AMAZON.WeatherAlert.Activate"}]));
    let (run, first) = check("unknown-event", &skill, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        first,
        "error: manifest.events.publications[0].eventName: `AMAZON.WeatherAlert.Activate` is not an event Amazon \
         knows, and SMAPI rejects the manifest; did you mean `AMAZON.WeatherAlert.Activated`?"
    );
}

#[test]
fn no_subscription_changed_subscription() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/events/subscriptions", json!([{"eventName": "SKILL_DISABLED"}]));
    let (run, first) = check("no-spsc", &skill, &[]);
    assert_eq!(run.code, 0, "warnings only");
    assert_eq!(
        first,
        "warning: manifest.events.subscriptions: no `SKILL_PROACTIVE_SUBSCRIPTION_CHANGED` subscription, so the skill \
         cannot learn who subscribed to its events; add {\"eventName\": \"SKILL_PROACTIVE_SUBSCRIPTION_CHANGED\"} \
         (`proactive manifest --event NAME --merge skill.json` adds it)"
    );
    assert_eq!(run.stdout.lines().last(), Some("doctor: 0 error(s), 1 warning(s)"));
}

#[test]
fn no_skill_disabled_subscription() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/events/subscriptions", json!([{"eventName": "SKILL_PROACTIVE_SUBSCRIPTION_CHANGED"}]));
    let (run, first) = check("no-disabled", &skill, &[]);
    assert_eq!(run.code, 0);
    assert_eq!(
        first,
        "warning: manifest.events.subscriptions: no `SKILL_DISABLED` subscription: a user who disables the skill \
         sends no subscription change, and comes back with a new user id; add the lifecycle subscriptions \
         (`proactive manifest --event NAME --merge skill.json` or `EventsManifest::subscribe_lifecycle()` add them) \
         and let `SubscriptionTracker::handle` drop the user's subscriptions when it arrives"
    );
}

#[test]
fn a_missing_endpoint() {
    let mut skill = healthy();
    skill["manifest"]["events"].as_object_mut().unwrap().remove("endpoint");
    let (run, first) = check("no-endpoint", &skill, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        first,
        "error: manifest.events.endpoint.uri: missing; SMAPI requires the events endpoint Alexa sends subscription \
         changes to: a Lambda ARN or an https:// URL"
    );
}

#[test]
fn an_endpoint_that_is_not_an_arn_or_https() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/events/endpoint/uri", json!("http://owl.example.net/alexa"));
    let (run, first) = check("http-endpoint", &skill, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        first,
        "error: manifest.events.endpoint.uri: the events endpoint `http://owl.example.net/alexa` must be a Lambda ARN \
         (`arn:aws:lambda:…`) or an `https://` URL; Amazon's manifest accepts nothing else"
    );
}

#[test]
fn a_placeholder_endpoint() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/events/endpoint/uri", json!("arn:aws:lambda:us-east-1:123456789012:function:skill"));
    let (run, first) = check("placeholder", &skill, &[]);
    assert_eq!(run.code, 0);
    assert_eq!(
        first,
        "warning: manifest.events.endpoint.uri: `arn:aws:lambda:us-east-1:123456789012:function:skill` looks like a \
         placeholder from an example, so subscription changes would go nowhere; set the skill's own Lambda ARN or \
         https:// URL"
    );
}

#[test]
fn a_skill_locale_the_schema_does_not_support() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/events/publications", json!([{"eventName": "AMAZON.OrderStatus.Updated"}]));
    set(&mut skill, "/manifest/publishingInformation/locales", json!({"en-US": {}, "de-DE": {}}));
    let (run, first) = check("locales", &skill, &[]);
    assert_eq!(run.code, 0);
    assert_eq!(
        first,
        "warning: manifest.publishingInformation.locales.de-DE: Amazon documents `AMAZON.OrderStatus.Updated` for \
         en-US only; users in de-DE may not receive it (a gap in Amazon's documentation, not an error: once you have \
         checked delivery there, `proactive doctor --allow locale-support` leaves this out)"
    );
    // The flag the warning names leaves it out.
    let (run, first) = check("locales-allowed", &skill, &["--allow", "locale-support"]);
    assert_eq!((run.code, first.as_str()), (0, "doctor: no problem found"), "{}", run.stdout);
}

#[test]
fn a_region_that_serves_none_of_the_skill_locales() {
    let (run, first) = check("region", &healthy(), &["--region", "eu"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        first,
        "warning: manifest.publishingInformation.locales: events go to the EU host, but none of the skill's \
         locales is served there: en-US (NA); send each user's events to the host of their apiEndpoint"
    );
    assert_eq!(check("region-ok", &healthy(), &["--region", "na"]).0.stdout, "doctor: no problem found\n");
}

#[test]
fn events_outside_the_now_window_or_without_a_skill_locale() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/publishingInformation/locales", json!({"en-US": {}, "en-CA": {}}));
    let (run, first) = check("events", &skill, &["--events", "examples/events/weather_alert.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        first.starts_with(
            "warning: examples/events/weather_alert.json: expiryTime: expiryTime 2035-06-02T08:00:00Z is "
        ) && first.contains(" days after now; Amazon accepts an expiryTime between now + 5 min ("),
        "{first}"
    );
    assert_eq!(
        run.stdout.lines().nth(1).unwrap(),
        "warning: examples/events/weather_alert.json: localizedAttributes: no text for en-CA, a locale of the skill: \
         users in en-CA would be notified without the content; add a localizedAttributes object for en-CA"
    );
    // An invalid event is an error, with its file and JSON path.
    let mut bad: Value =
        serde_json::from_str(&std::fs::read_to_string("../examples/events/weather_alert.json").unwrap()).unwrap();
    set(&mut bad, "/event/payload/weatherAlert/alertType", json!("TORNADOS"));
    let bad = scratch("bad-event.json", &bad.to_string());
    let run = doctor(&["--events", &bad]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with(&format!("error: {bad}: event.payload.weatherAlert.alertType: ")), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_get_a_real_token_request_and_invalid_scope_is_a_manifest_problem() {
    let good = Sandbox::start().await.unwrap();
    let refusing = Sandbox::start_with(SandboxConfig::new().without_proactive_events()).await.unwrap();
    let args = |sandbox: &Sandbox, secret: &str| {
        vec![
            "--client-id".to_owned(),
            sandbox.client_id().to_owned(),
            "--client-secret".to_owned(),
            secret.to_owned(),
            "--token-url".to_owned(),
            sandbox.token_url(),
        ]
    };
    let run_doctor = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || doctor(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let ok = run_doctor(args(&good, good.client_secret())).await.unwrap();
    assert_eq!((ok.code, ok.stdout.as_str()), (0, "doctor: no problem found\n"), "{}", ok.stderr);
    assert_eq!(good.records().tokens_issued(), 1);

    let scope = run_doctor(args(&refusing, refusing.client_secret())).await.unwrap();
    assert_eq!(scope.code, 1);
    assert_eq!(
        scope.stdout.lines().next().unwrap(),
        "error: credentials: Login with Amazon refused the scope `alexa::proactive_events` (invalid_scope: An unknown \
         scope was requested): the skill manifest probably lacks the `alexa::devices:all:notifications:write` \
         permission or `events.publications`; add them and deploy the skill"
    );

    let secret = "wrong-s3cret";
    let client = run_doctor(args(&good, secret)).await.unwrap();
    assert_eq!(client.code, 1);
    assert!(client.stdout.starts_with("error: credentials: Login with Amazon rejected the client credentials"));
    assert!(!client.stdout.contains(secret) && !client.stderr.contains(secret));
}

#[test]
fn json_output_and_exit_2_when_it_cannot_run() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/permissions", json!([]));
    let (run, _) = check("json", &skill, &["--format", "json"]);
    assert_eq!(run.code, 1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!((report["errors"].as_u64(), report["warnings"].as_u64()), (Some(1), Some(0)));
    assert_eq!(report["findings"][0]["severity"], "error");
    assert_eq!(report["findings"][0]["check"], "missing-permission");
    assert_eq!(report["findings"][0]["path"], "manifest.permissions");

    assert_eq!(doctor(&[]).code, 2);
    let missing = doctor(&["--manifest", "no/such/skill.json"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("cannot read `no/such/skill.json`"));
    let not_json = scratch("not-json.json", "{");
    assert_eq!(doctor(&["--manifest", &not_json]).code, 2);
}

#[test]
fn manifest_merge_refuses_what_doctor_calls_an_error() {
    let mut skill = healthy();
    set(&mut skill, "/manifest/events/publications", json!([{"eventName": "AMAZON.WeatherAlert.Activate"}]));
    let text = serde_json::to_string_pretty(&skill).unwrap();
    let path = scratch("merge-typo.json", &text);
    let output = Command::new(cargo_bin!("proactive"))
        .args(["manifest", "--event", "AMAZON.OrderStatus.Updated", "--merge", &path])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!(
            "error: {path}: manifest.events.publications[0].eventName: `AMAZON.WeatherAlert.Activate` is not an event \
             Amazon knows, and SMAPI rejects the manifest; did you mean `AMAZON.WeatherAlert.Activated`?"
        )
    );
    assert!(stderr.contains("was not changed"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "the file is untouched");
}

/// What `proactive manifest` writes, `proactive doctor` finds clean: for every
/// combination of `manifest`'s flags (one event or several; `--endpoint` given
/// or kept from skill.json; `--merge` into a skill.json without events, into
/// one with older events, or no `--merge`, the fragment pasted into skill.json
/// by hand). Issue 23: the CLI agrees with itself.
#[test]
fn what_manifest_writes_doctor_finds_clean_for_every_combination_of_flags() {
    const ENDPOINT: &str = "arn:aws:lambda:eu-west-1:210987654321:function:owl-orders";
    let bare = json!({"manifest": {
        "publishingInformation": {"locales": {"en-US": {"name": "Owl Orders"}}},
        "permissions": []
    }});
    let older = json!({"manifest": {
        "publishingInformation": {"locales": {"en-US": {"name": "Owl Orders"}}},
        "permissions": [{"name": "alexa::devices:all:notifications:write"}],
        "events": {
            "publications": [{"eventName": "AMAZON.WeatherAlert.Activated"}],
            "subscriptions": [{"eventName": "SKILL_PROACTIVE_SUBSCRIPTION_CHANGED"}],
            "endpoint": {"uri": ENDPOINT}
        }
    }});
    let all: Vec<&str> = proactive_core::schemas::EventName::ALL.iter().map(|e| e.as_str()).collect();
    let event_sets: [&[&str]; 3] =
        [&["AMAZON.OrderStatus.Updated"], &["AMAZON.OrderStatus.Updated", "AMAZON.WeatherAlert.Activated"], &all];
    let mut case = 0;
    for events in event_sets {
        // (starting skill.json, --endpoint given, --merge given)
        for (start, endpoint, merge) in
            [(&bare, true, true), (&older, true, true), (&older, false, true), (&bare, true, false)]
        {
            case += 1;
            let path = scratch(&format!("combination-{case}.json"), &serde_json::to_string_pretty(start).unwrap());
            let mut args = vec!["manifest".to_owned()];
            for event in events {
                args.extend(["--event".to_owned(), (*event).to_owned()]);
            }
            if endpoint {
                args.extend(["--endpoint".to_owned(), ENDPOINT.to_owned()]);
            }
            if merge {
                args.extend(["--merge".to_owned(), path.clone()]);
            }
            let output = Command::new(cargo_bin!("proactive")).args(&args).output().unwrap();
            let (stdout, stderr) =
                (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap());
            assert_eq!(output.status.code(), Some(0), "{args:?}\n{stderr}");
            assert_eq!(stderr, "", "{args:?}: no warning about what it wrote");
            if !merge {
                // The fragment, pasted into skill.json's manifest.
                let fragment: Value = serde_json::from_str(&stdout).unwrap();
                let mut skill = start.clone();
                for (key, value) in fragment.as_object().unwrap() {
                    skill["manifest"][key] = value.clone();
                }
                std::fs::write(&path, serde_json::to_string_pretty(&skill).unwrap()).unwrap();
            }
            let run = doctor(&["--manifest", &path]);
            assert_eq!((run.code, run.stdout.as_str()), (0, "doctor: no problem found\n"), "{args:?}\n{}", run.stderr);
        }
    }
}
