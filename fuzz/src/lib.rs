//! Setup shared by the fuzz targets.
//!
//! Built without a sanitizer (for speed), libFuzzer handles SIGSEGV on the stack that faulted.
//! After a stack overflow there is no room left there, so the process dies with no report and
//! without saving the input. [`catch_stack_overflow`] gives the main thread an alternate signal
//! stack and a SIGSEGV handler that runs on it: it says what happened and aborts, and
//! libFuzzer (which keeps our handler as the upstream one and keeps `SA_ONSTACK`) then saves
//! the input as `crash-*` and exits with an error, as for a panic.

pub mod files;
pub mod spec;

use std::ffi::c_void;
use std::sync::Once;

const ALT_STACK: usize = 1 << 20;

/// Call once from the target's `init:` (it runs before libFuzzer installs its own handlers).
pub fn catch_stack_overflow() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let stack: &'static mut [u8] = Box::leak(vec![0u8; ALT_STACK].into_boxed_slice());
        // SAFETY: plain libc calls with valid, 'static memory; the handler only calls
        // async-signal-safe functions (write, abort).
        unsafe {
            let ss = libc::stack_t {
                ss_sp: stack.as_mut_ptr().cast::<c_void>(),
                ss_flags: 0,
                ss_size: ALT_STACK,
            };
            if libc::sigaltstack(&ss, std::ptr::null_mut()) != 0 {
                return;
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_segv as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGSEGV, &sa, std::ptr::null_mut());
        }
    });
}

