//! The service manager's notification socket (`NOTIFY_SOCKET`, see
//! `picket::watchdog::notify`): one unbound `AF_UNIX` datagram socket,
//! messages sent with `sendto(2)` to the path or abstract name. Opened at
//! start-up; sending allocates nothing.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr, sendto, socket};
use picket::watchdog::notify::NotifyAddr;

/// A socket and where its messages go.
pub struct Notifier {
    fd: OwnedFd,
    addr: UnixAddr,
}

impl Notifier {
    /// A non-blocking socket for `addr`.
    pub fn open(addr: NotifyAddr<'_>) -> Result<Self, Errno> {
        let addr = match addr {
            NotifyAddr::Path(p) => UnixAddr::new(p)?,
            NotifyAddr::Abstract(name) => UnixAddr::new_abstract(name.as_bytes())?,
        };
        let fd = socket(
            AddressFamily::Unix,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )?;
        Ok(Notifier { fd, addr })
    }

    /// Sends one message (`READY=1`, `WATCHDOG=1`, ...).
    pub fn send(&self, message: &[u8]) -> Result<(), Errno> {
        sendto(
            self.fd.as_raw_fd(),
            message,
            &self.addr,
            MsgFlags::MSG_NOSIGNAL,
        )
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn messages_reach_path_and_abstract_sockets() {
        let dir = std::env::temp_dir().join(format!("picket-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let _ = std::fs::remove_file(&path);
        let rx = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::open(NotifyAddr::Path(path.to_str().unwrap())).unwrap();
        n.send(b"READY=1").unwrap();
        let mut buf = [0u8; 64];
        let len = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1");
        std::fs::remove_dir_all(&dir).unwrap();

        let name = format!("picket-test-{}", std::process::id());
        let addr = <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(name.as_bytes()).unwrap();
        let rx = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier::open(NotifyAddr::Abstract(&name)).unwrap();
        n.send(b"WATCHDOG=1").unwrap();
        let len = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1");
    }
}
