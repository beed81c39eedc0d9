//! Certificate downloads cannot be driven by anyone: requests with a valid
//! skill id and timestamp but no genuine signature start downloads, so the
//! verifier bounds them (at most 4 at once), remembers failures for a while,
//! refuses URLs with a query before any download, and never lets downloads
//! (finished or abandoned) push the genuine chain out of its cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::future::BoxFuture;
use proactive_sandbox::Alexa;
use proactive_verify::{
    CertUrl, CertificateSource, DownloadError, RequestPolicy, SignatureHeaders, Verifier, VerifyError,
};
use serde_json::json;

const SKILL: &str = "amzn1.ask.skill.test";

fn body(timestamp: DateTime<Utc>) -> Vec<u8> {
    json!({
        "version": "1.0",
        "context": {"System": {"application": {"applicationId": SKILL}, "user": {"userId": "amzn1.ask.account.A"}}},
        "request": {
            "type": "IntentRequest",
            "requestId": "amzn1.echo-api.request.1",
            "timestamp": timestamp.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    })
    .to_string()
    .into_bytes()
}

/// What the counting source does with a URL that is not the genuine chain's.
#[derive(Clone, Copy)]
enum Others {
    /// Answers 404 after a moment.
    FailSlowly,
    /// Never answers (a server that holds the connection open).
    Hang,
}

/// Counts the downloads in flight (from their first poll until they end or are
/// dropped), the most at once, and every fetch; serves the genuine chain from
/// the sandbox's Alexa.
struct Counting {
    genuine: Arc<dyn CertificateSource>,
    genuine_url: String,
    others: Others,
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    fetches: Arc<AtomicUsize>,
}

/// Decrements the in-flight count when the download ends or is dropped.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CertificateSource for Counting {
    fn fetch(&self, url: &CertUrl) -> BoxFuture<'static, Result<Bytes, DownloadError>> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let genuine = (url.as_str() == self.genuine_url).then(|| self.genuine.fetch(url));
        let (now, most, others) = (Arc::clone(&self.now), Arc::clone(&self.most), self.others);
        Box::pin(async move {
            let current = now.fetch_add(1, Ordering::SeqCst) + 1;
            let _guard = InFlight(now);
            most.fetch_max(current, Ordering::SeqCst);
            if let Some(genuine) = genuine {
                return genuine.await;
            }
            match others {
                Others::FailSlowly => tokio::time::sleep(StdDuration::from_millis(20)).await,
                Others::Hang => std::future::pending::<()>().await,
            }
            Err(DownloadError::new("no such chain (HTTP 404)"))
        })
    }
}

struct Setup {
    alexa: Alexa,
    verifier: Verifier,
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    fetches: Arc<AtomicUsize>,
}

fn setup(others: Others) -> Setup {
    let alexa = Alexa::new().unwrap();
    let (now, most, fetches) = (Arc::default(), Arc::default(), Arc::default());
    let source = Counting {
        genuine: Arc::new(alexa.certificate_source()),
        genuine_url: alexa.cert_chain_url().to_owned(),
        others,
        now: Arc::clone(&now),
        most: Arc::clone(&most),
        fetches: Arc::clone(&fetches),
    };
    let verifier = Verifier::builder(RequestPolicy::new([SKILL]))
        .trust_pem(alexa.ca_pem().as_bytes())
        .unwrap()
        .certificate_source(source)
        .build()
        .unwrap();
    Setup { alexa, verifier, now, most, fetches }
}

/// A request with the right skill id and a fresh timestamp, but a made-up signature, naming `url`.
async fn unsigned(verifier: &Verifier, url: &str) -> Result<(), VerifyError> {
    let headers = SignatureHeaders { cert_chain_url: Some(url), signature_256: Some("AAAA"), signature: None };
    verifier.verify(headers, &body(Utc::now())).await.map(drop)
}

async fn genuine(setup: &Setup) -> Result<(), VerifyError> {
    let body = body(Utc::now());
    let signature = setup.alexa.sign(&body);
    let headers = SignatureHeaders {
        cert_chain_url: Some(&signature.cert_chain_url),
        signature_256: Some(&signature.signature_256),
        signature: None,
    };
    setup.verifier.verify(headers, &body).await.map(drop)
}

