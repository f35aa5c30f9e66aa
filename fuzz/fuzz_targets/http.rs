#![no_main]
//! libFuzzer entry of the `http` target: the check logic is
//! `harness/http.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::http::run(data));
