#![no_main]
//! libFuzzer entry of the `udp` target: the check logic is
//! `harness/udp.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::udp::run(data));