extern "C" fn on_segv(_sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    const MSG: &[u8] = b"\n==mlship-fuzz== SIGSEGV in safe Rust: a stack overflow (unbounded recursion)\n";
    // SAFETY: async-signal-safe calls only.
    unsafe {
        libc::write(2, MSG.as_ptr().cast::<c_void>(), MSG.len());
        libc::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::{files, spec};
    use mlship::project::MemProject;

    /// splitmix64: deterministic input bytes for the counting harness.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = x;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                (z ^ (z >> 31)) as u8
            })
            .collect()
    }

    fn errors(c: &mlship::Compiled) -> Vec<String> {
        c.diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{:?}: {}", d.code, d.message))
            .collect()
    }

    /// The `project` target's unfuzzed files compile, so a failed run is the fuzzed file's doing:
    /// with each file replaced by its own baseline contents (every selector) too.
    #[test]
    fn project_baseline_compiles() {
        for selector in 0..files::PROJECT_FILES.len() as u8 {
            let which = files::PROJECT_FILES[usize::from(selector)];
            let mut data = vec![selector];
            data.extend_from_slice(&files::baseline()[which]);
            let project = files::project_input(&data).expect("an input");
            let c = mlship::compile("mlship.yaml", files::PROJECT_SPEC.as_bytes(), &project);
            let out = c.output.as_ref().unwrap_or_else(|| panic!("{which}: {:?}", errors(&c)));
            files::assert_no_leaks(out);
            // The template was rendered, the extra manifest and both secrets reached the output.
            let all: String = out
                .files
                .values()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect();
            for marker in [
                "RUN echo extra-layer",
                "fz-extra",
                "fz-quota",
                "SealedSecret",
                "sops:",
                files::SEALED_VALUE,
            ] {
                assert!(all.contains(marker), "{which}: the output has no `{marker}`");
            }
        }
    }

    /// The leak assertion catches plaintext: an extra manifest with a plain Secret is refused
    /// by the compiler, and the scan the target runs finds it in such a document.
    #[test]
    fn leak_check_is_real() {
        let mut data = vec![2u8];
        data.extend_from_slice(
            b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  PASSWORD: hunter2\n",
        );
        let c = mlship::compile(
            "mlship.yaml",
            files::PROJECT_SPEC.as_bytes(),
            &files::project_input(&data).unwrap(),
        );
        assert!(c.output.is_none());
        let doc = serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"PASSWORD": "hunter2"}});
        assert!(!mlship::secrets::scan(&doc).is_empty());
    }

    /// Some generated specs compile, in both syntaxes (a floor; the counting harness below
    /// gives the fraction).
    #[test]
    fn generated_specs_compile() {
        for selector in [2u8, 3] {
            let ok = (0..200u64)
                .filter(|&seed| {
                    let mut data = vec![selector];
                    data.extend(bytes(seed, 512));
                    let (name, spec, project) = spec::compile_input(&data).expect("an input");
                    let c = mlship::compile(name, &spec, &project);
                    if let Some(out) = &c.output {
                        files::output_documents(out);
                        files::assert_no_leaks(out);
                    }
                    c.output.is_some()
                })
                .count();
            assert!(ok >= 40, "selector {selector}: only {ok} of 200 compiled");
        }
    }

    fn rate(label: &str, n: u64, input: impl Fn(u64) -> Option<(String, Vec<u8>, MemProject)>) {
        let mut ok = 0;
        let mut codes = std::collections::BTreeMap::<String, usize>::new();
        for seed in 0..n {
            let Some((name, spec, project)) = input(seed) else {
                continue;
            };
            let c = mlship::compile(&name, &spec, &project);
            if c.output.is_some() {
                ok += 1;
            } else if let Some(d) = c.diagnostics.iter().find(|d| d.is_error()) {
                *codes.entry(format!("{:?}", d.code)).or_default() += 1;
                if std::env::var_os("FUZZ_COUNT_MESSAGES").is_some() {
                    println!("  {label}: {:?}: {}", d.code, d.message);
                }
            }
        }
        let mut top: Vec<_> = codes.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1));
        top.truncate(6);
        println!("{label}: {ok} of {n} compiled; first errors of the rest: {top:?}");
    }

    /// The counting harness: how many of 2,000 inputs of random bytes reach a compiled output,
    /// per target and mode. `cargo test --release -- --ignored --nocapture count`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn count() {
        const N: u64 = 2000;
        let old_project = |data: &[u8]| {
            // The target before: the other four files empty.
            let (&selector, body) = data.split_first()?;
            let which = files::PROJECT_FILES[usize::from(selector) % 5];
            let mut f: std::collections::BTreeMap<String, Vec<u8>> = files::PROJECT_FILES
                .iter()
                .map(|f| (f.to_string(), Vec::new()))
                .collect();
            f.insert(which.to_string(), body.to_vec());
            Some(MemProject(f))
        };
        // project: random bodies, and (closer to what the fuzzer keeps) a valid file with a
        // few random bytes overwritten.
        for (label, mutate) in [("random bytes", false), ("valid file, 4 bytes mutated", true)] {
            for (which, new) in [("before", false), ("after", true)] {
                rate(&format!("project {which}, {label}"), N, |seed| {
                    let r = bytes(seed, 256);
                    let sel = (seed % 5) as u8;
                    let mut data = vec![sel];
                    if mutate {
                        let mut body = files::baseline()[files::PROJECT_FILES[sel as usize]].clone();
                        for i in 0..4 {
                            let at = usize::from(r[2 * i]) * body.len() / 256;
                            body[at] = r[2 * i + 1];
                        }
                        data.extend(body);
                    } else {
                        data.extend(&r[..usize::from(r[0])]);
                    }
                    let p = if new {
                        files::project_input(&data)
                    } else {
                        old_project(&data)
                    }?;
                    Some(("mlship.yaml".into(), files::PROJECT_SPEC.as_bytes().to_vec(), p))
                });
            }
        }
        // compile: before, every input was raw bytes with an empty project.
        for (label, selectors) in [
            ("compile, raw (before)", &[0u8, 1][..]),
            ("compile, generated YAML", &[2]),
            ("compile, generated KDL", &[3]),
            ("compile, any first byte (after)", &[0, 1, 2, 3]),
        ] {
            rate(label, N, |seed| {
                let r = bytes(seed, 1024);
                let mut data = vec![selectors[(seed as usize) % selectors.len()]];
                data.extend(&r[..256 + usize::from(r[0]) * 3]);
                spec::compile_input(&data).map(|(n, s, p)| (n.to_string(), s, p))
            });
        }
        // The seed corpus (examples and tests/invalid), raw, as tests/fuzz.sh seeds it.
        let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
        for dir in ["../examples", "../tests/invalid"] {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                let candidates = if p.is_dir() {
                    vec![p.join("mlship.yaml"), p.join("mlship.kdl")]
                } else {
                    vec![p]
                };
                for c in candidates {
                    let n = c.to_string_lossy().to_string();
                    if (n.ends_with(".yaml") || n.ends_with(".kdl")) && c.is_file() {
                        seeds.push((n, std::fs::read(&c).unwrap()));
                    }
                }
            }
        }
        let ok = seeds
            .iter()
            .filter(|(n, b)| {
                let name = if n.ends_with(".kdl") {
                    "mlship.kdl"
                } else {
                    "mlship.yaml"
                };
                mlship::compile(name, b, &MemProject::default()).output.is_some()
            })
            .count();
        println!(
            "compile seeds, raw with an empty project: {ok} of {} compiled",
            seeds.len()
        );
    }
}
