//! Wire formats: zero-copy views and their high-level representations.
//!
//! Every protocol module follows smoltcp's `wire` pattern:
//!
//! - a `Packet<T: AsRef<[u8]>>` view over a caller's buffer, built with
//!   `new_checked` (the length is checked once, after which no accessor can
//!   panic) or `new_unchecked` (the caller has checked);
//! - a `Repr` with `parse(&Packet, ..)`, `buffer_len()` and `emit(&mut Packet, ..)`
//!   into a caller's buffer — nothing allocates;
//! - a small `Copy` `Error` per module; unknown code points that the
//!   specification lets a receiver keep survive as `Unknown(u8)`.
//!
//! Ethernet, ARP, IPv4 and IPv6 themselves are smoltcp's (`smoltcp::wire`);
//! the modules here add what smoltcp does not have.
//!
//! | module | what it holds |
//! |---|---|
//! | [`netlink`] | netlink framing: header, acks, message and attribute walkers, a message writer |
//! | [`genetlink`] | generic netlink header and the controller's family lookup |
//! | [`ipvs`] | IPVS requests (services, destinations, dumps, flush, info, timeouts) and replies |
//! | [`link`] | rtnetlink link notifications (`RTM_NEWLINK` / `RTM_DELLINK`): interface name and up/down |
//! | [`ndisc`] | unsolicited IPv6 neighbour advertisements (the IPv6 gratuitous ARP), on smoltcp's NDISC types |
//! | [`route`] | rtnetlink routes (`RTM_NEWROUTE` / `RTM_DELROUTE`), IPv4 and IPv6 |
//! | [`vrrp`] | VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798 / RFC 9568) adverts, their checksums, the advert's IPv4 header and the gratuitous ARP frame |

pub mod genetlink;
pub mod ipvs;
pub mod link;
pub mod ndisc;
pub mod netlink;
pub mod route;
pub mod rtnetlink;
pub mod vrrp;
