#![no_main]
//! libFuzzer entry of the `vrrp_packet` target: the check logic is
//! `harness/vrrp_packet.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::vrrp_packet::run(data));
