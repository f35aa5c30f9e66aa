//! Parsing of single configuration values, as keepalived reads them.
//!
//! Pure functions from a word to a value; the [`super::parser::Parser`]
//! helpers call them and turn a [`ValueError`] into a located diagnostic.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use crate::time::Duration;

/// Why a word is not a valid value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueError {
    /// Not a decimal integer.
    NotANumber,
    /// A number outside `min..=max`.
    OutOfRange {
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// Not one of `on off true false yes no`.
    NotABool,
    /// Not a time in seconds (`3`, `0.5`, `0.000001`).
    NotATimer,
    /// A time outside the accepted range (microseconds).
    TimerOutOfRange {
        /// Smallest accepted, µs.
        min_us: u64,
        /// Largest accepted, µs.
        max_us: u64,
    },
    /// Not an IPv4 or IPv6 address.
    NotAnAddress,
    /// Not `ADDRESS/LEN` with a valid length for the family.
    BadPrefix,
    /// Longer than the fixed buffer it goes into.
    TooLong {
        /// Bytes accepted.
        max: usize,
    },
    /// Not an even number of hex digits.
    NotHex,
}

/// Writes a time in seconds, with a fraction only as long as needed.
struct Secs(u64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_timer(f, Duration::from_micros(self.0))
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ValueError::NotANumber => f.write_str("expected a whole number"),
            ValueError::OutOfRange { min, max } => {
                write!(f, "expected a number from {min} to {max}")
            }
            ValueError::NotABool => f.write_str("expected one of on, off, true, false, yes, no"),
            ValueError::NotATimer => f.write_str("expected a time in seconds (e.g. 1, 0.5)"),
            ValueError::TimerOutOfRange { min_us, max_us } => {
                write!(
                    f,
                    "expected a time from {} to {} seconds",
                    Secs(min_us),
                    Secs(max_us)
                )
            }
            ValueError::NotAnAddress => f.write_str("expected an IPv4 or IPv6 address"),
            ValueError::BadPrefix => f.write_str("expected ADDRESS/PREFIX-LENGTH"),
            ValueError::TooLong { max } => write!(f, "too long (at most {max} bytes)"),
            ValueError::NotHex => f.write_str("expected hexadecimal bytes"),
        }
    }
}

/// A keepalived boolean: `on|off|true|false|yes|no` (any case).
pub fn parse_bool(s: &str) -> Result<bool, ValueError> {
    const TRUE: [&str; 3] = ["on", "true", "yes"];
    const FALSE: [&str; 3] = ["off", "false", "no"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Ok(true)
    } else if FALSE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Ok(false)
    } else {
        Err(ValueError::NotABool)
    }
}

/// A decimal integer (optional sign) in `min..=max`.
pub fn parse_int(s: &str, min: i64, max: i64) -> Result<i64, ValueError> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::NotANumber);
    }
    let v = i64::from_str(s).map_err(|_| ValueError::OutOfRange { min, max })?;
    if v < min || v > max {
        Err(ValueError::OutOfRange { min, max })
    } else {
        Ok(v)
    }
}

/// A time in seconds with up to six decimals (keepalived's `<TIMER>`, µs
/// resolution; more decimals are an error rather than silently rounded), in
/// `min..=max`.
pub fn parse_timer(s: &str, min: Duration, max: Duration) -> Result<Duration, ValueError> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if (whole.is_empty() && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 6
        || whole.len() > 12
    {
        return Err(ValueError::NotATimer);
    }
    let secs = if whole.is_empty() {
        0
    } else {
        u64::from_str(whole).map_err(|_| ValueError::NotATimer)?
    };
    let mut micros = 0u64;
    for (i, b) in frac.bytes().enumerate() {
        micros += u64::from(b - b'0') * 10u64.pow(5 - i as u32);
    }
    let d = Duration::from_micros(secs * 1_000_000 + micros);
    if d < min || d > max {
        return Err(ValueError::TimerOutOfRange {
            min_us: min.total_micros(),
            max_us: max.total_micros(),
        });
    }
    Ok(d)
}

/// Writes a duration as keepalived reads it back: whole seconds, or seconds
/// with the shortest exact fraction.
pub fn fmt_timer(f: &mut dyn fmt::Write, d: Duration) -> fmt::Result {
    let us = d.total_micros();
    let (secs, frac) = (us / 1_000_000, us % 1_000_000);
    if frac == 0 {
        return write!(f, "{secs}");
    }
    let mut digits = 6;
    let mut frac_trim = frac;
    while frac_trim % 10 == 0 {
        frac_trim /= 10;
        digits -= 1;
    }
    write!(f, "{secs}.{frac_trim:0digits$}")
}

/// A [`Duration`] that displays as [`fmt_timer`] writes it.
#[derive(Clone, Copy, Debug)]
pub struct Timer(pub Duration);

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_timer(f, self.0)
    }
}

/// An IPv4 or IPv6 address.
pub fn parse_ip(s: &str) -> Result<IpAddr, ValueError> {
    IpAddr::from_str(s).map_err(|_| ValueError::NotAnAddress)
}

