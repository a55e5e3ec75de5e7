//! Event serialization: what the ingest path does per event (parse the
//! posted JSON, normalize it, serialize the stored and signed body) and what
//! the poller does per claimed delivery (parse the stored body again).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use herald_core::{Event, IncomingEvent};

const POSTED: &str = r#"{"event":"playback.started","data":{"user_id":"u1","media_item_id":"m1","media_type":"episode","title":"Home","series":"The Expanse","season":2,"episode":5,"user_name":"Alice"}}"#;

fn event(c: &mut Criterion) {
    let event = serde_json::from_str::<IncomingEvent>(POSTED)
        .unwrap()
        .normalize()
        .unwrap();
    let stored = event.to_json_bytes();
    let mut group = c.benchmark_group("event");
    group.throughput(Throughput::Bytes(POSTED.len() as u64));
    group.bench_function("parse_and_normalize", |b| {
        b.iter(|| {
            serde_json::from_str::<IncomingEvent>(POSTED)
                .unwrap()
                .normalize()
                .unwrap()
        })
    });
    group.throughput(Throughput::Bytes(stored.len() as u64));
    group.bench_function("to_json_bytes", |b| b.iter(|| event.to_json_bytes()));
    group.bench_function("from_stored_bytes", |b| {
        b.iter(|| serde_json::from_slice::<Event>(&stored).unwrap())
    });
    group.bench_function("to_value", |b| {
        b.iter(|| serde_json::to_value(&event).unwrap())
    });
    group.finish();
}

criterion_group!(benches, event);
criterion_main!(benches);
