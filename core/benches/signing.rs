//! Signing cost per delivery: the two `X-Phlix-Signature` headers Herald
//! adds to every webhook request, Standard Webhooks, and verification, on a
//! typical event body (~300 bytes) and a large one (16 KiB).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use herald_core::signing::{self, StandardSecret};

const SECRET: &[u8] = b"herald-bench-secret-0123456789abcdef";
const TIMESTAMP: i64 = 1_769_860_800;

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    let typical = br#"{"id":"evt_01JKZ8Q4B6Y3W2T1V0S9R8Q7P6","event":"playback.started","timestamp":"2026-01-31T12:00:00Z","data":{"user_id":"u1","media_item_id":"m1","media_type":"episode","title":"Home","series":"The Expanse","season":2,"episode":5,"user_name":"Alice"}}"#.to_vec();
    let mut large = br#"{"id":"evt_1","event":"library.updated","data":{"overview":""#.to_vec();
    large.extend(vec![b'x'; 16 * 1024]);
    large.extend(br#""}}"#);
    vec![("typical", typical), ("16KiB", large)]
}

fn signing(c: &mut Criterion) {
    let standard = StandardSecret::parse(&StandardSecret::generate()).unwrap();
    let mut group = c.benchmark_group("sign");
    for (name, body) in bodies() {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("phlix_v1", name), &body, |b, body| {
            b.iter(|| signing::sign(SECRET, body))
        });
        group.bench_with_input(BenchmarkId::new("phlix_v2", name), &body, |b, body| {
            b.iter(|| signing::sign_v2(SECRET, TIMESTAMP, body))
        });
        // What one delivery costs: both headers.
        group.bench_with_input(BenchmarkId::new("phlix_both", name), &body, |b, body| {
            b.iter(|| {
                (
                    signing::sign(SECRET, body),
                    signing::sign_v2(SECRET, TIMESTAMP, body),
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("standard", name), &body, |b, body| {
            b.iter(|| standard.sign("evt_1", TIMESTAMP, body))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("verify");
    for (name, body) in bodies() {
        let header = signing::sign(SECRET, &body);
        let header_v2 = signing::sign_v2(SECRET, TIMESTAMP, &body);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("phlix_v1", name), &body, |b, body| {
            b.iter(|| assert!(signing::verify(SECRET, body, &header)))
        });
        group.bench_with_input(BenchmarkId::new("phlix_v2", name), &body, |b, body| {
            b.iter(|| signing::verify_v2(SECRET, body, &header_v2, TIMESTAMP, 300).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
