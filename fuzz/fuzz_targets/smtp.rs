#![no_main]
//! libFuzzer entry of the `smtp` target: the check logic is
//! `harness/smtp.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::smtp::run(data));
