//! Setup shared by the fuzz targets.
//!
//! Built without a sanitizer (for speed), libFuzzer handles SIGSEGV on the stack that faulted.
//! After a stack overflow there is no room left there, so the process dies with no report and
//! without saving the input. [`catch_stack_overflow`] gives the main thread an alternate signal
//! stack and a SIGSEGV handler that runs on it: it says what happened and aborts, and
//! libFuzzer (which keeps our handler as the upstream one and keeps `SA_ONSTACK`) then saves
//! the input as `crash-*` and exits with an error, as for a panic.

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
