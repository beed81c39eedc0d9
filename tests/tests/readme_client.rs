//! The client sample of the README, kept compiling and running: the two
//! functions are the README's code, unchanged; the test runs the sending one
//! against the sandbox on loopback.

use std::error::Error;

use proactive_core::client::{BulkSummary, Client, SendError, Stage};
use proactive_core::schemas::WeatherAlertActivated;
use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
use proactive_core::{Audience, Envelope, ReferenceId, Region};

/// Built once at start-up and shared: clones are cheap and share the token.
fn client() -> Result<Client, Box<dyn Error>> {
    // The skill's "Alexa Skill Messaging" credentials, from its Permissions page.
    let client = Client::builder(std::env::var("ALEXA_CLIENT_ID")?, std::env::var("ALEXA_CLIENT_SECRET")?)
        .region(Region::Europe) // or .api_endpoint(..) with a request's context.System.apiEndpoint
        .stage(Stage::Live) // the default is Stage::Development
        .build()?;
    Ok(client)
}

async fn send_alerts(client: &Client) -> Result<BulkSummary, Box<dyn Error>> {
    let alert = WeatherAlertActivated::builder()
        .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
        .build();
    let envelope = Envelope::builder(alert, Audience::Multicast).build();

    // One event: validated (errors refuse to send), then sent with retries.
    match client.send(&envelope).await {
        Ok(accepted) => println!("{} after {} attempt(s)", accepted.status(), accepted.attempts()),
        Err(SendError::Invalid(invalid)) => eprintln!("not sent:\n{}", invalid.report()),
        Err(error) => eprintln!("{error} (worth retrying later: {})", error.is_retryable()),
    }

    // Many events: at most 16 in flight, one outcome per event, none lost.
    let envelopes = (0..100).map(|_| Envelope { reference_id: ReferenceId::random(), ..envelope.clone() });
    let mut outcomes = client.send_all(envelopes, 16);
    let mut summary = BulkSummary::new();
    while let Some(outcome) = outcomes.next().await {
        if let Err(error) = &outcome.result {
            eprintln!("event {} ({}): {error}", outcome.index, outcome.reference_id);
        }
        summary.record(&outcome);
    }
    println!("{summary}; {} token request(s)", client.token_requests());
    Ok(summary)
}

#[tokio::test]
async fn the_readme_sample_runs() -> Result<(), Box<dyn Error>> {
    // Without the environment variables this fails; with them it builds a client
    // for Amazon's EU host. Either way nothing is sent.
    let _ = client();

    let sandbox = proactive_sandbox::Sandbox::start().await?;
    let client = Client::builder(sandbox.client_id(), sandbox.client_secret())
        .base_url(sandbox.base_url())
        .token_url(sandbox.token_url())
        .stage(Stage::Live)
        .build()?;
    let summary = send_alerts(&client).await?;
    assert_eq!((summary.accepted, summary.total()), (100, 100));
    assert_eq!(sandbox.records().accepted.len(), 101);
    assert_eq!(client.token_requests(), 1);
    Ok(())
}
