#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Run from anywhere: `python3 fuzz/make_seeds.py [TARGET...]` (all by default).
The seeds come from the byte fixtures (tests/fixtures/vrrp), the example
configurations (config/, tests/fixtures), live kernel captures (rtnetlink
messages and the generic netlink controller's answers, read in a throw-away
network namespace: needs root; skipped otherwise), and hand-made replies in
the formats each harness reads (see fuzz/harness/<target>.rs for the input
layout). Not run by the tests: its output is committed.
"""

import glob
import os
import socket
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


def fixture(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


# ---------------------------------------------------------------- netlink
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP = 1, 2, 4, 0x300


def align(n):
    return (n + 3) & ~3


def nlmsg(kind, payload, seq=0, flags=0, pid=0):
    length = 16 + len(payload)
    return struct.pack("=IHHII", length, kind, flags, seq, pid) + payload + b"\0" * (align(length) - length)


def attr(kind, value):
    length = 4 + len(value)
    return struct.pack("=HH", length, kind) + value + b"\0" * (align(length) - length)


def u16(v):
    return struct.pack("=H", v)


def u32(v):
    return struct.pack("=I", v)


def ack(seq, errno=0, request=None):
    request = request or struct.pack("=IHHII", 16, 0, NLM_F_REQUEST | NLM_F_ACK, seq, 0)
    return nlmsg(NLMSG_ERROR, struct.pack("=i", -errno) + request[:16], seq=seq)


def capture_rtnetlink():
    """Real kernel messages: dumps of links, addresses and routes, and the
    notifications while a veth pair comes up, gets addresses and routes, and
    goes away, in a network namespace of our own (`unshare -n`, gone when
    the child exits). Returns datagrams."""
    path = os.path.join(CORPUS, ".capture")
    try:
        subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), "--capture", path], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("rtnetlink capture skipped (needs root): %s" % e, file=sys.stderr)
        return []
    with open(path, "rb") as f:
        blob = f.read()
    os.unlink(path)
    out = []
    while blob:
        (n,) = struct.unpack("=I", blob[:4])
        out.append(blob[4 : 4 + n])
        blob = blob[4 + n :]
    return out


def capture_child(path):
    groups = 0x1 | 0x10 | 0x40 | 0x100 | 0x400  # link, v4 addr, v4 route, v6 addr, v6 route
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    s.bind((0, groups))
    s.settimeout(0.3)
    grams = []

    def drain():
        while True:
            try:
                grams.append(s.recv(65536))
            except (socket.timeout, BlockingIOError):
                return

    def sh(cmd):
        subprocess.run(cmd, shell=True, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        drain()

    sh("ip link set lo up")
    sh("ip link add fz0 type veth peer name fz1")
    sh("ip link set fz0 address 02:00:5e:00:01:33 up; ip link set fz1 up")
    sh("ip addr add 10.201.0.1/24 dev fz0")
    sh("ip addr add 10.201.0.110/32 dev fz0 label fz0:vip")
    sh("ip addr add fd00:201::1/64 dev fz0 nodad")
    sh("ip -6 addr add fd00:201::2 peer fd00:201::3 dev fz0 nodad")
    sh("ip route add 10.99.0.0/16 via 10.201.0.2 dev fz0 metric 5 table 300")
    sh("ip -6 route add fd00:99::/48 via fd00:201::5 dev fz0")
    # Dumps, as the reflector's resync asks for them.
    for seq, kind in ((1, 18), (2, 22), (3, 26)):  # GETLINK, GETADDR, GETROUTE
        s.send(nlmsg(kind, struct.pack("=BxxxIII", 0, 0, 0, 0), seq=seq, flags=NLM_F_REQUEST | NLM_F_DUMP))
        drain()
    sh("ip addr del 10.201.0.110/32 dev fz0")
    sh("ip link set fz0 down")
    sh("ip link del fz0")
    with open(path, "wb") as f:
        for g in grams:
            f.write(struct.pack("=I", len(g)) + g)


def netlink():
    grams = capture_rtnetlink()
    # Keep the distinct message types, a few of each, plus whole dumps.
    seen = {}
    for i, g in enumerate(grams):
        kind = struct.unpack("=H", g[4:6])[0] if len(g) >= 6 else 0
        key = (kind, len(g) > 1000)
        if seen.get(key, 0) >= 3:
            continue
        seen[key] = seen.get(key, 0) + 1
        write("netlink", "kernel-%02d-type%d" % (i, kind), g[:8192])
    write("netlink", "ack", ack(7))
    write("netlink", "error-eexist", ack(8, 17))
    write("netlink", "done", nlmsg(NLMSG_DONE, u32(0), seq=9, flags=NLM_F_MULTI))
    route = struct.pack("=BBBBBBBBI", 2, 24, 0, 0, 254, 3, 0, 1, 4)
    route += attr(1, bytes([10, 99, 1, 0])) + attr(5, bytes([10, 201, 0, 2])) + attr(4, u32(2)) + attr(6, u32(5)) + attr(15, u32(300))
    write("netlink", "route-add-v4", nlmsg(24, route, seq=10))
    write("netlink", "route-del-v4", nlmsg(25, route, seq=11))


# ---------------------------------------------------------------- ipvs
GENL_ID_CTRL, FAMILY = 0x10, 0x22


def genl(kind, cmd, attrs, seq, flags=0, version=1):
    return nlmsg(kind, bytes([cmd, version, 0, 0]) + attrs, seq=seq, flags=flags)


def nest(kind, attrs):
    return attr(kind | 0x8000, attrs)


def svc(af, proto, addr, port, sched=b"wrr", fwmark=None, flags=2, timeout=0, netmask=0xFFFFFFFF):
    a = attr(1, u16(af))
    if fwmark is not None:
        a += attr(5, u32(fwmark))
    else:
        a += attr(2, u16(proto)) + attr(3, addr.ljust(16, b"\0")) + attr(4, struct.pack(">H", port))
    a += attr(6, sched + b"\0") + attr(7, u32(flags) + u32(0xFFFFFFFF)) + attr(8, u32(timeout)) + attr(9, u32(netmask))
    return a


def dest(addr, port, fwd=0, weight=1, af=2):
    return (attr(1, addr.ljust(16, b"\0")) + attr(2, struct.pack(">H", port)) + attr(3, u32(fwd)) + attr(4, struct.pack("=i", weight))
            + attr(5, u32(0)) + attr(6, u32(0)) + attr(7, u32(3)) + attr(8, u32(1)) + attr(9, u32(0)) + attr(11, u16(af)))


def step(datagram):
    return bytes([0]) + struct.pack(">H", len(datagram)) + datagram


def wait(half_seconds):
    return bytes([2 | (half_seconds << 2)])


def controller_capture():
    """The controller's real answers: the nlctrl family itself, and IPVS
    (absent on a kernel without it: an ENOENT error)."""
    out = []
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)  # NETLINK_GENERIC
        s.bind((0, 0))
        s.settimeout(0.5)
        for seq, name in ((1001, b"nlctrl"), (1001, b"IPVS")):
            s.send(genl(GENL_ID_CTRL, 3, attr(2, name + b"\0"), seq, flags=NLM_F_REQUEST | NLM_F_ACK))
            while True:
                try:
                    g = s.recv(65536)
                except socket.timeout:
                    break
                out.append(g)
                if struct.unpack("=H", g[4:6])[0] == NLMSG_ERROR:
                    break
    except OSError as e:
        print("controller capture skipped: %s" % e, file=sys.stderr)
    return out


def ipvs():
    family = genl(GENL_ID_CTRL, 1, attr(1, u16(FAMILY)) + attr(2, b"IPVS\0") + attr(3, u32(1)), 1001) + ack(1001)
    info = genl(FAMILY, 14, attr(1, u32(0x010206)) + attr(2, u32(4096)), 1002)
    timeouts = genl(FAMILY, 12, attr(4, u32(900)) + attr(5, u32(120)) + attr(6, u32(300)), 1004)
    services = (genl(FAMILY, 1, nest(1, svc(2, 6, bytes([10, 0, 0, 1]), 80, timeout=60)), 1006, NLM_F_MULTI)
                + genl(FAMILY, 1, nest(1, svc(10, 17, bytes.fromhex("fd000000000000000000000000000001"), 53, b"rr", netmask=128)), 1006, NLM_F_MULTI)
                + genl(FAMILY, 1, nest(1, svc(2, 0, b"", 0, b"sh", fwmark=7)), 1006, NLM_F_MULTI)
                + nlmsg(NLMSG_DONE, u32(0), seq=1006, flags=NLM_F_MULTI))
    dests = (genl(FAMILY, 5, nest(2, dest(bytes([10, 0, 1, 1]), 8080, 0, 3)), 1007, NLM_F_MULTI)
             + genl(FAMILY, 5, nest(2, dest(bytes([10, 0, 1, 2]), 8080, 0, 1)), 1007, NLM_F_MULTI)
             + nlmsg(NLMSG_DONE, u32(0), seq=1007, flags=NLM_F_MULTI))
    write("ipvs", "family", step(family))
    write("ipvs", "startup", step(family) + step(info) + step(ack(1003)) + step(timeouts) + step(ack(1005)) + step(services) + step(dests))
    write("ipvs", "no-ipvs", step(ack(1001, 2)) + wait(10) + step(family))
    write("ipvs", "silent", wait(12) + step(family) + wait(12))
    write("ipvs", "stop", step(family) + step(info) + bytes([3]) + step(ack(1003)) + step(ack(1004)))
    write("ipvs", "batch-acks", step(family) + step(info) + step(ack(1003)) + step(timeouts) + step(ack(1005))
          + step(nlmsg(NLMSG_DONE, u32(0), seq=1006, flags=NLM_F_MULTI))
          + step(b"".join(ack(1007 + i) for i in range(8))) + step(b"".join(ack(1007 + i, 17) for i in range(8))))
    write("ipvs", "dest-tunnel", step(genl(FAMILY, 5, nest(2, dest(bytes([10, 0, 1, 9]), 80, 2, 5) + attr(13, bytes([1])) + attr(14, struct.pack(">H", 6080)) + attr(15, u16(1))), 1)))
    for i, g in enumerate(controller_capture()):
        write("ipvs", "kernel-controller-%d" % i, step(g))


# ---------------------------------------------------------------- vrrp
def vrrp_packet():
    for ip in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/vrrp/*.ip.bin"))):
        name = os.path.basename(ip)[: -len(".ip.bin")]
        datagram = fixture(ip)
        message = fixture(ip[: -len(".ip.bin")] + ".bin")
        if datagram[0] >> 4 == 4:
            write("vrrp_packet", name + ".ip", b"\x00" + datagram)
            envelope = datagram[12:20]
            write("vrrp_packet", name, b"\x01" + envelope + message)
        else:
            envelope = datagram[8:40]
            write("vrrp_packet", name, b"\x02" + envelope + message)
    for na in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/vrrp/na_*.eth.bin"))):
        write("vrrp_packet", os.path.basename(na)[: -len(".eth.bin")], b"\x03" + fixture(na))
    # Unchecked-checksum starting points: many addresses, both forms.
    v3 = bytes([0x31, 9, 100, 20, 0, 100, 0, 0]) + bytes(range(80))
    write("vrrp_packet", "v3-ipv4-20vips-fix", b"\x05" + bytes([10, 0, 0, 1, 224, 0, 0, 18]) + v3)
    write("vrrp_packet", "v3-ipv4-20vips-fix-v2sum", b"\x0d" + bytes([10, 0, 0, 1, 224, 0, 0, 18]) + v3)
    v2 = bytes([0x21, 9, 255, 2, 1, 1, 0, 0]) + bytes([10, 0, 0, 5, 10, 0, 0, 6]) + b"secret12"
    write("vrrp_packet", "v2-pass-fix", b"\x0d" + bytes([10, 0, 0, 1, 224, 0, 0, 18]) + v2)
    v6 = bytes([0x31, 200, 0, 3, 0x0f, 0xff, 0, 0]) + bytes(48)
    write("vrrp_packet", "v3-ipv6-fix", b"\x06" + bytes.fromhex("fe80" + "00" * 13 + "01") + bytes.fromhex("ff02" + "00" * 13 + "12") + v6)


# ---------------------------------------------------------------- vrrp_engine
def ip4(*o):
    return bytes(o)


def v2(vrid, prio, vips, password=b"secret12"):
    return bytes([0x21, vrid, prio, len(vips), 1, 1, 0, 0]) + b"".join(vips) + password


def v3(vrid, prio, vips, centis=100):
    return bytes([0x31, vrid, prio, len(vips), centis >> 8, centis & 0xFF, 0, 0]) + b"".join(vips)


def adv4(message, pick=0, fix=True):
    return bytes([1 if fix else 9, pick, len(message)]) + message


def adv6(message, pick=0, fix=True):
    return bytes([2 if fix else 10, pick, len(message)]) + message


def tick(step=0):
    return bytes([3 | (step << 3)])


def vrrp_engine():
    vip100, vip101, vip102, vip103 = ip4(10, 0, 0, 100), ip4(10, 0, 0, 101), ip4(10, 0, 0, 102), ip4(10, 0, 0, 103)
    vip6 = bytes.fromhex("fd000000000000000000000000000100")
    masters = tick() * 8
    higher = (adv4(v2(51, 200, [vip100, vip101])) + adv4(v3(52, 200, [vip102], 50)) + adv4(v3(53, 200, [vip103]), pick=4)
              + adv6(v3(54, 200, [vip6])))
    lower = (adv4(v2(51, 50, [vip100, vip101])) + adv4(v3(52, 50, [vip102], 50)) + adv4(v3(53, 50, [vip103]), pick=5)
             + adv6(v3(54, 50, [vip6]), pick=1))
    quit = (adv4(v2(51, 0, [vip100, vip101])) + adv4(v3(52, 0, [vip102], 50)) + adv4(v3(53, 0, [vip103]), pick=4)
            + adv6(v3(54, 0, [vip6])))
    write("vrrp_engine", "become-master", masters)
    write("vrrp_engine", "higher-peers", higher + tick(2) + higher + tick(2) + higher + masters)
    write("vrrp_engine", "masters-hear-lower", masters + lower + tick(1) + lower)
    write("vrrp_engine", "peers-quit", higher + tick(4) + quit + masters)
    write("vrrp_engine", "bad-adverts", adv4(v2(51, 200, [vip100, vip101], b"wrongpwd")) + adv4(v3(52, 200, [vip102]), pick=8)
          + adv4(v3(52, 200, [vip102]), fix=False) + adv4(v3(9, 200, [vip102])) + adv6(v3(54, 200, [vip6]), pick=0x10)
          + adv4(v3(53, 200, [vip103]), pick=7) + masters)
    # Links and addresses while master: VIP deleted by hand, link flaps.
    write("vrrp_engine", "vip-deleted", masters + bytes([5, 0 << 2]) + bytes([5, 1 << 2]) + bytes([5, (4 << 2)]) + tick(1) + tick())
    write("vrrp_engine", "link-flap", masters + bytes([4, 0]) + tick() + bytes([4, 4]) + tick() + bytes([4, 8]) + tick()
          + bytes([4, 4]) + masters + bytes([4, 1]) + bytes([4, 5]) + masters)
    write("vrrp_engine", "tracking", masters + bytes([6, 0]) + tick() + bytes([6, 32]) + masters + bytes([6, 64 + 1, 250])
          + bytes([6, 64 + 2, 1]) + masters + higher + masters)
    write("vrrp_engine", "stop-start", masters + bytes([7 | 8 | 16]) + bytes([7 | 8 | 32]) + tick() + bytes([7 | 16]) + masters)
    # Netlink monitor datagrams (the kernel captures of the netlink seeds,
    # whose interfaces have indexes 2 and 3 like the engine's) while master.
    # tools/fuzz runs this target with -max_len=2048: seeds of at most that.
    kernel = sorted(glob.glob(os.path.join(CORPUS, "netlink", "kernel-*")))
    steps, n = b"", 0
    for k in kernel + [None]:
        d = fixture(k) if k else b""
        step = bytes([4 | 8]) + struct.pack(">H", len(d)) + d + tick(1)
        if steps and (k is None or len(masters * 2 + steps + step) > 2048):
            write("vrrp_engine", "kernel-netlink-%d" % n, masters + steps + masters)
            steps, n = b"", n + 1
        if k and len(step) <= 2048 - 16:
            steps += step
    ifa = struct.pack("=BBBBI", 2, 24, 0, 0, 2) + attr(2, ip4(10, 0, 0, 100)) + attr(1, ip4(10, 0, 0, 100))
    write("vrrp_engine", "netlink-vip-deleted", masters + bytes([4 | 8]) + struct.pack(">H", 16 + len(ifa)) + nlmsg(21, ifa) + tick(1) + tick())
    for name in ("v2_pass_vrid51_prio150", "v3_ipv4_vrid53_prio200"):
        d = fixture("tests/fixtures/vrrp/%s.ip.bin" % name)
        write("vrrp_engine", "raw-" + name, bytes([0]) + struct.pack(">H", len(d)) + d + masters)


# ---------------------------------------------------------------- checkers
def data_steps(payload, control=0):
    out = b""
    while True:
        chunk, payload = payload[:255], payload[255:]
        out += bytes([control, len(chunk)]) + chunk
        if not payload:
            return out


EOF_STEP = bytes([4])


def later(tenths):
    return bytes([5 | (tenths << 3)])


def http():
    heads = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
        b"HTTP/1.0 503 Service Unavailable\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 301 Moved\nLocation: /x\n\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    ]
    for i, h in enumerate(heads):
        write("http", "head-%d" % i, b"\x00" + h)
    bodies = [
        b"5\r\nhello\r\n0\r\n\r\n",
        b"A;ext=1\r\n0123456789\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\nextra",
        b"fffffffffffffff\r\n",
        b"3\nabc\n0\n\n",
    ]
    for i, b in enumerate(bodies):
        write("http", "chunked-%d" % i, b"\x01" + bytes([3, 7]) + b)
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    close = b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close"
    write("http", "engine-length", b"\x02" + data_steps(ok) + later(12) + data_steps(ok))
    write("http", "engine-chunked", b"\x02" + data_steps(chunked[:30]) + data_steps(chunked[30:]) + later(12) + data_steps(chunked))
    write("http", "engine-close", b"\x02" + data_steps(close) + EOF_STEP + later(12) + bytes([6]))
    write("http", "engine-503", b"\x02" + data_steps(b"HTTP/1.1 503 No\r\n\r\n") + later(3) + data_steps(ok))
    write("http", "engine-timeout", b"\x02" + later(15) + later(15) + data_steps(ok))
    write("http", "engine-plain", b"\x03" + data_steps(ok) + later(12) + data_steps(b"HTTP/1.1 404 Not Found\r\n\r\n"))
    write("http", "engine-garbage", b"\x03" + data_steps(b"SSH-2.0-OpenSSH_9.2\r\n") + later(12) + EOF_STEP)


def smtp():
    replies = [
        b"220 mail.example.org ESMTP Postfix\r\n",
        b"250-mail.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
        b"221 2.0.0 Bye\r\n",
        b"220-first\r\n230 second\r\n",
        b"554\n",
        b"250-partial",
    ]
    for i, r in enumerate(replies):
        write("smtp", "reply-%d" % i, b"\x00" + r)
    write("smtp", "dialogue", b"\x01" + data_steps(replies[0]) + data_steps(replies[1]) + data_steps(replies[2]) + later(12)
          + data_steps(replies[0][:10]) + data_steps(replies[0][10:]) + data_steps(b"421 busy\r\n"))
    write("smtp", "dialogue-eof", b"\x01" + data_steps(replies[0]) + EOF_STEP + later(3) + later(12) + bytes([6]))


def dns_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns():
    types = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
    order = ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"]
    for i, (kind, name) in enumerate([("A", "check.example.org"), ("SOA", "."), ("AAAA", "ipv6.example.org"), ("MX", "Example.ORG")]):
        q = dns_name(name) + struct.pack(">HH", types[kind], 1)
        answer = struct.pack(">HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + q.lower() + b"\xc0\x0c" + struct.pack(">HHIH", types[kind], 1, 300, 4) + bytes([10, 0, 0, 1])
        mode = order.index(kind) << 1
        write("dns", "answer-%d" % i, bytes([mode]) + struct.pack(">H", 0x1234) + bytes([len(name)]) + name.encode() + answer)
    q = dns_name("check.example.org") + struct.pack(">HH", 28, 1)
    nx = struct.pack(">HHHHHH", 0, 0x8183, 1, 0, 0, 0) + q
    ok = struct.pack(">HHHHHH", 0, 0x8180, 1, 0, 0, 0) + q
    write("dns", "engine-ok", b"\x01" + data_steps(ok, 3) + later(12) + data_steps(nx, 3))
    write("dns", "engine-stray-then-ok", b"\x01" + data_steps(ok, 0) + data_steps(ok, 3))
    write("dns", "engine-timeout", b"\x01" + later(15) + later(15) + data_steps(ok, 7))


# ---------------------------------------------------------------- config
SAMPLES = "/usr/share/doc/keepalived/samples"


def config():
    paths = sorted(glob.glob(os.path.join(ROOT, "config", "**", "*.conf"), recursive=True))
    paths += sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "**", "*.conf"), recursive=True))
    paths += sorted(p for p in glob.glob(os.path.join(SAMPLES, "keepalived.conf.*")) if not p.endswith(".gz"))
    # tools/fuzz runs this target with -max_len=1024 (a line costs a few
    # microseconds instrumented): each file is cut into runs of whole
    # top-level blocks of at most 1 KiB, comments dropped.
    seen = set()
    for p in paths:
        name = os.path.relpath(p, ROOT) if p.startswith(ROOT) else "keepalived-sample-" + os.path.basename(p)
        name = name.replace("/", "_")
        blocks, block, depth = [], b"", 0
        for line in fixture(p).splitlines(keepends=True):
            if line.lstrip().startswith((b"#", b"!")) or not line.strip():
                continue
            block += line
            depth += line.count(b"{") - line.count(b"}")
            if depth <= 0:
                blocks.append(block)
                block, depth = b"", 0
        if block:
            blocks.append(block)
        chunk, n = b"", 0
        for b in blocks + [None]:
            if b is None or (chunk and len(chunk) + len(b) > 1024):
                if chunk and chunk not in seen:
                    seen.add(chunk)
                    write("config", "%s-%d" % (name, n), chunk[:1024])
                    n += 1
                chunk = b""
            if b is not None:
                chunk += b
    # Includes, conditionals and definitions over the three files.
    main = (b"$IF=eth0\n@fuzz global_defs {\n  router_id fuzz\n}\n@other global_defs { router_id no }\n"
            b"include inc.conf\ninclude conf.d/*.conf\n"
            b"vrrp_instance VI_1 {\n  interface $IF\n  virtual_router_id 51\n  priority 100\n"
            b"  advert_int 1\n  virtual_ipaddress {\n    10.0.0.100/24\n    fd00::100/64\n  }\n}\n")
    inc = b"vrrp_script chk {\n  script \"/bin/true\"\n  interval 2\n}\n"
    sub = b"virtual_server 10.0.0.100 80 {\n  lvs_sched rr\n  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n"
    write("config", "includes", main + b"\xff" + inc + b"\xff" + sub)
    write("config", "include-loop", b"include inc.conf\n\xffinclude keepalived.conf\n")


# ---------------------------------------------------------------- extras
def udp():
    write("udp", "pattern-match", b"\x00" + bytes([14]) + b"0aXX0c706f6e67" + bytes([4, 16]) + bytes.fromhex("0a990c706f6e67"))
    write("udp", "pattern-0x", b"\x00" + bytes([10]) + b"0x70696E67" + bytes([0, 0]) + b"ping")
    write("udp", "pattern-odd", b"\x00" + bytes([3]) + b"abc" + bytes([1, 2]) + b"x")
    reply = bytes.fromhex("0a010c706f6e67")
    write("udp", "engine-reply", b"\x01" + data_steps(reply) + later(12) + data_steps(b"\x0b" + reply[1:]) + later(12) + bytes([7, 3]) + b"abc")
    write("udp", "engine-silence", b"\x01" + later(15) + later(15) + bytes([6]))


def icmp_sum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ping():
    for v6, check, seq in ((0, 0, 1), (1, 3, 7), (0, 0xFFFF, 0xFFFF)):
        data = b"picket-echo\0" + struct.pack(">HH", check, seq)
        t = 129 if v6 else 0
        msg = struct.pack(">BBHHH", t, 0, 0, check, seq) + data
        if not v6:
            msg = msg[:2] + struct.pack(">H", icmp_sum(msg)) + msg[4:]
        write("ping", "reply-%d-%d-%d" % (v6, check, seq), bytes([v6]) + struct.pack(">HH", check, seq) + msg)
    write("ping", "unreachable", b"\x00\x00\x00\x00\x01" + bytes([3, 3, 0xFC, 0xFC, 0, 0, 0, 0]) + bytes(28))


def track_file():
    for i, v in enumerate([b"0", b"42\n", b"  -17 trailing", b"0x1F", b"0X", b"010", b"+5", b"-0x7fffffffffffffff",
                           b"99999999999999999999999", b"\t\n\x0b\x0c\r 8", b"", b"abc", b"08"]):
        write("track_file", "value-%02d" % i, v)


def watchdog_state():
    boot = b"4f0c7f6e-2b5e-4a7c-9d59-0c2a3e2b8f01"
    other = b"9a1d2c3b-0000-4000-8000-123456789abc"
    write("watchdog_state", "armed", b"\x00picket-state 1\nboot " + other + b"\nrun armed\nresets 2\nlast watchdog " + other + b"\n")
    write("watchdog_state", "stopped-same-boot", b"\x01picket-state 1\nboot " + boot + b"\nrun stopped\nresets 0\n")
    write("watchdog_state", "crash", b"\x00picket-state 1\nboot " + boot + b"\nrun armed\nresets 65535\nlast crash " + boot + b"\nfuture key\n")
    write("watchdog_state", "bad", b"\x05picket-state 2\nboot x\n")
    write("watchdog_state", "no-boot-id", b"\x04picket-state 1\nrun armed\n")


def argv():
    for i, line in enumerate([b"/usr/bin/check --port 80", b"/bin/sh -c 'exit 1'", b"\"/opt/my script\" a\"b\"c ''",
                              b"/bin/true\t\n", b"'unterminated", b"   ", b"/usr/libexec/keepalived/notify.sh \"VI 1\" MASTER"]):
        write("argv", "line-%d" % i, line)


TARGETS = {
    "udp": udp,
    "ping": ping,
    "track_file": track_file,
    "watchdog_state": watchdog_state,
    "argv": argv,
    "vrrp_engine": vrrp_engine,
    "config": config,
    "vrrp_packet": vrrp_packet,
    "netlink": netlink,
    "ipvs": ipvs,
    "http": http,
    "smtp": smtp,
    "dns": dns,
}

if __name__ == "__main__":
    if sys.argv[1:2] == ["--capture"]:
        capture_child(sys.argv[2])
        sys.exit(0)
    for t in sys.argv[1:] or TARGETS:
        TARGETS[t]()