fn attacker_url(n: usize) -> String {
    format!("https://s3.amazonaws.com/echo.api/attacker-{n}.pem")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_unsigned_requests_run_at_most_four_downloads_at_once() {
    let setup = setup(Others::FailSlowly);
    genuine(&setup).await.unwrap();
    let requests: Vec<_> = (0..300)
        .map(|n| {
            let verifier = setup.verifier.clone();
            tokio::spawn(async move { unsigned(&verifier, &attacker_url(n)).await })
        })
        .collect();
    for request in requests {
        let error = request.await.unwrap().unwrap_err();
        assert!(matches!(error, VerifyError::Download { .. }), "{error}");
    }
    let most = setup.most.load(Ordering::SeqCst);
    assert!((1..=4).contains(&most), "{most} downloads ran at once");
    assert_eq!(setup.now.load(Ordering::SeqCst), 0);

    genuine(&setup).await.unwrap();
    assert_eq!(setup.alexa.fetches(), 1, "the genuine chain verifies from the cache");
}

#[tokio::test]
async fn a_failed_url_is_remembered_and_not_downloaded_again() {
    let setup = setup(Others::FailSlowly);
    let url = attacker_url(1);
    for _ in 0..5 {
        let error = unsigned(&setup.verifier, &url).await.unwrap_err();
        assert!(error.to_string().contains("could not be downloaded"), "{error}");
    }
    assert_eq!(setup.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_url_is_tried_again_after_its_time() {
    let alexa = Alexa::new().unwrap();
    let verifier = Verifier::builder(RequestPolicy::new([SKILL]))
        .trust_pem(alexa.ca_pem().as_bytes())
        .unwrap()
        .certificate_source(alexa.certificate_source())
        .failure_ttl(StdDuration::ZERO)
        .build()
        .unwrap();
    let url = attacker_url(1);
    unsigned(&verifier, &url).await.unwrap_err();
    unsigned(&verifier, &url).await.unwrap_err();
    assert_eq!(alexa.fetches(), 2);
}

#[tokio::test]
async fn urls_with_a_query_or_a_fragment_are_refused_before_any_download() {
    let setup = setup(Others::FailSlowly);
    let genuine_url = setup.alexa.cert_chain_url().to_owned();
    for url in [
        format!("{genuine_url}?1"),
        format!("{genuine_url}?n=2"),
        format!("{genuine_url}?"),
        format!("{genuine_url}#3"),
    ] {
        let error = unsigned(&setup.verifier, &url).await.unwrap_err();
        assert!(matches!(error, VerifyError::CertUrl(_)), "{url}: {error}");
        assert!(error.to_string().contains("must not have a query (`?`) or a fragment (`#`)"), "{error}");
    }
    assert_eq!(setup.fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_hang_up_leave_no_download_behind_and_the_genuine_chain_stays() {
    let setup = setup(Others::Hang);
    genuine(&setup).await.unwrap();
    assert_eq!(setup.alexa.fetches(), 1);

    // More abandoned downloads than the cache has slots.
    for round in 0..3 {
        let requests: Vec<_> = (0..20)
            .map(|n| {
                let verifier = setup.verifier.clone();
                tokio::spawn(async move { unsigned(&verifier, &attacker_url(round * 100 + n)).await })
            })
            .collect();
        // Until as many downloads run as may (all 20 without a bound).
        while setup.now.load(Ordering::SeqCst) < 4 {
            tokio::time::sleep(StdDuration::from_millis(1)).await;
        }
        for request in &requests {
            request.abort();
        }
        for request in requests {
            assert!(request.await.unwrap_err().is_cancelled());
        }
    }
    assert_eq!(setup.now.load(Ordering::SeqCst), 0, "no download runs for a client that hung up");
    assert!(setup.most.load(Ordering::SeqCst) <= 4);

    genuine(&setup).await.unwrap();
    assert_eq!(setup.alexa.fetches(), 1, "the genuine chain is still cached, not downloaded again");
}
