#![no_main]
//! libFuzzer entry of the `ipvs` target: the check logic is
//! `harness/ipvs.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::ipvs::run(data));