/// An IPv4 address.
pub fn parse_ipv4(s: &str) -> Result<Ipv4Addr, ValueError> {
    Ipv4Addr::from_str(s).map_err(|_| ValueError::NotAnAddress)
}

/// An IPv6 address.
pub fn parse_ipv6(s: &str) -> Result<Ipv6Addr, ValueError> {
    Ipv6Addr::from_str(s).map_err(|_| ValueError::NotAnAddress)
}

/// `ADDRESS[/LEN]`; a missing length is the host length (32 or 128).
pub fn parse_prefix(s: &str) -> Result<(IpAddr, u8), ValueError> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip = parse_ip(addr)?;
    let max: u8 = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => match parse_int(l, 0, i64::from(max)) {
            Ok(v) => v as u8,
            Err(_) => return Err(ValueError::BadPrefix),
        },
    };
    Ok((ip, len))
}

/// Copies `s` into a fixed string.
pub fn parse_fixed<const N: usize>(s: &str) -> Result<heapless::String<N>, ValueError> {
    let mut out = heapless::String::new();
    out.push_str(s)
        .map_err(|_| ValueError::TooLong { max: N })?;
    Ok(out)
}

/// Hex digits (optionally with a `0x` prefix) into bytes; returns the count.
pub fn parse_hex(s: &str, out: &mut [u8]) -> Result<usize, ValueError> {
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(ValueError::NotHex);
    }
    if b.len() / 2 > out.len() {
        return Err(ValueError::TooLong { max: out.len() * 2 });
    }
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16).ok_or(ValueError::NotHex)?;
        let lo = (pair[1] as char).to_digit(16).ok_or(ValueError::NotHex)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Ok(b.len() / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn bools() {
        for s in ["on", "ON", "true", "yes"] {
            assert_eq!(parse_bool(s), Ok(true));
        }
        for s in ["off", "false", "No"] {
            assert_eq!(parse_bool(s), Ok(false));
        }
        assert_eq!(parse_bool("1"), Err(ValueError::NotABool));
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int("255", 1, 255), Ok(255));
        assert_eq!(parse_int("-253", -253, 253), Ok(-253));
        assert_eq!(
            parse_int("256", 1, 255),
            Err(ValueError::OutOfRange { min: 1, max: 255 })
        );
        assert_eq!(parse_int("0x10", 0, 255), Err(ValueError::NotANumber));
        assert_eq!(parse_int("", 0, 255), Err(ValueError::NotANumber));
        assert_eq!(parse_int("-", 0, 255), Err(ValueError::NotANumber));
        assert!(parse_int("99999999999999999999999", 0, 5).is_err());
    }

    #[test]
    fn timers_round_trip() {
        let max = Duration::from_secs(4294);
        let min = Duration::from_micros(0);
        for (s, us) in [
            ("1", 1_000_000),
            ("0.5", 500_000),
            (".25", 250_000),
            ("3.", 3_000_000),
            ("0.000001", 1),
        ] {
            let d = parse_timer(s, min, max).unwrap();
            assert_eq!(d.total_micros(), us, "{s}");
            let mut out = String::new();
            fmt_timer(&mut out, d).unwrap();
            assert_eq!(parse_timer(&out, min, max), Ok(d));
        }
        let mut out = String::new();
        fmt_timer(&mut out, Duration::from_micros(1_250_000)).unwrap();
        assert_eq!(out, "1.25");
        assert_eq!(
            parse_timer("0.0000001", min, max),
            Err(ValueError::NotATimer)
        );
        assert_eq!(parse_timer("1e3", min, max), Err(ValueError::NotATimer));
        assert_eq!(parse_timer(".", min, max), Err(ValueError::NotATimer));
        assert!(matches!(
            parse_timer("5000", min, max),
            Err(ValueError::TimerOutOfRange { .. })
        ));
    }

    #[test]
    fn addresses_and_prefixes() {
        assert_eq!(parse_prefix("10.0.0.1/24").unwrap().1, 24);
        assert_eq!(parse_prefix("10.0.0.1").unwrap().1, 32);
        assert_eq!(parse_prefix("fe80::1").unwrap().1, 128);
        assert_eq!(parse_prefix("10.0.0.1/33"), Err(ValueError::BadPrefix));
        assert_eq!(
            parse_prefix("192.168.100./24"),
            Err(ValueError::NotAnAddress)
        );
        assert!(parse_ipv4("::1").is_err());
        assert!(parse_ipv6("::1").is_ok());
    }

    #[test]
    fn hex_and_fixed() {
        let mut b = [0u8; 4];
        assert_eq!(parse_hex("0xdeadBEEF", &mut b), Ok(4));
        assert_eq!(b, [0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(parse_hex("abc", &mut b), Err(ValueError::NotHex));
        assert_eq!(parse_hex("zz", &mut b), Err(ValueError::NotHex));
        assert_eq!(
            parse_hex("0011223344", &mut b),
            Err(ValueError::TooLong { max: 8 })
        );
        assert!(parse_fixed::<4>("eth0").is_ok());
        assert_eq!(
            parse_fixed::<4>("eth10"),
            Err(ValueError::TooLong { max: 4 })
        );
    }
}
