//! picket: a keepalived-compatible high-availability daemon for router and
//! appliance boards.
//!
//! This library is the **sans-IO core**: it never reads a clock, opens a
//! socket or allocates. Inputs come in as values (`handle_*` with a `now`),
//! outputs go out as [`action::Action`]s that the binary (`src/main.rs` and its
//! `sys` layer, the only home of `unsafe`) turns into system calls.
//!
//! Layer map:
//!
//! | module | what it holds |
//! |---|---|
//! | [`limits`] | every capacity, chosen per board at build time |
//! | [`time`] | the one `Instant`/`Duration` type and deadline helpers |
//! | [`config`] | keepalived.conf: source reader, lexer, parser, typed model, dump |
//! | [`wire`] | packets as zero-copy views plus `Repr` (VRRP v2/v3, IPv4 header, gratuitous ARP, unsolicited NA, netlink, generic netlink, IPVS) |
//! | [`check`] | health checkers: one state machine per check, the socket pool, the retry rule |
//! | [`lvs`] | real and virtual servers: alive, weight, quorum, sorry server, the desired IPVS state |
//! | [`action`] | what the core asks the binary to do |
//! | [`reload`] | a reload's plan: which instances, scripts and groups are kept, changed, stopped, started |
//! | [`core`] | the daemon core: timers, child processes, signals, the turn's machines |
//! | [`ipvs`] | the IPVS table: desired (config + checkers) vs kernel, reconciled into requests |
//! | [`stats`] | counters, one per error or drop path |
//! | [`status`] | the status document (JSON) and keepalived's dump files, without allocation |
//! | [`watchdog`] | the health gate of watchdog kicks, reset recovery and damping, sd_notify |
//!
//! `#![no_std]` without `alloc` makes `Vec`, `Box` and `String` compile errors
//! here; fixed-capacity tables come from `heapless`.

#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(test)]
extern crate std;

pub mod action;
pub mod check;
pub mod config;
pub mod core;
pub mod ipvs;
pub mod limits;
pub mod lvs;
pub mod reload;
pub mod stats;
pub mod status;
pub mod time;
pub mod vrrp;
pub mod watchdog;
pub mod wire;
