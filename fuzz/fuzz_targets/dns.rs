#![no_main]
//! libFuzzer entry of the `dns` target: the check logic is
//! `harness/dns.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::dns::run(data));
