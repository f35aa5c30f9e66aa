//! VMACs (`use_vmac`, keepalived's `vrrp_vmac.c` and `vrrp_if_config.c`):
//! a macvlan per instance over its interface, mode private, with the VRRP
//! MAC 00:00:5E:00:01:{VRID} (00:00:5E:00:02:{VRID} for IPv6), created over
//! rtnetlink at start-up and deleted at exit (a VMAC that already existed
//! with that MAC is reused and left in place).
//!
//! The instance then runs on it: its VIPs (those on the instance's
//! interface) go on the VMAC, so gratuitous ARPs, neighbour advertisements
//! and ARP/ND replies carry the virtual MAC, and adverts are sent and
//! received on the VMAC — or on the parent with `vmac_xmit_base`. Adverts
//! keep the parent's addresses as source (the VMAC has none of its own):
//! [`Vmacs::setup`] rewrites the loaded configuration before the engine is
//! built — the instance's `interface` (unless `vmac_xmit_base`), the `dev`
//! of its VIPs, and `vmac_parent`, which the engine follows for the source.
//!
//! sysctls, as keepalived: on an IPv4 VMAC `arp_ignore=1` (answer ARP only
//! for its own addresses), `accept_local=1`, `rp_filter=0` (adverts from
//! the parent's subnet arrive on it); on the parent `arp_ignore=1` and
//! `arp_filter=1` (it does not answer for the VIPs) and, picket's addition,
//! `arp_announce=2` (see [`PARENT_SYSCTLS`]), restored at exit.
//!
//! IPv6, as keepalived 2.2.7 (observed): the VMAC is created down, its
//! `addr_gen_mode` set to 1 (none) before it comes up — otherwise the kernel
//! gives it the link-local address of the virtual MAC, the same on every
//! router of the VRID, which duplicate address detection then fails — and
//! the parent's link-local address is added to it (`nodad`, preferred
//! lifetime 0, so it is never chosen as a source by others). The IPv4
//! sysctls are left alone.
//!
//! At run time (no allocation): a VMAC picket created that disappears is
//! created again while its parent exists, and when the parent is deleted
//! (which takes the macvlan with it) and comes back, the VMAC is created on
//! the new parent ([`Vmacs::handle_link`]); it is configured and brought up
//! when the kernel reports it, and an IPv6 VMAC gets the parent's
//! link-local address once the parent has one ([`Vmacs::sync_link_local`]).
//! The requests go out on the daemon's command socket; the kernel's
//! refusals come back there ([`Vmacs::request_failed`]). The engine sees
//! the VMAC vanish and come back like any interface: its instance waits in
//! FAULT meanwhile, and its sockets are opened on the new VMAC.
//!
//! Start-up and exit block on the kernel's acks and allocate; the run-time
//! part does neither.

use std::net::{IpAddr, Ipv6Addr};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use picket::config::Config;
use picket::wire::link::{self, LinkEvent, MACVLAN_MODE_PRIVATE, MacvlanRequest, vrrp_mac};
use picket::wire::netlink::{Control, Messages};
use picket::wire::rtnetlink::{self, AddressRequest, Operation};
use std::os::fd::AsFd;

use super::net::{self, NetlinkSocket};

/// What the parent of a VMAC is set to (restored at exit): keepalived's
/// `arp_ignore=1` and `arp_filter=1`, and `arp_announce=2` — picket's own:
/// the parent's ARP requests (for a client the master answers through it)
/// then carry the parent's address, not a VIP, so clients keep the virtual
/// MAC for the VIP. keepalived 2.2.7 leaves `arp_announce` alone, and a
/// client that pings the VIP ends with the parent's MAC for it (observed).
const PARENT_SYSCTLS: [(&str, &str); 3] = [
    ("arp_ignore", "1"),
    ("arp_filter", "1"),
    ("arp_announce", "2"),
];

/// What an IPv4 VMAC is set to (keepalived's).
const VMAC_SYSCTLS: [(&str, &str); 3] = [
    ("arp_ignore", "1"),
    ("accept_local", "1"),
    ("rp_filter", "0"),
];

/// `RT_SCOPE_LINK`.
const SCOPE_LINK: u8 = 253;

/// One VMAC of this run.
#[derive(Debug)]
struct Vmac {
    name: String,
    index: u32,
    /// Created by picket (deleted at exit, created again at run time).
    created: bool,
    /// The interface it sits on.
    parent: String,
    mac: [u8; 6],
    ipv6: bool,
    /// It exists (as far as the notifications said).
    present: bool,
    /// Run time: a create request is out; configure it when it appears.
    creating: bool,
    /// IPv6: the parent's link-local address added to it.
    link_local: Option<Ipv6Addr>,
}

