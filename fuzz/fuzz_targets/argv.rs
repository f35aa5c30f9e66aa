#![no_main]
//! libFuzzer entry of the `argv` target: the check logic is
//! `harness/argv.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::argv::run(data));
