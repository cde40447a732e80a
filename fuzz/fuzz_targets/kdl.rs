//! Bytes → `syntax::decode` → `syntax::kdl::parse`. Must never panic, hang or run out of memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlship::syntax;

fuzz_target!(init: mlship_fuzz::catch_stack_overflow(), |data: &[u8]| {
    // The name must end in `.kdl`: `syntax::parse` (used again by later stages) dispatches on it.
    if let Ok(file) = syntax::decode("mlship.kdl", data) {
        let _ = syntax::kdl::parse(&file);
    }
});
