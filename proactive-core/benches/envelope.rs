//! What the safety costs: per schema, building an envelope around a payload,
//! validating it and serializing it, against the baseline of plain
//! `serde_json::to_vec` of the same envelope already built (what serde alone costs).
//!
//! Run with `cargo bench -p proactive-core --bench envelope`; the last lines
//! print each schema's ratio (build + validate + serialize) / baseline.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group};

use proactive_core::{Audience, Envelope, ReferenceId};

mod cases;

use cases::{Case, cases};

fn build_validate_serialize(case: &Case, timestamp: DateTime<Utc>, id: &ReferenceId) -> Vec<u8> {
    let (envelope, report) = Envelope::builder(&case.event, Audience::Multicast)
        .timestamp(timestamp)
        .reference_id(id.clone())
        .localized_attributes(case.localized.clone())
        .build_validated();
    assert!(!report.has_errors(), "{report}");
    envelope.to_vec()
}

/// The envelope of `case`, built once: what the baseline serializes.
fn built(case: &Case, timestamp: DateTime<Utc>, id: &ReferenceId) -> Envelope {
    Envelope::builder(&case.event, Audience::Multicast)
        .timestamp(timestamp)
        .reference_id(id.clone())
        .localized_attributes(case.localized.clone())
        .build()
}

fn bench(c: &mut Criterion) {
    let timestamp: DateTime<Utc> = "2019-02-13T14:00:00Z".parse().expect("a valid time");
    let id = ReferenceId::new("bench-0001").expect("a valid id");
    let mut group = c.benchmark_group("envelope");
    for case in cases() {
        let built = built(&case, timestamp, &id);
        group.bench_function(format!("{}/baseline to_vec", case.name), |b| {
            b.iter(|| serde_json::to_vec(black_box(&built)).expect("serializes"))
        });
        group.bench_function(format!("{}/build+validate+serialize", case.name), |b| {
            b.iter(|| build_validate_serialize(black_box(&case), timestamp, &id))
        });
    }
    group.finish();
}

/// Criterion reports absolute times; this prints the ratios the project quotes,
/// measured in the same process, interleaved to share the machine's state.
fn ratios() {
    let timestamp: DateTime<Utc> = "2019-02-13T14:00:00Z".parse().expect("a valid time");
    let id = ReferenceId::new("bench-0001").expect("a valid id");
    println!("\nratio (build + validate + serialize) / (serde_json::to_vec of the built envelope):");
    for case in cases() {
        let built = built(&case, timestamp, &id);
        let time = |f: &mut dyn FnMut()| {
            let mut best = Duration::MAX;
            for _ in 0..15 {
                let start = Instant::now();
                for _ in 0..2_000 {
                    f();
                }
                best = best.min(start.elapsed());
            }
            best
        };
        let baseline = time(&mut || {
            black_box(serde_json::to_vec(black_box(&built)).expect("serializes"));
        });
        let full = time(&mut || {
            black_box(build_validate_serialize(black_box(&case), timestamp, &id));
        });
        println!(
            "  {:<40} {:>6.2}x  ({:.0} ns vs {:.0} ns)",
            case.name.as_str(),
            full.as_secs_f64() / baseline.as_secs_f64(),
            full.as_nanos() as f64 / 2_000.0,
            baseline.as_nanos() as f64 / 2_000.0
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
