//! The netlink reflector, binary side: one monitor socket subscribed to link
//! and address notifications (`RTMGRP_LINK`, `RTMGRP_IPV4_IFADDR`,
//! `RTMGRP_IPV6_IFADDR`). Link messages go to the link table (tracking) and
//! to the engine, address messages to the engine
//! ([`picket::vrrp::engine::reflect`] says what they mean and why); the
//! engine's answers are carried out here: sockets closed and opened again on
//! a recreated interface (new index, multicast groups joined again: through
//! [`crate::if_sockets::IfSockets`], as at start-up and reloads), VIPs
//! restored and announced, address scans (an `RTM_GETADDR` dump over a
//! socket of their own), source changes logged. An overrun (`ENOBUFS`)
//! re-reads everything: every tracked link, every engine interface (index,
//! MAC, flags) and a full address scan — once the notifications still
//! queued are read, as they are older than the ones lost: the re-read has
//! the last word.
//!
//! Notifications caused by picket's own requests (their port id is the
//! command socket's) are dropped: picket never restores what it removed.
//!
//! Nothing here allocates: messages are parsed in the daemon's buffer,
//! sockets are fds, tables are fixed.

use nix::errno::Errno;
use picket::vrrp::engine::Engine;
use picket::vrrp::engine::reflect::{AddressChange, SourceEvent};
use picket::vrrp::track::{LinkId, LinkTable, Target};
use picket::wire::link::{self, LinkEvent};
use picket::wire::netlink as nl;
use picket::wire::rtnetlink::{
    AddressRepr, Operation, RTM_DELADDR, RTM_NEWADDR, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR,
};
use picket::wire::vrrp::Family;

use std::os::fd::AsFd;

use crate::sys::net::{self, NetlinkSocket};
use crate::{Daemon, TOKEN_LINKS, TOKEN_NETLINK, resync_links};

/// Receive buffer of the monitor socket: room for a burst of notifications
/// (an interface with a few hundred addresses going away) before `ENOBUFS`.
pub const MONITOR_RCVBUF: usize = 1 << 20;

/// Whether a configuration needs the monitor: an instance runs (its
/// interfaces and addresses are followed) or a link is tracked.
pub fn monitor_wanted(engine: &Engine, links: &LinkTable) -> bool {
    !engine.is_empty() || links.name(LinkId(0)).is_some()
}

/// Opens the monitor socket (start-up, or the first reload that needs it):
/// link and address notifications, with a receive buffer of
/// [`MONITOR_RCVBUF`] where the kernel allows it.
pub fn open_monitor() -> Result<NetlinkSocket, Errno> {
    let m =
        NetlinkSocket::open_groups(link::RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR)?;
    if let Err(e) = m.set_receive_buffer(MONITOR_RCVBUF) {
        log::warn!("netlink monitor: cannot enlarge the receive buffer: {e}");
    }
    Ok(m)
}

