//! `watchdog_state`: the watchdog's state file
//! (`picket::watchdog::recovery::StateRecord`), read at start-up to tell a
//! reset from a clean stop, and the assessment made from it.
//!
//! Input: a byte (`& 1`: the card reports a reset; the rest of the byte
//! picks this boot's id among a few), then the file's contents.
//!
//! Checked: a record that parses writes back to text that parses to the
//! same record; [`assess`] of any record gives a next record that writes
//! and parses back, with this boot's id.

use picket::watchdog::recovery::{BootFacts, StateRecord, assess};

use super::Input;

const BOOTS: [&str; 4] = [
    "4f0c7f6e-2b5e-4a7c-9d59-0c2a3e2b8f01",
    "4F0C7F6E-2B5E-4A7C-9D59-0C2A3E2B8F01",
    "",
    "not-a-boot-id!",
];

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let b = input.byte();
    let text = input.rest();
    let prev = StateRecord::parse(text).ok();
    if let Some(r) = &prev {
        round_trip(r);
    }
    let facts = BootFacts {
        boot: BOOTS[usize::from(b >> 1) % BOOTS.len()],
        card_reset: b & 1 == 1,
    };
    let a = assess(prev.as_ref(), &facts);
    round_trip(&a.next);
    assert!(a.next.armed, "the next record is of an armed run");
}

fn round_trip(r: &StateRecord) {
    let mut out = [0u8; 1024];
    let n = r
        .emit(&mut out)
        .unwrap_or_else(|e| panic!("a record does not write: {e:?} {r:?}"));
    let again = StateRecord::parse(&out[..n])
        .unwrap_or_else(|e| panic!("a written record does not parse: {e:?} {r:?}"));
    assert_eq!(&again, r, "round trip");
}
