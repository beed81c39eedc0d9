//! The JSON-in path: reading one envelope from JSON text with
//! [`Envelope::from_json`] (parse, normalize, type and validate) against the
//! baseline of `serde_json::from_slice::<Value>` of the same bytes (what parsing
//! alone costs), per schema.
//!
//! Run with `cargo bench -p proactive-core --bench json_in`; the last lines
//! print each schema's ratio from_json / baseline.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use proactive_core::schemas::EventName;
use proactive_core::{Audience, Envelope, ReferenceId};

mod cases;

/// Each schema's first example as the exact JSON an envelope file holds.
fn cases() -> Vec<(EventName, Vec<u8>)> {
    cases::cases()
        .into_iter()
        .map(|case| {
            let envelope = Envelope::builder(&case.event, Audience::Multicast)
                .reference_id(ReferenceId::new("bench-0001").expect("a valid id"))
                .localized_attributes(case.localized)
                .build();
            (case.name, envelope.to_vec())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("json_in");
    for (name, bytes) in cases() {
        let text = std::str::from_utf8(&bytes).expect("serde_json writes UTF-8");
        assert!(Envelope::from_json(text).is_ok(), "{name}: the example reads back");
        group.bench_function(format!("{name}/baseline from_slice::<Value>"), |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&bytes)))
        });
        group.bench_function(format!("{name}/from_json"), |b| b.iter(|| Envelope::from_json(black_box(text))));
    }
    group.finish();
}

/// Prints from_json / baseline per schema, measured here with a plain loop so
/// the ratio is on one line whatever criterion's output looks like.
fn ratios() {
    const ROUNDS: u32 = 20_000;
    let time = |f: &dyn Fn()| {
        let started = Instant::now();
        for _ in 0..ROUNDS {
            f();
        }
        started.elapsed() / ROUNDS
    };
    for (name, bytes) in cases() {
        let text = std::str::from_utf8(&bytes).expect("serde_json writes UTF-8");
        let baseline: Duration = time(&|| {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).ok());
        });
        let full = time(&|| {
            black_box(Envelope::from_json(black_box(text)).ok());
        });
        println!(
            "{name}: from_json {full:?}, from_slice::<Value> {baseline:?}, ratio {:.2}",
            full.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