impl Daemon {
    /// Opens what the loaded configuration needs of netlink and is not open
    /// yet (start-up, or the first reload that needs it): the monitor (then
    /// every tracked link is read: a change after that is not lost), the
    /// scan socket, and the command socket, whose port id marks the
    /// notifications picket's own requests cause. Each failure goes to
    /// `failed` (fatal at start-up; a reload logs it and runs without).
    pub(crate) fn open_netlink_sockets(&mut self, failed: &mut dyn FnMut(&'static str, Errno)) {
        let full = ("poll table", Errno::ENOSPC);
        if self.link_monitor.is_none() && monitor_wanted(&self.engine, &self.links) {
            match open_monitor() {
                Ok(m) if self.poll.add(&m.as_fd(), TOKEN_LINKS).is_err() => failed(full.0, full.1),
                Ok(m) => self.link_monitor = Some(m),
                Err(e) => failed("netlink monitor socket", e),
            }
            resync_links(&mut self.links);
        }
        if self.engine.is_empty() {
            return;
        }
        if self.scan_socket.is_none() {
            match NetlinkSocket::open() {
                Ok(s) => self.scan_socket = Some(s),
                Err(e) => failed("address dump socket", e),
            }
        }
        if self.netlink.is_none() {
            match NetlinkSocket::open().and_then(|n| Ok((n.port_id()?, n))) {
                Ok((_, n)) if self.poll.add(&n.as_fd(), TOKEN_NETLINK).is_err() => {
                    failed(full.0, full.1);
                }
                Ok((port, n)) => {
                    self.own_port = port;
                    self.netlink = Some(n);
                }
                Err(e) => failed("netlink socket", e),
            }
        }
    }

    /// A newly loaded engine's first look (start-up, and a reload once the
    /// tables are swapped), before its new instances start: interfaces that
    /// do not exist are said, and every address is read as the kernel has
    /// it now — sources found, configured sources checked, a master's
    /// address missing restored.
    pub(crate) fn settle_view(&mut self, now: picket::time::Instant) {
        for iface in self.engine.interfaces().iter().filter(|f| !f.present) {
            log::warn!(
                "Interface {} does not exist (yet): its instances wait in FAULT until it does",
                iface.name
            );
        }
        self.engine.request_full_scan();
        self.scan_addresses_if_due(now);
    }

    /// Reads every notification waiting on the monitor socket (see the
    /// module doc), then scans addresses if the engine asks for it.
    ///
    /// After an overrun, the kernel reports `ENOBUFS` before the
    /// notifications still queued, which predate the lost ones: re-reading
    /// at once and then applying those would leave their stale view (a
    /// tracked link down, though the lost notification said it came up).
    /// So the queue is read first and the re-read comes last.
    pub(crate) fn drain_monitor(&mut self, now: picket::time::Instant) {
        let mut overrun = false;
        loop {
            let Some(sock) = &self.link_monitor else {
                return;
            };
            let n = match sock.recv(&mut self.buf) {
                Ok(n) => n.min(self.buf.len()),
                Err(nb::Error::WouldBlock) => break,
                Err(nb::Error::Other(e)) => {
                    self.core.stats_mut().monitor_overruns += 1;
                    log::warn!("netlink monitor: {e}; reading every link and address again");
                    overrun = true;
                    continue;
                }
            };
            let mut changed: heapless::Vec<LinkId, 16> = heapless::Vec::new();
            let mut overflow = false;
            for msg in nl::Messages::new(&self.buf[..n]) {
                let Ok(msg) = msg else {
                    self.core.stats_mut().netlink_malformed += 1;
                    break;
                };
                if matches!(msg.message_type(), RTM_NEWADDR | RTM_DELADDR) {
                    if msg.port_id() == self.own_port && self.own_port != 0 {
                        // Caused by picket's own request.
                        continue;
                    }
                    match AddressRepr::parse(&msg) {
                        Ok(a) => {
                            if let Some(c) = AddressChange::from_repr(&a) {
                                self.engine.handle_address(now, &self.cfg, &c);
                            }
                        }
                        Err(_) => self.core.stats_mut().netlink_malformed += 1,
                    }
                    continue;
                }
                let Some(ev) = LinkEvent::parse(&msg) else {
                    continue;
                };
                let Ok(ev) = ev else {
                    self.core.stats_mut().netlink_malformed += 1;
                    continue;
                };
                self.engine.handle_link(now, &ev);
                if let Some(cmd) = &self.netlink {
                    let counter = &mut self.netlink_counter;
                    self.vmacs.handle_link(&ev, cmd, &mut |k| {
                        *counter = counter.wrapping_add(1);
                        crate::vmac_seq(*counter, k)
                    });
                }
                let Some(id) = self.links.find(ev.name) else {
                    continue;
                };
                if self.links.is_up(id) != ev.up {
                    log::info!(
                        "Netlink reports {} {}",
                        ev.name,
                        if ev.deleted {
                            "deleted"
                        } else if ev.up {
                            "up"
                        } else {
                            "down"
                        }
                    );
                    self.links.handle_link(ev.name, ev.up);
                    if !changed.contains(&id) && changed.push(id).is_err() {
                        overflow = true;
                    }
                }
            }
            if overflow {
                self.apply_all_tracking(now);
            } else {
                for id in changed {
                    self.apply_tracking_of(now, Target::Link(id));
                }
            }
        }
        if overrun {
            self.resync(now);
        }
        self.scan_addresses_if_due(now);
        if let Some(cmd) = &self.netlink {
            let counter = &mut self.netlink_counter;
            let engine = &self.engine;
            let parent_ll = |name: &str| {
                engine
                    .interfaces()
                    .iter()
                    .find(|f| f.present && f.name.as_str() == name)
                    .and_then(|f| f.facts.ipv6_link_local)
            };
            self.vmacs.sync_link_local(&parent_ll, cmd, &mut |k| {
                *counter = counter.wrapping_add(1);
                crate::vmac_seq(*counter, k)
            });
        }
    }

    /// After lost notifications: every tracked link, every engine interface
    /// and (on the next scan) every address read again.
    fn resync(&mut self, now: picket::time::Instant) {
        resync_links(&mut self.links);
        self.apply_all_tracking(now);
        for i in 0..self.engine.interfaces().len() {
            let Some(f) = self.engine.interfaces().get(i) else {
                continue;
            };
            let mut name: heapless::String<{ picket::limits::IFNAME_BYTES }> =
                heapless::String::new();
            let _ = name.push_str(&f.name);
            let (present, index) = (f.present, f.facts.index);
            let ev = match net::link_facts(&name) {
                Ok(l) => LinkEvent {
                    index: l.index,
                    name: &name,
                    up: link::flags_up(l.flags),
                    deleted: false,
                    mac: Some(l.mac),
                },
                Err(_) if present => LinkEvent {
                    index,
                    name: &name,
                    up: false,
                    deleted: true,
                    mac: None,
                },
                Err(_) => continue,
            };
            self.engine.handle_link(now, &ev);
        }
        self.engine.request_full_scan();
    }

    /// Runs an address scan if the engine wants one (see the engine's
    /// `reflect` module); a failed dump is retried on the next
    /// notification.
    pub(crate) fn scan_addresses_if_due(&mut self, now: picket::time::Instant) {
        if !self.engine.address_scan_due() {
            return;
        }
        if self.scan_socket.is_none() {
            return;
        }
        self.notice_deleted_interfaces(now);
        let Some(sock) = &self.scan_socket else {
            return;
        };
        self.scan_seq = self.scan_seq.wrapping_add(1);
        self.engine.begin_address_scan();
        let (engine, cfg) = (&mut self.engine, &self.cfg);
        let r = net::dump_addresses(sock, self.scan_seq, &mut self.buf, |a| {
            if let Some(c) = AddressChange::from_repr(a) {
                engine.scan_address(cfg, &c);
            }
        });
        match r {
            Ok(()) => {
                self.core.stats_mut().address_scans += 1;
                self.engine.end_address_scan(now, &self.cfg);
            }
            Err(e) => {
                self.core.stats_mut().address_scan_errors += 1;
                log::warn!("address dump: {e}; trying again on the next notification");
                self.engine.abort_address_scan();
            }
        }
    }

    /// Before a scan: an interface it would look at that the kernel no
    /// longer has (by name and index) is gone now, not "without address"
    /// — its `RTM_DELLINK` trails its addresses' `RTM_DELADDR`. The engine
    /// learns it first, so its sockets close before a master leaving
    /// MASTER would advertise on them.
    fn notice_deleted_interfaces(&mut self, now: picket::time::Instant) {
        for i in 0..self.engine.interfaces().len() {
            let Some(f) = self.engine.interfaces().get(i) else {
                continue;
            };
            if !self.engine.scan_wants(i) {
                continue;
            }
            let mut name: heapless::String<{ picket::limits::IFNAME_BYTES }> =
                heapless::String::new();
            let _ = name.push_str(&f.name);
            let index = f.facts.index;
            let gone = match net::link_facts(&name) {
                Ok(l) => l.index != index,
                Err(e) => e == Errno::ENODEV,
            };
            if gone {
                self.engine.handle_link(
                    now,
                    &LinkEvent {
                        index,
                        name: &name,
                        up: false,
                        deleted: true,
                        mac: None,
                    },
                );
            }
        }
    }

    /// Interface `iface` is gone: its sockets are closed.
    pub(crate) fn interface_gone(&mut self, iface: u8) {
        let i = usize::from(iface);
        self.sockets.close(i, &mut self.poll);
        let name = self
            .engine
            .interfaces()
            .get(i)
            .map_or("?", |f| f.name.as_str());
        log::warn!("Interface {name} deleted: its sockets are closed, its instances wait in FAULT");
    }

    /// Interface `iface` exists again (maybe with another index): its
    /// sockets are opened there, joined to the groups; routes through its
    /// old index follow it.
    pub(crate) fn interface_back(&mut self, iface: u8) {
        let i = usize::from(iface);
        let Some(f) = self.engine.interfaces().get(i) else {
            return;
        };
        let index = f.facts.index;
        let (was, opened) = self.sockets.reopen(i, f, &mut self.poll);
        if was != 0 && was != index {
            for r in self.routes.iter_mut().flatten() {
                if r.oif == Some(was) {
                    r.oif = Some(index);
                }
            }
        }
        let how = if was == 0 { "appeared" } else { "is back" };
        match opened {
            Ok(()) => log::info!(
                "Interface {} {how} (index {index}): its sockets are open",
                f.name
            ),
            Err((what, e)) => {
                self.core.stats_mut().socket_errors += 1;
                log::error!("Interface {} {how} (index {index}) but {what}: {e}", f.name);
            }
        }
    }

    /// Address `k` of master `slot` was deleted by someone else: it is
    /// added again, announced, and the routes that went with it come back.
    pub(crate) fn restore_vip(&mut self, now: picket::time::Instant, slot: u16, k: u16) {
        let k = usize::from(k);
        if let Some(v) = crate::instance_cfg(&self.cfg, &self.engine, slot)
            .and_then(|inst| inst.vips.iter().chain(inst.evips.iter()).nth(k))
        {
            log::warn!(
                "({}) VIP {} removed externally: restored",
                self.name(slot),
                v.addr
            );
        }
        self.send_address_request(now, slot, k, Operation::Add, false);
        let repeat = self
            .engine
            .instance(slot)
            .map_or(1, |i| i.params().garp.master_repeat);
        self.announce_address(slot, k, repeat.max(1));
        self.route_requests(now, slot, Operation::Add);
    }

    /// Logs what happened to the source address of `slot`.
    pub(crate) fn log_source(&self, slot: u16, event: SourceEvent) {
        let name = self.name(slot);
        let unicast = self.engine.source(slot).is_some_and(|(u, _)| u);
        let keyword = if unicast {
            "unicast_src_ip"
        } else {
            "mcast_src_ip"
        };
        let ifname = |i: u8| {
            self.engine
                .interfaces()
                .get(usize::from(i))
                .map_or("?", |f| f.name.as_str())
        };
        let src_if = crate::instance_cfg(&self.cfg, &self.engine, slot).map_or("?", |inst| {
            if inst.vmac_parent.is_empty() {
                inst.interface.as_str()
            } else {
                inst.vmac_parent.as_str()
            }
        });
        match event {
            SourceEvent::Changed { from, to } => {
                log::info!(
                    "({name}) source address {from} gone from {src_if}: adverts now from {to}"
                );
            }
            SourceEvent::Missing {
                iface,
                family: Family::Ipv4,
            } => log::warn!(
                "({name}) {} has no IPv4 address: FAULT until one is added",
                ifname(iface)
            ),
            SourceEvent::Missing { iface, .. } => log::warn!(
                "({name}) {} has no usable IPv6 link-local address (none yet, or duplicate \
                 address detection still running): FAULT until one is valid",
                ifname(iface)
            ),
            SourceEvent::Found { addr } => {
                log::info!("({name}) {addr} on {src_if}: adverts are sent from it");
            }
            SourceEvent::ConfiguredMissing { addr, held: true } => log::warn!(
                "({name}) {keyword} {addr} is not on {src_if}: FAULT until it is (track_src_ip)"
            ),
            SourceEvent::ConfiguredMissing { addr, held: false } => log::warn!(
                "({name}) {keyword} {addr} is not (yet) on {src_if}: running anyway, sending \
                 adverts from it; peers' adverts reach this instance once the address is added"
            ),
            SourceEvent::ConfiguredFound { addr } => {
                log::info!("({name}) {keyword} {addr} is on {src_if} now");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use picket::core::CoreSettings;

    use crate::Daemon;
    use crate::sys::clock;
    use crate::tests::{init_logging, ip, ops_paths, test_dir, veth_pair_netns};

    /// A tracked link set down while the monitor socket has room (that
    /// notification is queued), then thousands of notifications (the
    /// socket overruns), then the link set up again (that notification is
    /// lost): after one drain the link is up — the re-read came after the
    /// stale queued "down", not before.
    #[test]
    fn an_overrun_rereads_after_the_notifications_still_queued() {
        let _one = init_logging();
        if !veth_pair_netns() {
            return;
        }
        let dir = test_dir("overrun");
        ip("link add trk type veth peer name trkp");
        ip("link add ov type veth peer name ovp");
        for link in ["trk", "trkp", "ov", "ovp"] {
            ip(&format!("link set {link} up"));
        }
        let conf = dir.join("t.conf");
        std::fs::write(
            &conf,
            "vrrp_instance A {\n interface va\n virtual_router_id 7\n priority 150\n \
             track_interface {\n  trk\n }\n virtual_ipaddress {\n  10.98.0.100/24\n }\n}\n",
        )
        .unwrap();
        let loaded = crate::load(&crate::cli::Options {
            config_file: conf.display().to_string(),
            ..Default::default()
        });
        assert!(loaded.diags.is_ok());
        let mut cfg = loaded.cfg;
        ops_paths(&mut cfg, &dir);
        let mut d = Daemon::init(cfg, Some(&CoreSettings::default())).unwrap();
        d.start();
        d.drain_monitor(clock::now());
        let trk = d.links.find("trk").unwrap();
        assert!(d.links.is_up(trk));

        ip("link set trk down");
        let batch: String = (0..6000u32)
            .map(|i| format!("addr add 10.200.{}.{}/32 dev ov\n", i / 250, i % 250 + 1))
            .collect();
        let file = dir.join("storm.batch");
        std::fs::write(&file, batch).unwrap();
        ip(&format!("-batch {}", file.display()));
        ip("link set trk up");
        d.drain_monitor(clock::now());

        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(d.core.stats().monitor_overruns, 1, "the socket overran");
        assert!(d.links.is_up(trk), "the stale 'down' outlived the re-read");
    }
}
