#![no_main]
//! libFuzzer entry of the `netlink` target: the check logic is
//! `harness/netlink.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::netlink::run(data));