/// A parent's sysctl value to put back at exit.
#[derive(Debug)]
struct Saved {
    path: String,
    value: String,
}

/// The VMACs of this run; dropping it deletes those picket created and
/// restores the parents' sysctls.
#[derive(Debug, Default)]
pub struct Vmacs {
    vmacs: Vec<Vmac>,
    saved: Vec<Saved>,
}

/// Sends one request and waits (up to a second) for its ack.
fn talk(sock: &NetlinkSocket, msg: &[u8]) -> Result<(), Errno> {
    sock.send(msg)?;
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(1000u16))? == 0 {
            return Err(Errno::ETIMEDOUT);
        }
        let n = match sock.recv(&mut buf) {
            Ok(n) => n.min(buf.len()),
            Err(nb::Error::WouldBlock) => continue,
            Err(nb::Error::Other(e)) => return Err(e),
        };
        for m in Messages::new(&buf[..n]) {
            let m = m.map_err(|_| Errno::EBADMSG)?;
            if let Ok(Control::Error(e)) = Control::parse(&m) {
                return match e.errno() {
                    None | Some(0) => Ok(()),
                    Some(errno) => Err(Errno::from_raw(errno)),
                };
            }
        }
    }
}

/// Writes `/proc/sys/net/{family}/conf/{ifname}/{key}` with no allocation
/// (the path lives on the stack).
fn write_sysctl(family: &str, ifname: &str, key: &str, value: &str) -> Result<(), Errno> {
    use std::fmt::Write as _;
    use std::io::Write as _;
    if ifname.contains('/') || key.contains('/') {
        return Err(Errno::EINVAL);
    }
    let mut path: heapless::String<96> = heapless::String::new();
    write!(path, "/proc/sys/net/{family}/conf/{ifname}/{key}").map_err(|_| Errno::ENAMETOOLONG)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path.as_str())
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    f.write_all(value.as_bytes())
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

fn sysctl_path(ifname: &str, key: &str) -> String {
    format!("/proc/sys/net/ipv4/conf/{ifname}/{key}")
}

/// The request adding the parent's link-local `ll` to an IPv6 VMAC
/// (keepalived's: `nodad`, preferred lifetime 0, link scope).
fn link_local_request(ll: Ipv6Addr, index: u32, sequence: u32) -> AddressRequest<'static> {
    let mut req = AddressRequest::new(Operation::Add, IpAddr::V6(ll), 64, index, sequence);
    req.scope = SCOPE_LINK;
    req.preferred_lifetime = Some(0);
    req
}

/// Sets what a new VMAC needs before it comes up: the IPv4 sysctls, or
/// the IPv6 address generation mode none.
fn configure(name: &str, ipv6: bool) -> Result<(), Errno> {
    if ipv6 {
        write_sysctl("ipv6", name, "addr_gen_mode", "1")
    } else {
        for (key, value) in VMAC_SYSCTLS {
            write_sysctl("ipv4", name, key, value)?;
        }
        Ok(())
    }
}

