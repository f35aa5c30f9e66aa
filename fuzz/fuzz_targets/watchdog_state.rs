#![no_main]
//! libFuzzer entry of the `watchdog_state` target: the check logic is
//! `harness/watchdog_state.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::watchdog_state::run(data));
