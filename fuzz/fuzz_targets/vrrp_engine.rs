#![no_main]
//! libFuzzer entry of the `vrrp_engine` target: the check logic is
//! `harness/vrrp_engine.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::vrrp_engine::run(data));
