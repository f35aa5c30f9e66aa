#![no_main]
//! libFuzzer entry of the `config` target: the check logic is
//! `harness/config.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::config::run(data));
