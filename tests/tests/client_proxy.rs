//! Proxies: the events request goes through the proxy that the system's
//! settings name for its host, as reqwest's proxy support reads them, and never
//! for a configuration with a plain-http loopback URL, where a proxy would see
//! the token. The checks run in a child process of this test binary, started
//! with the proxy environment variables set (the workspace forbids the unsafe
//! `std::env::set_var`).

use proactive_core::client::Client;
use proactive_core::schemas::WeatherAlertActivated;
use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
use proactive_core::{Audience, Envelope, Region};
use proactive_sandbox::Sandbox;

fn via_proxy(client: &Client) -> bool {
    let debug = format!("{client:?}");
    assert!(debug.contains("events_via_proxy"), "{debug}");
    debug.contains("events_via_proxy: true")
}

#[test]
fn events_follow_the_proxy_settings_and_loopback_never_does() {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args(["--exact", "proxy_checks", "--ignored", "--test-threads", "1"]);
    for name in ["ALL_PROXY", "all_proxy", "http_proxy", "https_proxy", "no_proxy", "REQUEST_METHOD"] {
        child.env_remove(name);
    }
    // Port 9 (discard): nothing listens, so anything sent through it fails.
    child.env("HTTPS_PROXY", "http://127.0.0.1:9").env("HTTP_PROXY", "http://127.0.0.1:9");
    child.env("NO_PROXY", "direct.example").env(CHILD, "1");
    let output = child.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "the checks ran: {stdout}");
}

/// Set in the child process.
const CHILD: &str = "PROACTIVE_PROXY_TEST_CHILD";

#[tokio::test]
#[ignore = "run by events_follow_the_proxy_settings_and_loopback_never_does, with the proxy variables set"]
async fn proxy_checks() {
    assert!(std::env::var_os(CHILD).is_some(), "run by the test above, not alone");
    let amazon = Client::builder("id", "secret").build().unwrap();
    assert!(via_proxy(&amazon), "Amazon's host is not excluded: through the proxy");
    assert!(via_proxy(&amazon.with_region(Region::Europe)), "decided again for each host");
    let excluded = Client::builder("id", "secret").base_url("https://direct.example").build().unwrap();
    assert!(!via_proxy(&excluded), "NO_PROXY names the host: direct");

    // The sandbox over plain http on loopback: never through a proxy, so
    // sending works although the proxy named is dead.
    let sandbox = Sandbox::start().await.unwrap();
    let client = Client::builder(sandbox.client_id(), sandbox.client_secret())
        .base_url(sandbox.base_url())
        .token_url(sandbox.token_url())
        .build()
        .unwrap();
    assert!(!via_proxy(&client));
    let alert = WeatherAlertActivated::builder()
        .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
        .build();
    let accepted = client.send(&Envelope::builder(alert, Audience::Multicast).build()).await.unwrap();
    assert_eq!(accepted.status(), 202);
    assert_eq!(sandbox.records().accepted.len(), 1);
}
