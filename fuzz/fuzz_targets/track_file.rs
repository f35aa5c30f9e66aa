#![no_main]
//! libFuzzer entry of the `track_file` target: the check logic is
//! `harness/track_file.rs`, shared with `tests/fuzz_regressions.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picket_fuzz::track_file::run(data));
