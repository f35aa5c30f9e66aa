//! `vrrp_packet`: VRRP adverts (`picket::wire::vrrp`), v2 and v3, over IPv4
//! and IPv6, plus the IPv4 datagram around them and the unsolicited
//! neighbour advertisement frame (`picket::wire::ndisc`).
//!
//! Input: one mode byte, then (by mode) addresses for the checksum's
//! envelope and the bytes to parse. The mode's low 2 bits:
//!
//! | mode & 3 | bytes after the mode byte |
//! |---|---|
//! | 0 | an IPv4 datagram, as the raw socket returns it ([`parse_ipv4`]) |
//! | 1 | a VRRP message over IPv4: 4 + 4 bytes src/dst, then the message |
//! | 2 | a VRRP message over IPv6: 16 + 16 bytes src/dst, then the message |
//! | 3 | an Ethernet frame holding an unsolicited NA |
//!
//! Bit 2 set: the VRRP checksum is fixed before parsing (bit 3 picks its
//! form: message alone or pseudo-header), so the fuzzer gets past it.
//!
//! Checked: every accessor of a checked view; where [`Repr::parse`]
//! succeeds, that [`Repr::emit`] writes the same bytes (the checksum field
//! aside: 0x0000 and 0xFFFF both verify) and that they parse to the same
//! `Repr`; that [`emit_ipv4_ttl`] around it parses back with
//! [`parse_ipv4`]; that a parsed NA emits the same frame.

use picket::wire::ndisc::UnsolicitedNa;
use picket::wire::vrrp::{ChecksumForm, Envelope, Family, Packet, Repr, emit_ipv4_ttl, parse_ipv4};

use super::Input;

// smoltcp's address types are `core::net`'s.
type Ipv4Address = core::net::Ipv4Addr;
type Ipv6Address = core::net::Ipv6Addr;

/// Largest VRRP message: 8 + 255 × 16 bytes (v3/IPv6).
const MAX_MESSAGE: usize = 8 + 255 * 16;

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.byte();
    let fix = mode & 4 != 0;
    let form = if mode & 8 != 0 {
        ChecksumForm::Message
    } else {
        ChecksumForm::PseudoHeader
    };
    match mode & 3 {
        0 => {
            let datagram = input.rest();
            if let Ok(advert) = parse_ipv4(datagram) {
                assert_eq!(advert.envelope.family(), Family::Ipv4);
                message(
                    advert.payload,
                    &advert.envelope,
                    fix.then_some(form),
                    advert.ttl,
                );
            }
        }
        1 => {
            let src = Ipv4Address::from(input.array::<4>());
            let dst = Ipv4Address::from(input.array::<4>());
            message(
                input.rest(),
                &Envelope::Ipv4 { src, dst },
                fix.then_some(form),
                255,
            );
        }
        2 => {
            let src = Ipv6Address::from(input.array::<16>());
            let dst = Ipv6Address::from(input.array::<16>());
            message(
                input.rest(),
                &Envelope::Ipv6 { src, dst },
                fix.then_some(form),
                255,
            );
        }
        _ => na(input.rest()),
    }
}

/// Parses one VRRP message over `envelope` (after fixing its checksum in
/// `fix` form, if given) and checks the round trip.
fn message(bytes: &[u8], envelope: &Envelope, fix: Option<ChecksumForm>, ttl: u8) {
    if bytes.len() > MAX_MESSAGE + 64 {
        return;
    }
    let family = envelope.family();
    let mut copy = [0u8; MAX_MESSAGE + 64];
    let copy = &mut copy[..bytes.len()];
    copy.copy_from_slice(bytes);
    if let Some(form) = fix
        && let Ok(mut packet) = Packet::new_checked(&mut *copy, family)
    {
        packet.fill_checksum(envelope, form);
    }
    let bytes: &[u8] = copy;

    // A view the length check passed: no accessor may panic, whatever the
    // version byte says.
    if let Ok(packet) = Packet::new_checked(bytes, family) {
        let _ = (
            packet.version(),
            packet.msg_type(),
            packet.vrid(),
            packet.priority(),
        );
        let _ = (packet.auth_type(), packet.adver_int(), packet.reserved());
        let _ = (
            packet.max_adver_int(),
            packet.checksum(),
            packet.auth_data(),
        );
        assert!(packet.message().len() <= bytes.len());
        assert_eq!(
            packet.addresses().len(),
            usize::from(packet.addr_count()) * family.addr_len()
        );
        let _ = packet.verify_checksum(envelope);
    }
    // Unchecked views reach `Repr::parse` from the daemon: it checks.
    let packet = Packet::new_unchecked(bytes, family);
    let Ok(repr) = Repr::parse(&packet, envelope) else {
        return;
    };
    assert_eq!(repr.family(), family);
    assert_eq!(
        repr.buffer_len(),
        bytes.len(),
        "parse takes the whole message"
    );
    assert!(repr.vrid != 0);
    assert!(repr.adver_int_centis() != 0);
    let addresses: usize = repr.addresses.iter().count();
    assert_eq!(addresses, repr.addresses.len());

    // Emit it again: the same bytes, checksum aside.
    let mut out = [0u8; MAX_MESSAGE + 64];
    let out = &mut out[..repr.buffer_len()];
    let mut view = Packet::new_unchecked(&mut *out, family);
    repr.emit(&mut view, envelope)
        .unwrap_or_else(|e| panic!("a parsed advert does not emit: {e:?} {repr:?}"));
    assert_eq!(out[..6], bytes[..6], "header differs after emit");
    assert_eq!(out[8..], bytes[8..], "body differs after emit");
    let again = Repr::parse(&Packet::new_unchecked(&*out, family), envelope)
        .unwrap_or_else(|e| panic!("an emitted advert does not parse: {e:?} {repr:?}"));
    assert_eq!(again, repr, "round trip");

    // The IPv4 datagram around it parses back to the same advert.
    if let Envelope::Ipv4 { src, dst } = *envelope {
        let mut datagram = [0u8; 20 + MAX_MESSAGE + 64];
        let n = emit_ipv4_ttl(&repr, src, dst, 0x1234, ttl, &mut datagram)
            .unwrap_or_else(|e| panic!("emit_ipv4 failed: {e:?} {repr:?}"));
        let advert = parse_ipv4(&datagram[..n]).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(advert.envelope, *envelope);
        assert_eq!(advert.ttl, ttl);
        let back = Repr::parse(&Packet::new_unchecked(advert.payload, family), envelope)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(back, repr);
    }
}

/// Parses an unsolicited NA frame; a parsed one emits the same frame.
fn na(frame: &[u8]) {
    let Ok(na) = UnsolicitedNa::parse(frame) else {
        return;
    };
    let mut out = [0u8; 128];
    let n = na.emit(&mut out).unwrap_or_else(|e| panic!("{e:?}"));
    let again = UnsolicitedNa::parse(&out[..n]).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(again, na);
}
