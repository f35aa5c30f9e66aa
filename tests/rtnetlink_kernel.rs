//! Real-kernel check of the rtnetlink address requests: in a fresh network
//! namespace, picket's `RTM_NEWADDR` / `RTM_DELADDR` messages go over an
//! `AF_NETLINK` socket, the kernel acknowledges them, and `ip -o addr show`
//! sees the result. And the other way: the link and address notifications
//! the kernel sends a monitor socket parse with picket's wire types and say
//! what `ip` did.
//!
//! Needs root (CAP_NET_ADMIN and `ip netns`). Without it the test prints
//! `SKIPPED: <why>` and passes — except under `CI=true`, where it fails.
//! This is a test, so it may use `libc` and `unsafe`; the library does not.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::CString;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::process::Command;

use picket::wire::link::{LinkEvent, RTMGRP_LINK};
use picket::wire::netlink::{Control, ErrorRepr, Messages};
use picket::wire::rtnetlink::{
    AddressRepr, AddressRequest, MAX_REQUEST_LEN, Operation, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR,
};

fn skip_or_fail(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true and the kernel test cannot run: {why}");
    }
    println!("SKIPPED: {why}");
}

fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Deletes the namespace on every exit path.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

/// A NETLINK_ROUTE socket opened inside the namespace (by the calling thread).
struct Socket(i32);

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: the fd is ours and closed once.
        unsafe { libc::close(self.0) };
    }
}

impl Socket {
    fn open_in(ns: &str) -> Socket {
        Socket::open_groups_in(ns, 0)
    }