impl Vmacs {
    /// Creates (or finds) the VMAC of every `use_vmac` instance of `cfg`
    /// and rewrites the instance to run on it (module doc). Errors name the
    /// instance.
    pub fn setup(cfg: &mut Config) -> Result<Vmacs, String> {
        let mut out = Vmacs::default();
        if !cfg.vrrp.instances.iter().any(|i| i.use_vmac.is_some()) {
            return Ok(out);
        }
        let sock = NetlinkSocket::open().map_err(|e| format!("netlink socket: {e}"))?;
        let prefix = cfg.global.vmac_prefix.clone();
        for inst in cfg.vrrp.instances.iter_mut() {
            let Some(vm) = inst.use_vmac.clone() else {
                continue;
            };
            let what = |e: String| format!("({}) use_vmac: {e}", inst.name);
            let base = inst.interface.clone();
            let parent =
                net::interface(&base).map_err(|e| what(format!("interface {base}: {e}")))?;
            let name = if vm.name.is_empty() {
                format!("{prefix}.{}", inst.vrid)
            } else {
                vm.name.to_string()
            };
            let mac = vm.mac.unwrap_or(vrrp_mac(inst.vrid, inst.ipv6));
            let created = match net::interface(&name) {
                Ok(f) if f.mac == mac => {
                    log::info!("({}) using the existing VMAC {name}", inst.name);
                    false
                }
                Ok(_) => {
                    return Err(what(format!(
                        "interface {name} exists with another MAC; remove it or name the VMAC"
                    )));
                }
                Err(_) => {
                    let req = MacvlanRequest {
                        name: &name,
                        parent: parent.index,
                        mac,
                        mode: MACVLAN_MODE_PRIVATE,
                        up: false,
                    };
                    let mut msg = [0u8; link::MAX_REQUEST_LEN];
                    let len = req
                        .emit(1, &mut msg)
                        .map_err(|e| what(format!("cannot build the request for {name}: {e}")))?;
                    talk(&sock, &msg[..len]).map_err(|e| {
                        what(format!("cannot create macvlan {name} on {base}: {e}"))
                    })?;
                    true
                }
            };
            let index = net::interface(&name)
                .map_err(|e| what(format!("interface {name}: {e}")))?
                .index;
            // Pushed before anything else can fail: dropped, it is deleted.
            out.vmacs.push(Vmac {
                name: name.clone(),
                index,
                created,
                parent: base.to_string(),
                mac,
                ipv6: inst.ipv6,
                present: true,
                creating: false,
                link_local: None,
            });
            if created || !inst.ipv6 {
                configure(&name, inst.ipv6)
                    .map_err(|e| what(format!("cannot set the sysctls of {name}: {e}")))?;
            }
            let mut up = [0u8; link::BARE_REQUEST_LEN];
            let len = link::emit_set_flags(index, link::IFF_UP, 2, &mut up)
                .map_err(|e| what(format!("{e}")))?;
            talk(&sock, &up[..len]).map_err(|e| what(format!("cannot bring {name} up: {e}")))?;
            if inst.ipv6 {
                if let Some(ll) = parent.ipv6_link_local {
                    let mut msg = [0u8; rtnetlink::MAX_REQUEST_LEN];
                    let len = link_local_request(ll, index, 4)
                        .emit(&mut msg)
                        .map_err(|e| what(format!("{e}")))?;
                    match talk(&sock, &msg[..len]) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(what(format!("cannot add {ll} to {name}: {e}"))),
                    }
                    if let Some(v) = out.vmacs.last_mut() {
                        v.link_local = Some(ll);
                    }
                }
            } else {
                for (key, value) in PARENT_SYSCTLS {
                    let path = sysctl_path(&base, key);
                    if !out.saved.iter().any(|s| s.path == path) {
                        let old = std::fs::read_to_string(&path)
                            .map_err(|e| what(format!("cannot read {path}: {e}")))?;
                        out.saved.push(Saved { path, value: old });
                    }
                    write_sysctl("ipv4", &base, key, value)
                        .map_err(|e| what(format!("cannot set {key} of {base}: {e}")))?;
                }
            }
            inst.vmac_parent = base.clone();
            let mut vname = heapless::String::new();
            vname
                .push_str(&name)
                .map_err(|_| what(format!("'{name}' is too long")))?;
            for a in inst.vips.iter_mut().chain(inst.evips.iter_mut()) {
                if a.dev == base {
                    a.dev = vname.clone();
                }
            }
            if !inst.vmac_xmit_base {
                inst.interface = vname;
            }
            log::info!(
                "({}) VMAC {name} ({}) on {base}{}",
                inst.name,
                mac.map(|b| format!("{b:02x}")).join(":"),
                if inst.vmac_xmit_base {
                    ", adverts on the base interface"
                } else {
                    ""
                }
            );
        }
        Ok(out)
    }

    /// A link notification (run time, no allocation): see the module doc.
    /// Requests go out on `sock`, numbered by `seq(k)` for VMAC `k` (so a
    /// refusal finds its way to [`Vmacs::request_failed`]).
    pub fn handle_link(
        &mut self,
        ev: &LinkEvent<'_>,
        sock: &NetlinkSocket,
        seq: &mut dyn FnMut(usize) -> u32,
    ) {
        for (k, v) in self.vmacs.iter_mut().enumerate() {
            if !v.created {
                continue;
            }
            if ev.name == v.name {
                if ev.deleted {
                    v.present = false;
                    v.link_local = None;
                    // Deleted by hand: created again while the parent is
                    // there (a deleted parent takes it along: wait for it).
                    if !v.creating
                        && let Ok(p) = net::link_facts(&v.parent)
                    {
                        log::warn!("VMAC {} deleted: creating it again on {}", v.name, v.parent);
                        create(v, p.index, sock, seq(k));
                    }
                    continue;
                }
                if v.present && v.index == ev.index && !v.creating {
                    continue;
                }
                v.present = true;
                v.index = ev.index;
                if core::mem::take(&mut v.creating) {
                    let configured = configure(&v.name, v.ipv6);
                    let mut up = [0u8; link::BARE_REQUEST_LEN];
                    let sent = link::emit_set_flags(v.index, link::IFF_UP, seq(k), &mut up)
                        .map_err(|_| Errno::EINVAL)
                        .and_then(|len| sock.send(&up[..len]));
                    match (configured, sent) {
                        (Ok(()), Ok(())) => log::info!(
                            "VMAC {} created again on {} (index {})",
                            v.name,
                            v.parent,
                            v.index
                        ),
                        (Err(e), _) | (_, Err(e)) => {
                            log::error!("VMAC {} created again but not set up: {e}", v.name);
                        }
                    }
                }
            } else if ev.name == v.parent && !ev.deleted && !v.present && !v.creating {
                if !v.ipv6 {
                    for (key, value) in PARENT_SYSCTLS {
                        if let Err(e) = write_sysctl("ipv4", &v.parent, key, value) {
                            log::warn!("cannot set {key} of {}: {e}", v.parent);
                        }
                    }
                }
                log::info!("{} is back: creating its VMAC {} again", v.parent, v.name);
                create(v, ev.index, sock, seq(k));
            }
        }
    }

    /// IPv6 VMACs that exist without the parent's link-local address get
    /// it once `parent_ll` (by parent name) knows one (run time, no
    /// allocation).
    pub fn sync_link_local(
        &mut self,
        parent_ll: &dyn Fn(&str) -> Option<Ipv6Addr>,
        sock: &NetlinkSocket,
        seq: &mut dyn FnMut(usize) -> u32,
    ) {
        for (k, v) in self.vmacs.iter_mut().enumerate() {
            if !(v.created && v.ipv6 && v.present && !v.creating && v.link_local.is_none()) {
                continue;
            }
            let Some(ll) = parent_ll(&v.parent) else {
                continue;
            };
            let mut msg = [0u8; rtnetlink::MAX_REQUEST_LEN];
            let sent = link_local_request(ll, v.index, seq(k))
                .emit(&mut msg)
                .map_err(|_| Errno::EINVAL)
                .and_then(|len| sock.send(&msg[..len]));
            match sent {
                Ok(()) => v.link_local = Some(ll),
                Err(e) => log::warn!("cannot add {ll} to VMAC {}: {e}", v.name),
            }
        }
    }

    /// The kernel refused a run-time request for VMAC `k` with `errno`: it
    /// is logged, and the VMAC will be created again on the parent's next
    /// notification.
    pub fn request_failed(&mut self, k: usize, errno: i32) {
        let Some(v) = self.vmacs.get_mut(k) else {
            return;
        };
        if Errno::from_raw(errno) == Errno::EEXIST {
            return;
        }
        log::error!(
            "VMAC {} on {}: the kernel refused a request: {}",
            v.name,
            v.parent,
            Errno::from_raw(errno)
        );
        v.creating = false;
    }
}

