//! The verifier against the sandbox's Alexa (a CA made in the test with rcgen):
//! a signed request passes, and each way of getting it wrong fails with its
//! own error.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use proactive_sandbox::{Alexa, AlexaOptions};
use proactive_verify::{CertProblem, RequestPolicy, SignatureHeaders, Verifier, VerifyError};
use serde_json::{Value, json};

const SKILL: &str = "amzn1.ask.skill.test";

fn body(request_type: &str, timestamp: DateTime<Utc>) -> Vec<u8> {
    json!({
        "version": "1.0",
        "context": {"System": {
            "application": {"applicationId": SKILL},
            "user": {"userId": "amzn1.ask.account.A"},
            "apiEndpoint": "https://api.amazonalexa.com"
        }},
        "request": {
            "type": request_type,
            "requestId": "amzn1.echo-api.request.1",
            "timestamp": timestamp.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    })
    .to_string()
    .into_bytes()
}

fn intent(age: Duration) -> Vec<u8> {
    body("IntentRequest", Utc::now() - age)
}

fn verifier(alexa: &Alexa) -> Verifier {
    alexa.verifier(RequestPolicy::new([SKILL])).unwrap()
}

async fn verify(verifier: &Verifier, alexa: &Alexa, body: &[u8]) -> Result<(), VerifyError> {
    let signature = alexa.sign(body);
    let headers = SignatureHeaders {
        cert_chain_url: Some(&signature.cert_chain_url),
        signature_256: Some(&signature.signature_256),
        signature: None,
    };
    verifier.verify(headers, body).await.map(drop)
}

fn certificate_problem(result: Result<(), VerifyError>) -> CertProblem {
    match result {
        Err(VerifyError::Certificate { problem, .. }) => problem,
        other => panic!("expected a certificate error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_signed_request_passes_and_a_changed_byte_fails() {
    let alexa = Alexa::new().unwrap();
    let verifier = verifier(&alexa);
    let body = intent(Duration::zero());
    verify(&verifier, &alexa, &body).await.unwrap();

    let signature = alexa.sign(&body);
    // One byte: the user id `…A` becomes `…B`; still valid JSON.
    let at = body.windows(20).position(|w| w == b"amzn1.ask.account.A\"").unwrap() + 18;
    let mut changed = body.clone();
    changed[at] = b'B';
    let headers = SignatureHeaders {
        cert_chain_url: Some(&signature.cert_chain_url),
        signature_256: Some(&signature.signature_256),
        signature: None,
    };
    let error = verifier.verify(headers, &changed).await.unwrap_err();
    assert!(matches!(error, VerifyError::Signature), "{error}");
}

#[tokio::test]
async fn missing_and_legacy_headers_fail_before_any_download() {
    let alexa = Alexa::new().unwrap();
    let verifier = verifier(&alexa);
    let body = intent(Duration::zero());
    let signature = alexa.sign(&body);
    let url = Some(signature.cert_chain_url.as_str());
    let sig = Some(signature.signature_256.as_str());

    let cases = [
        (SignatureHeaders { cert_chain_url: None, signature_256: sig, signature: None }, "SignatureCertChainUrl"),
        (SignatureHeaders { cert_chain_url: url, signature_256: None, signature: None }, "Signature-256"),
    ];
    for (headers, header) in cases {
        let error = verifier.verify(headers, &body).await.unwrap_err();
        assert!(matches!(error, VerifyError::MissingHeader { header: h } if h == header), "{error}");
    }
    let sha1_only = SignatureHeaders { cert_chain_url: url, signature_256: None, signature: sig };
    let error = verifier.verify(sha1_only, &body).await.unwrap_err();
    assert!(matches!(error, VerifyError::LegacySignatureOnly), "{error}");
    let not_base64 = SignatureHeaders { cert_chain_url: url, signature_256: Some("%%%"), signature: None };
    let error = verifier.verify(not_base64, &body).await.unwrap_err();
    assert!(matches!(error, VerifyError::SignatureNotBase64), "{error}");
    assert_eq!(alexa.fetches(), 0, "no header failure downloads anything");
}

#[tokio::test]
async fn every_url_of_section_8_fails_or_passes_as_listed() {
    let alexa = Alexa::new().unwrap();
    let verifier = verifier(&alexa);
    let body = intent(Duration::zero());
    let signature = alexa.sign(&body);
    let file = signature.cert_chain_url.rsplit('/').next().unwrap().to_owned();
    let check = |url: String| {
        let verifier = verifier.clone();
        let body = body.clone();
        let signature = signature.signature_256.clone();
        async move {
            let headers =
                SignatureHeaders { cert_chain_url: Some(&url), signature_256: Some(&signature), signature: None };
            verifier.verify(headers, &body).await.map(drop)
        }
    };
    for url in [
        format!("http://s3.amazonaws.com/echo.api/{file}"),
        format!("https://notamazon.com/echo.api/{file}"),
        format!("https://s3.amazonaws.com/EcHo.aPi/{file}"),
        format!("https://s3.amazonaws.com/invalid.path/{file}"),
        format!("https://s3.amazonaws.com:563/echo.api/{file}"),
        format!("https://s3.amazonaws.com/echo.api/../invalid.path/{file}"),
    ] {
        let error = check(url.clone()).await.unwrap_err();
        assert!(matches!(error, VerifyError::CertUrl(_)), "{url}: {error}");
    }
    assert_eq!(alexa.fetches(), 0, "a refused URL is never fetched");
    for url in [
        format!("https://s3.amazonaws.com/echo.api/{file}"),
        format!("https://S3.AMAZONAWS.COM/echo.api/{file}"),
        format!("https://s3.amazonaws.com:443/echo.api/{file}"),
        format!("https://s3.amazonaws.com/echo.api/../echo.api/{file}"),
    ] {
        check(url.clone()).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    }
    assert_eq!(alexa.fetches(), 1, "the four spellings are one URL, fetched once");
}

#[tokio::test]
async fn certificates_outside_their_validity_or_for_another_name_fail() {
    let now = Utc::now();
    let cases = [
        (
            AlexaOptions {
                not_before: now - Duration::days(30),
                not_after: now - Duration::days(1),
                ..Default::default()
            },
            CertProblem::Expired,
        ),
        (
            AlexaOptions {
                not_before: now + Duration::days(1),
                not_after: now + Duration::days(30),
                ..Default::default()
            },
            CertProblem::NotYetValid,
        ),
        (
            AlexaOptions { signing_name: "echo-api.amazon.com.evil.example".to_owned(), ..Default::default() },
            CertProblem::WrongName,
        ),
    ];
    for (options, expected) in cases {
        let alexa = Alexa::with_options(options.clone()).unwrap();
        let problem = certificate_problem(verify(&verifier(&alexa), &alexa, &intent(Duration::zero())).await);
        assert_eq!(problem, expected, "{options:?}");
    }
}

#[tokio::test]
async fn a_chain_to_an_untrusted_root_fails() {
    let trusted = Alexa::new().unwrap();
    let stranger = Alexa::new().unwrap();
    // Trusts `trusted`'s CA, but downloads whatever chain the request names.
    let verifier = Verifier::builder(RequestPolicy::new([SKILL]))
        .trust_pem(trusted.ca_pem().as_bytes())
        .unwrap()
        .certificate_source(stranger.certificate_source())
        .build()
        .unwrap();
    let problem = certificate_problem(verify(&verifier, &stranger, &intent(Duration::zero())).await);
    assert_eq!(problem, CertProblem::UntrustedChain);
}

#[tokio::test]
async fn timestamps_are_held_to_their_tolerance_both_ways() {
    let alexa = Alexa::new().unwrap();
    let verifier = verifier(&alexa);
    let changed = "AlexaSkillEvent.ProactiveSubscriptionChanged";
    let cases: [(&str, Duration, bool); 7] = [
        ("IntentRequest", Duration::seconds(140), true),
        ("IntentRequest", Duration::seconds(151), false),
        ("IntentRequest", -Duration::minutes(2), false),
        (changed, Duration::minutes(59), true),
        (changed, Duration::minutes(61), false),
        ("AlexaSkillEvent.SkillDisabled", Duration::minutes(59), true),
        (changed, -Duration::minutes(10), false),
    ];
    for (request_type, age, passes) in cases {
        let result = verify(&verifier, &alexa, &body(request_type, Utc::now() - age)).await;
        match (passes, result) {
            (true, Ok(())) => {}
            (false, Err(VerifyError::Timestamp { in_the_future, .. })) => {
                assert_eq!(in_the_future, age < Duration::zero(), "{request_type} {age}");
            }
            (_, other) => panic!("{request_type} aged {age}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn another_skills_request_fails() {
    let alexa = Alexa::new().unwrap();
    let verifier = alexa.verifier(RequestPolicy::new(["amzn1.ask.skill.other"])).unwrap();
    let error = verify(&verifier, &alexa, &intent(Duration::zero())).await.unwrap_err();
    assert!(matches!(error, VerifyError::WrongApplication { ref found } if found == SKILL), "{error}");
    assert_eq!(alexa.fetches(), 0, "a request for another skill downloads nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_is_fetched_once_for_100_requests_and_again_after_it_expires() {
    let now = Utc::now();
    let not_after = now + Duration::hours(2);
    let alexa = Alexa::with_options(AlexaOptions { not_after, ..Default::default() }).unwrap();
    let clock = Arc::new(Mutex::new(now));
    let read = Arc::clone(&clock);
    let policy = RequestPolicy::new([SKILL]).with_clock(move || *read.lock().unwrap());
    let verifier = alexa.verifier(policy).unwrap();

    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (verifier, alexa) = (verifier.clone(), alexa.clone());
            tokio::spawn(async move { verify(&verifier, &alexa, &body("IntentRequest", now)).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!((alexa.fetches(), verifier.downloads()), (1, 1));

    // Past notAfter the cached verdict no longer holds: the chain is fetched
    // again (and, being the same expired certificate, refused).
    let later = not_after + Duration::seconds(1);
    *clock.lock().unwrap() = later;
    let problem = certificate_problem(verify(&verifier, &alexa, &body("IntentRequest", later)).await);
    assert_eq!(problem, CertProblem::Expired);
    assert_eq!(alexa.fetches(), 2);
}

#[tokio::test]
async fn bodies_that_are_not_alexa_requests_fail_without_a_download() {
    let alexa = Alexa::new().unwrap();
    let verifier = verifier(&alexa);
    for body in
        [b"not json".to_vec(), json!({"request": {}}).to_string().into_bytes(), Value::Null.to_string().into_bytes()]
    {
        let error = verify(&verifier, &alexa, &body).await.unwrap_err();
        assert!(matches!(error, VerifyError::Body { .. }), "{error}");
    }
    assert_eq!(alexa.fetches(), 0);
}
