#![no_main]
//! libFuzzer entry of the `ping` target: the check logic is
//! `harness/ping.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::ping::run(data));
