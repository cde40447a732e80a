//! Writes generated specs for the bench script: `cargo bench --bench gen -- DIR N...` writes
//! DIR/n<N>/mlship.yaml, DIR/n<N>/mlship.kdl and DIR/n<N>/src/bench/__init__.py.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

#[path = "support/specgen.rs"]
mod specgen;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let Some((dir, sizes)) = args.split_first() else {
        // `cargo test --all-targets` runs this with no arguments: nothing to write.
        eprintln!("usage: cargo bench --bench gen -- DIR N...");
        return;
    };
    for n in sizes {
        let n: usize = n.parse().expect("N is a number");
        let d = std::path::Path::new(dir).join(format!("n{n}"));
        std::fs::create_dir_all(d.join("src/bench")).unwrap();
        std::fs::write(d.join("src/bench/__init__.py"), "").unwrap();
        std::fs::write(d.join("mlship.yaml"), specgen::yaml(n)).unwrap();
        std::fs::write(d.join("mlship.kdl"), specgen::kdl(n)).unwrap();
    }
}
