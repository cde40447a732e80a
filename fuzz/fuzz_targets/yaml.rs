//! Bytes → `syntax::decode` → `syntax::yaml::parse`. Must never panic, hang or run out of memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlship::syntax;

fuzz_target!(init: mlship_fuzz::catch_stack_overflow(), |data: &[u8]| {
    if let Ok(file) = syntax::decode("mlship.yaml", data) {
        let _ = syntax::yaml::parse(&file);
    }
});
