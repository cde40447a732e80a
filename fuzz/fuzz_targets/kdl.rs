//! Bytes → `syntax::decode` → `syntax::kdl::parse`. Must never panic, hang or run out of memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlship::syntax;

fuzz_target!(init: mlship_fuzz::catch_stack_overflow(), |data: &[u8]| {
    // The name must end in `.kdl`: `syntax::parse` (used again by later stages) dispatches on it.
    // The spec's shape, as `load` reads specs: one argument is a list where the schema says so.
    if let Ok(file) = syntax::decode("mlship.kdl", data) {
        let _ = syntax::kdl::parse(&file, &mlship::load::SpecShape);
    }
});
