//! Verification time per request with a warm certificate cache: what every
//! request to a skill's HTTPS endpoint pays once the chain is cached (the
//! body checks, a cache look-up, and one RSA-2048 signature verification).
//!
//! ```sh
//! cargo bench -p proactive-verify --bench verify
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use proactive_sandbox::{Alexa, skill_event};
use proactive_verify::{RequestPolicy, SignatureHeaders};

fn warm_cache(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let alexa = Alexa::new().unwrap();
    let verifier = alexa.verifier(RequestPolicy::new(["amzn1.ask.skill.bench"])).unwrap();
    let event = skill_event::subscription_changed(
        "amzn1.ask.skill.bench",
        "amzn1.ask.account.BENCH",
        &["AMAZON.WeatherAlert.Activated", "AMAZON.OrderStatus.Updated"],
    );
    let body = event.to_string().into_bytes();
    let signature = alexa.sign(&body);
    let headers = SignatureHeaders {
        cert_chain_url: Some(&signature.cert_chain_url),
        signature_256: Some(&signature.signature_256),
        signature: None,
    };
    // Warm the cache: the only download.
    runtime.block_on(verifier.verify(headers, &body)).unwrap();

    c.bench_function("verify/warm_cache", |b| {
        b.iter(|| runtime.block_on(verifier.verify(headers, &body)).unwrap());
    });
    c.bench_function("verify/refused_unsigned_url", |b| {
        let forged = SignatureHeaders { cert_chain_url: Some("https://evil.example.com/echo.api/x.pem"), ..headers };
        b.iter(|| runtime.block_on(verifier.verify(forged, &body)).unwrap_err());
    });
    assert_eq!(verifier.downloads(), 1, "a warm cache downloads nothing");
}

criterion_group!(benches, warm_cache);
criterion_main!(benches);
