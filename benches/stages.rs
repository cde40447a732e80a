//! Criterion benchmarks of each compiler stage and of the whole compile, on generated specs
//! with N services and N pipeline steps (N = 10, 100, 1,000 and 10,000). Run with
//! `cargo bench --bench stages`; see docs/performance.md.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

#[path = "support/specgen.rs"]
mod specgen;

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use mlship::source::SourceFile;
use std::hint::black_box;

fn stages(c: &mut Criterion) {
    // `cargo test --all-targets` runs benches once, in a debug build: keep that to N = 10.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if bench_mode { &[10, 100, 1000, 10_000] } else { &[10] };
    for &n in sizes {
        let yaml = specgen::yaml(n);
        let kdl = specgen::kdl(n);
        let project = specgen::project();
        let yfile = SourceFile::new("mlship.yaml", yaml.clone());
        let kfile = SourceFile::new("mlship.kdl", kdl.clone());
        let tree = mlship::load::parse(&yfile).unwrap();
        let (_, loaded, _) = mlship::load::load("mlship.yaml", yaml.as_bytes());
        let loaded = loaded.expect("generated specs are valid");
        let plan = mlship::lower::lower(&loaded, &project).unwrap();
        let (out, _) = mlship::emit::emit(plan.clone(), "hash").unwrap();
        let objects = out.files.len();

        let mut g = c.benchmark_group(format!("n{n}"));
        g.sample_size(if n >= 1000 { 10 } else { 30 });
        if n >= 1000 {
            g.sampling_mode(SamplingMode::Flat);
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function("parse_yaml", |b| {
            b.iter(|| mlship::load::parse(black_box(&yfile)).unwrap())
        });
        g.bench_function("parse_kdl", |b| {
            b.iter(|| mlship::load::parse(black_box(&kfile)).unwrap())
        });
        g.bench_function("schema_check", |b| b.iter(|| mlship::schema::check(black_box(&tree))));
        g.bench_function("semantic_checks", |b| {
            b.iter(|| mlship::check::check(black_box(&loaded.spec)))
        });
        g.bench_function("load_all_envs", |b| {
            b.iter(|| mlship::load::load("mlship.yaml", black_box(yaml.as_bytes())))
        });
        g.bench_function("lower", |b| {
            b.iter(|| mlship::lower::lower(black_box(&loaded), &project).unwrap())
        });
        g.bench_function("emit_dockerfiles", |b| {
            b.iter(|| mlship::emit::docker::files(black_box(&plan)).unwrap())
        });
        g.bench_function("emit_and_serialize", |b| {
            b.iter_batched(
                || plan.clone(),
                |plan| mlship::emit::emit(black_box(plan), "hash").unwrap(),
                BatchSize::LargeInput,
            )
        });
        let manifests: Vec<(&str, &str)> = out
            .files
            .iter()
            .filter(|(name, _)| name.starts_with("envs/prod/") && mlship::validate::is_manifest(name))
            .map(|(name, bytes)| (name.as_str(), std::str::from_utf8(bytes).unwrap()))
            .collect();
        let checked = mlship::validate::validate_files(&plan.kubernetes, manifests.iter().copied()).unwrap();
        assert_eq!(
            mlship::validate::summary(&checked).invalid,
            0,
            "generated output validates"
        );
        g.bench_function(
            BenchmarkId::new("validate_output", format!("{}_manifests", manifests.len())),
            |b| b.iter(|| mlship::validate::validate_files(&plan.kubernetes, black_box(manifests.iter().copied()))),
        );
        g.bench_function("diff_identical", |b| {
            b.iter(|| mlship::diff::diff(black_box(&out), black_box(&out), None))
        });
        g.bench_function(BenchmarkId::new("compile", format!("{objects}_files")), |b| {
            b.iter(|| mlship::compile("mlship.yaml", black_box(yaml.as_bytes()), &project))
        });
        g.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
