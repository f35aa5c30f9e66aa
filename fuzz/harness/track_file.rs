//! `track_file`: the value of a tracked file
//! (`picket::vrrp::track::parse_file_value`, keepalived's
//! `strtol(buf, NULL, 0)`), against a reference written here.
//!
//! Input: the file's contents.
//!
//! Checked: the value agrees with the reference (for values within
//! ±2⁴⁰: beyond, both saturate and the daemon clamps to ±254 anyway).

use picket::vrrp::track::parse_file_value;

/// A file is read into a buffer of this size by the daemon; longer
/// inputs are cut the same way.
const MAX_INPUT: usize = 4096;

/// Runs one input.
pub fn run(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let got = parse_file_value(data);
    let want = reference(data);
    let clamp = |v: Option<i128>| v.map(|v| v.clamp(-(1 << 40), 1 << 40));
    assert_eq!(
        clamp(got.map(i128::from)),
        clamp(want),
        "{:?}",
        String::from_utf8_lossy(data)
    );
}

/// `strtol(s, NULL, 0)` in i128, `None` when no digit was read.
fn reference(s: &[u8]) -> Option<i128> {
    let mut i = 0;
    // C's isspace: space, \t \n \v \f \r.
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut sign = 1;
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        if s[i] == b'-' {
            sign = -1;
        }
        i += 1;
    }
    let radix = if s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        i += 2;
        16
    } else if s.get(i) == Some(&b'0') {
        8
    } else {
        10
    };
    let mut value: i128 = 0;
    let mut digits = 0;
    while let Some(d) = s.get(i).and_then(|&b| char::from(b).to_digit(radix)) {
        value = (value * i128::from(radix) + i128::from(d)).min(1 << 70);
        digits += 1;
        i += 1;
    }
    (digits > 0).then_some(sign * value)
}