    /// A socket in `ns` that also receives the multicast `groups`.
    fn open_groups_in(ns: &str, groups: u32) -> Socket {
        let f = File::open(format!("/run/netns/{ns}")).expect("open netns");
        // SAFETY: a valid namespace fd; only this thread moves.
        let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
        // SAFETY: plain socket(2).
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let s = Socket(fd);
        // SAFETY: zeroed sockaddr_nl is valid (nl_family set below).
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        sa.nl_groups = groups;
        // SAFETY: sa is a sockaddr_nl of the given size.
        let r = unsafe {
            libc::bind(
                fd,
                (&sa as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        assert_eq!(r, 0, "bind: {}", std::io::Error::last_os_error());
        s
    }

    /// Sends one request and returns the kernel's NLMSG_ERROR for it.
    fn request(&self, req: &AddressRequest<'_>) -> ErrorRepr {
        let mut buf = [0u8; MAX_REQUEST_LEN];
        let n = req.emit(&mut buf).expect("emit");
        // SAFETY: buf holds n initialised bytes.
        let sent = unsafe { libc::send(self.0, buf.as_ptr().cast(), n, 0) };
        assert_eq!(
            sent,
            n as isize,
            "send: {}",
            std::io::Error::last_os_error()
        );
        let mut rx = [0u8; 8192];
        loop {
            // SAFETY: rx is writable for its length.
            let got = unsafe { libc::recv(self.0, rx.as_mut_ptr().cast(), rx.len(), 0) };
            assert!(got > 0, "recv: {}", std::io::Error::last_os_error());
            for m in Messages::new(&rx[..got as usize]) {
                let m = m.expect("well-formed reply");
                if let Control::Error(e) = Control::parse(&m).expect("control")
                    && e.request.sequence == req.sequence
                {
                    return e;
                }
            }
        }
    }
}

fn ifindex(name: &str) -> u32 {
    let c = CString::new(name).expect("name");
    // SAFETY: a NUL-terminated name.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert!(i != 0, "if_nametoindex({name})");
    i
}

#[test]
fn addresses_in_a_namespace() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return skip_or_fail("not root (needs CAP_NET_ADMIN and ip netns)");
    }
    let name = format!("pkt{}", std::process::id());
    if let Err(e) = ip(&["netns", "add", &name]) {
        return skip_or_fail(&format!("cannot create a network namespace: {e}"));
    }
    let ns = Netns(name);
    let n = ns.0.as_str();
    let dev = if ip(&[
        "-n", n, "link", "add", "v0", "type", "veth", "peer", "name", "v1",
    ])
    .is_ok()
    {
        ip(&["-n", n, "link", "set", "v0", "up"]).expect("v0 up");
        ip(&["-n", n, "link", "set", "v1", "up"]).expect("v1 up");
        "v0"
    } else {
        ip(&["-n", n, "link", "set", "lo", "up"]).expect("lo up");
        "lo"
    };
    let show = || ip(&["-n", n, "-o", "addr", "show", "dev", dev]).expect("ip addr show");
    let ns_name = ns.0.clone();
    let dev_name = dev.to_string();

    // Move a thread into the namespace; the socket lives there.
    let outcome = std::thread::spawn(move || {
        let sock = Socket::open_in(&ns_name);
        let index = ifindex(&dev_name);
        let label: &'static str = Box::leak(format!("{dev_name}:vip").into_boxed_str());
        let v4 = AddressRequest {
            broadcast: Some(Ipv4Addr::new(10, 0, 0, 255)),
            label: Some(label),
            ..AddressRequest::new(
                Operation::Add,
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                24,
                index,
                1,
            )
        };
        let v6 = AddressRequest {
            scope: 253,
            ..AddressRequest::new(
                Operation::Add,
                IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
                64,
                index,
                2,
            )
        };
        let mut log = Vec::new();
        let e = sock.request(&v4);
        assert!(
            e.is_ack(),
            "add v4: {}",
            v4.failure(&dev_name, e.errno().unwrap_or(0))
        );
        let e = sock.request(&v6);
        assert!(
            e.is_ack(),
            "add v6: {}",
            v6.failure(&dev_name, e.errno().unwrap_or(0))
        );
        // The same again: the kernel refuses it, and the failure says where.
        let again = AddressRequest { sequence: 3, ..v4 };
        let e = sock.request(&again);
        assert_eq!(e.errno(), Some(libc::EEXIST));
        log.push(again.failure(&dev_name, libc::EEXIST).to_string());
        (sock, v4, v6, log, label)
    })
    .join();
    let (sock_v4_v6, log, label) = match outcome {
        Ok((sock, v4, v6, log, label)) => ((sock, v4, v6), log, label),
        Err(p) => std::panic::resume_unwind(p),
    };
    assert_eq!(
        log[0],
        format!(
            "cannot add 10.0.0.1/24 on {dev} (ifindex {}): address already exists (EEXIST)",
            sock_v4_v6.1.ifindex
        )
    );

    let after_add = show();
    println!("{after_add}");
    let v4_line = after_add
        .lines()
        .find(|l| l.contains("inet 10.0.0.1/24"))
        .expect("v4 added");
    assert!(v4_line.contains("brd 10.0.0.255"), "{v4_line}");
    assert!(v4_line.contains(label), "{v4_line}");
    let v6_line = after_add
        .lines()
        .find(|l| l.contains("inet6 fe80::1/64"))
        .expect("v6 added");
    assert!(v6_line.contains("nodad"), "{v6_line}");

    // Delete both (the socket is already in the namespace).
    let (sock, v4, v6) = sock_v4_v6;
    for (seq, req) in [(10, v4), (11, v6)] {
        let del = AddressRequest {
            operation: Operation::Delete,
            sequence: seq,
            ..req
        };
        let e = sock.request(&del);
        assert!(e.is_ack(), "{}", del.failure(dev, e.errno().unwrap_or(0)));
    }
    let after_del = show();
    assert!(!after_del.contains("10.0.0.1/24"), "{after_del}");
    assert!(!after_del.contains("fe80::1/64"), "{after_del}");
    // Deleting again: EADDRNOTAVAIL, reported with the address.
    let del = AddressRequest {
        operation: Operation::Delete,
        sequence: 12,
        ..v4
    };
    let e = sock.request(&del);
    assert_eq!(e.errno(), Some(libc::EADDRNOTAVAIL));
    println!("{}", del.failure(dev, libc::EADDRNOTAVAIL));
    drop(sock);
    drop(ns);
}

/// What the monitor test saw, owned.
#[derive(Debug)]
enum Seen {
    Link {
        index: u32,
        name: String,
        up: bool,
        deleted: bool,
        mac: Option<[u8; 6]>,
    },
    Address {
        added: bool,
        index: u32,
        addr: Option<IpAddr>,
    },
}

/// The notifications the kernel sends a monitor socket (`RTMGRP_LINK`,
/// `RTMGRP_IPV4_IFADDR`, `RTMGRP_IPV6_IFADDR`) parse with picket's wire
/// types and say what `ip` did: a veth created (index and MAC as `ip link`
/// shows them), an address added and deleted, the link up and deleted.
#[test]
fn the_kernels_link_and_address_notifications_parse() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return skip_or_fail("not root (needs CAP_NET_ADMIN and ip netns)");
    }
    let name = format!("pkm{}", std::process::id());
    if let Err(e) = ip(&["netns", "add", &name]) {
        return skip_or_fail(&format!("cannot create a network namespace: {e}"));
    }
    let ns = Netns(name);
    let n = ns.0.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let sock =
            Socket::open_groups_in(&n, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR);
        ready_tx.send(()).unwrap();
        let mut seen = Vec::new();
        let mut rx = [0u8; 8192];
        loop {
            let mut pfd = libc::pollfd {
                fd: sock.0,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut pfd, 1, 1000) } <= 0 {
                return seen;
            }
            // SAFETY: rx is writable for its length.
            let got = unsafe { libc::recv(sock.0, rx.as_mut_ptr().cast(), rx.len(), 0) };
            assert!(got > 0, "recv: {}", std::io::Error::last_os_error());
            for m in Messages::new(&rx[..got as usize]) {
                let m = m.expect("well-formed notification");
                if let Some(ev) = LinkEvent::parse(&m) {
                    let ev = ev.expect("a link message that parses");
                    seen.push(Seen::Link {
                        index: ev.index,
                        name: ev.name.to_owned(),
                        up: ev.up,
                        deleted: ev.deleted,
                        mac: ev.mac,
                    });
                } else if let Ok(a) = AddressRepr::parse(&m) {
                    seen.push(Seen::Address {
                        added: a.operation == Operation::Add,
                        index: a.ifindex,
                        addr: a.local_address(),
                    });
                }
            }
        }
    });
    ready_rx.recv().unwrap();
    let n = ns.0.as_str();
    ip(&[
        "-n", n, "link", "add", "m0", "type", "veth", "peer", "name", "m1",
    ])
    .unwrap();
    let shown = ip(&["-n", n, "-o", "link", "show", "m0"]).unwrap();
    let index: u32 = shown.split(':').next().unwrap().trim().parse().unwrap();
    let mac_text = shown
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap()
        .to_owned();
    ip(&["-n", n, "addr", "add", "10.1.2.3/24", "dev", "m0"]).unwrap();
    ip(&["-n", n, "link", "set", "m1", "up"]).unwrap();
    ip(&["-n", n, "link", "set", "m0", "up"]).unwrap();
    ip(&["-n", n, "addr", "del", "10.1.2.3/24", "dev", "m0"]).unwrap();
    ip(&["-n", n, "link", "del", "m0"]).unwrap();
    let seen = reader.join().unwrap();
    let mac: Vec<u8> = mac_text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let link_of = |want_deleted: bool, want_up: bool| {
        seen.iter().any(|s| {
            matches!(s, Seen::Link { index: i, name, up, deleted, mac: m }
                if *i == index && name == "m0" && *deleted == want_deleted && *up == want_up
                    && m.map(|m| m.to_vec()) == Some(mac.clone()))
        })
    };
    let addr_of = |want_added: bool| {
        seen.iter().any(|s| {
            matches!(s, Seen::Address { added, index: i, addr }
                if *added == want_added && *i == index
                    && *addr == Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))))
        })
    };
    println!("{} notifications: {seen:?}", seen.len());
    assert!(
        link_of(false, false),
        "m0 created (down), index {index}, MAC {mac_text}"
    );
    assert!(link_of(false, true), "m0 up");
    assert!(link_of(true, false), "m0 deleted");
    assert!(
        addr_of(true) && addr_of(false),
        "10.1.2.3 added and deleted"
    );
    drop(ns);
}