/// Sends the request creating VMAC `v` (down) over parent index `parent`.
fn create(v: &mut Vmac, parent: u32, sock: &NetlinkSocket, sequence: u32) {
    let req = MacvlanRequest {
        name: &v.name,
        parent,
        mac: v.mac,
        mode: MACVLAN_MODE_PRIVATE,
        up: false,
    };
    let mut msg = [0u8; link::MAX_REQUEST_LEN];
    let sent = req
        .emit(sequence, &mut msg)
        .map_err(|_| Errno::EINVAL)
        .and_then(|len| sock.send(&msg[..len]));
    match sent {
        Ok(()) => v.creating = true,
        Err(e) => log::error!("cannot create VMAC {} on {}: {e}", v.name, v.parent),
    }
}

impl Drop for Vmacs {
    fn drop(&mut self) {
        if self.vmacs.iter().any(|v| v.created && v.present) {
            match NetlinkSocket::open() {
                Ok(sock) => {
                    for v in self.vmacs.iter().filter(|v| v.created && v.present) {
                        let mut msg = [0u8; link::BARE_REQUEST_LEN];
                        let r = link::emit_delete(v.index, 3, &mut msg)
                            .map_err(|_| Errno::EINVAL)
                            .and_then(|len| talk(&sock, &msg[..len]));
                        match r {
                            Ok(()) => log::info!("VMAC {} deleted", v.name),
                            Err(e) => log::error!("cannot delete VMAC {}: {e}", v.name),
                        }
                    }
                }
                Err(e) => log::error!("cannot delete the VMACs: netlink socket: {e}"),
            }
        }
        for s in &self.saved {
            if let Err(e) = std::fs::write(&s.path, &s.value) {
                log::warn!("cannot restore {}: {e}", s.path);
            }
        }
    }
}
