//! VMACs (`use_vmac`, keepalived's `vrrp_vmac.c` and `vrrp_if_config.c`):
//! a macvlan per instance over its interface, mode private, with the VRRP
//! MAC 00:00:5E:00:01:{VRID} (00:00:5E:00:02:{VRID} for IPv6), created over
//! rtnetlink at start-up and deleted at exit (a VMAC that already existed
//! with that MAC is reused and left in place).
//!
//! The instance then runs on it: its VIPs (those on the instance's
//! interface) go on the VMAC, so gratuitous ARPs and ARP replies carry the
//! virtual MAC, and adverts are sent and received on the VMAC — or on the
//! parent with `vmac_xmit_base`. Adverts keep the parent's primary address
//! as source (the VMAC has none). [`Vmacs::setup`] does this by rewriting
//! the loaded configuration before the engine is built: the instance's
//! `interface` (unless `vmac_xmit_base`), the `dev` of its VIPs, and its
//! source address.
//!
//! sysctls, as keepalived: on the VMAC `arp_ignore=1` (answer ARP only for
//! its own addresses), `accept_local=1`, `rp_filter=0` (adverts from the
//! parent's subnet arrive on it); on the parent `arp_ignore=1` and
//! `arp_filter=1` (it does not answer for the VIPs) and, picket's addition,
//! `arp_announce=2` (see [`PARENT_SYSCTLS`]), restored at exit.
//!
//! Start-up and exit only: this allocates and blocks on the kernel's acks.

use std::net::IpAddr;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use picket::config::Config;
use picket::wire::link::{self, MACVLAN_MODE_PRIVATE, MacvlanRequest, vrrp_mac};
use picket::wire::netlink::{Control, Messages};
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

/// One VMAC of this run.
#[derive(Debug)]
struct Vmac {
    name: String,
    index: u32,
    /// Created by picket (deleted at exit).
    created: bool,
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

fn sysctl_path(ifname: &str, key: &str) -> String {
    format!("/proc/sys/net/ipv4/conf/{ifname}/{key}")
}

fn set_sysctl(ifname: &str, key: &str, value: &str) -> Result<(), String> {
    let path = sysctl_path(ifname, key);
    std::fs::write(&path, value).map_err(|e| format!("cannot set {path} to {value}: {e}"))
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
            });
            let mut up = [0u8; link::BARE_REQUEST_LEN];
            let len = link::emit_set_flags(index, link::IFF_UP, 2, &mut up)
                .map_err(|e| what(format!("{e}")))?;
            talk(&sock, &up[..len]).map_err(|e| what(format!("cannot bring {name} up: {e}")))?;
            if !inst.ipv6 {
                for (key, value) in [
                    ("arp_ignore", "1"),
                    ("accept_local", "1"),
                    ("rp_filter", "0"),
                ] {
                    set_sysctl(&name, key, value).map_err(what)?;
                }
                for (key, value) in PARENT_SYSCTLS {
                    let path = sysctl_path(&base, key);
                    if !out.saved.iter().any(|s| s.path == path) {
                        let old = std::fs::read_to_string(&path)
                            .map_err(|e| what(format!("cannot read {path}: {e}")))?;
                        out.saved.push(Saved { path, value: old });
                    }
                    set_sysctl(&base, key, value).map_err(what)?;
                }
                if inst.src_ip.is_none() {
                    inst.src_ip = parent.ipv4.map(IpAddr::V4);
                }
            }
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
}

impl Drop for Vmacs {
    fn drop(&mut self) {
        if self.vmacs.iter().any(|v| v.created) {
            match NetlinkSocket::open() {
                Ok(sock) => {
                    for v in self.vmacs.iter().filter(|v| v.created) {
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
