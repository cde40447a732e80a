//! Criterion benchmarks of each compiler stage and of the whole compile, on generated specs
//! with N services and N pipeline steps (N = 10, 100, 1,000 and 10,000). Run with
//! `cargo bench --bench stages`; see docs/performance.md. The `linear` group times inputs that
//! once took quadratic time, at two sizes ten times apart.

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
        let plan = mlship::lower::lower(loaded.clone(), &project).unwrap();
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
            b.iter_batched(
                || loaded.clone(),
                |loaded| mlship::lower::lower(black_box(loaded), &project).unwrap(),
                BatchSize::LargeInput,
            )
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

/// Inputs that once took quadratic time (issue 14), each at two sizes ten times apart: linear
/// work takes about 10x as long at the larger size, quadratic work 100x. A long flow
/// collection on one YAML line, rendering many diagnostics of one large file, two
/// environments overriding every config key, and many patches of as many objects.
fn linear(c: &mut Criterion) {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if bench_mode { &[1000, 10_000] } else { &[100] };
    let mut g = c.benchmark_group("linear");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    for &n in sizes {
        let items: Vec<String> = (0..8 * n).map(|i| format!("a{i}")).collect();
        let flow = SourceFile::new("mlship.yaml", format!("x: [{}]\n", items.join(", ")));
        g.bench_function(BenchmarkId::new("yaml_flow_list_on_one_line", 8 * n), |b| {
            b.iter(|| mlship::load::parse(black_box(&flow)).unwrap())
        });

        let mut text = "#\n".repeat(10 * n);
        let mut diags = Vec::new();
        for i in 0..n {
            let at = text.len() + 2;
            text.push_str(&format!("  svc{i}: {{replicas: 2, port: 8080}}\n"));
            diags.push(
                mlship::diag::Diagnostic::error(mlship::diag::Code::Conflict, "`replicas` is ignored")
                    .span(mlship::source::Span::new(at, at + 3))
                    .help("remove it"),
            );
        }
        let file = SourceFile::new("mlship.yaml", text);
        g.bench_function(BenchmarkId::new("render_diagnostics", n), |b| {
            b.iter(|| {
                diags
                    .iter()
                    .map(|d| mlship::diag::render(black_box(d), &file, false).len())
                    .sum::<usize>()
            })
        });

        let keys: String = (0..10 * n).map(|i| format!("  K{i}: a\n")).collect();
        let over: String = (0..10 * n).map(|i| format!("      K{i}: b\n")).collect();
        let overrides = format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nconfig:\n{keys}\
             environments:\n  dev:\n    config:\n{over}  prod:\n    config:\n{over}"
        );
        assert!(mlship::load::load("mlship.yaml", overrides.as_bytes()).1.is_some());
        g.bench_function(
            BenchmarkId::new("load_two_environments_overriding_every_config_key", 10 * n),
            |b| b.iter(|| mlship::load::load("mlship.yaml", black_box(overrides.as_bytes()))),
        );

        let mut yaml = specgen::yaml(n);
        yaml.push_str("patches:\n");
        for i in 0..n {
            yaml.push_str(&format!(
                "  - {{kind: Deployment, name: bench-svc{i}, patch: {{metadata: {{labels: {{a: b}}}}}}}}\n"
            ));
        }
        let project = specgen::project();
        let (_, loaded, diags) = mlship::load::load("mlship.yaml", yaml.as_bytes());
        let loaded = loaded.unwrap_or_else(|| panic!("{diags:?}"));
        let plan = mlship::lower::lower(loaded.clone(), &project).unwrap();
        assert!(
            mlship::emit::emit(plan.clone(), "hash").is_ok(),
            "every patch finds its Deployment"
        );
        g.bench_function(BenchmarkId::new("patches_of_as_many_services", n), |b| {
            b.iter_batched(
                || plan.clone(),
                |plan| mlship::emit::emit(black_box(plan), "hash").unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, stages, linear);
criterion_main!(benches);
