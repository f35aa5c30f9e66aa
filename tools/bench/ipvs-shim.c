/*
 * ipvs-shim: an LD_PRELOAD library that plays the kernel's IPVS generic
 * netlink family for one process, so keepalived's checker runs on a kernel
 * without IPVS (tools/bench/checkers; picket's benchmark only, never a test).
 *
 * Debian's keepalived 2.2.7 links libnl-genl directly, so it has no setsockopt
 * fallback to turn on: every IPVS call goes through a NETLINK_GENERIC socket
 * (genl_ctrl_resolve "IPVS", then IPVS_CMD_* requests, each with NLM_F_ACK,
 * read back with nl_recvmsgs). This library:
 *
 *   - socket(AF_NETLINK, ..., NETLINK_GENERIC) returns an eventfd instead (a
 *     real descriptor number) and remembers it; every other socket is real;
 *   - on those descriptors: bind, connect, setsockopt, getsockopt succeed;
 *     getsockname gives a sockaddr_nl with the process id; close forgets;
 *   - sendmsg/sendto/send parse the netlink messages and queue the answers
 *     the kernel would give: CTRL_CMD_GETFAMILY -> a NEWFAMILY reply (IPVS,
 *     id 0x40) then an ack; GET_INFO -> SET_INFO (version 1.2.1, table 4096);
 *     GET_CONFIG -> SET_CONFIG (900/120/300); a dump (NLM_F_DUMP) -> DONE,
 *     nothing listed; every other command -> an ack (error 0) — nothing is
 *     kept, nothing checked;
 *   - recvmsg/recvfrom/recv hand the queued answers out one datagram at a
 *     time (MSG_PEEK and MSG_TRUNC as the kernel), never blocking (an empty
 *     queue is EAGAIN).
 *
 * So keepalived does its checks and its IPVS calls cost a few syscalls on an
 * eventfd and a memcpy — no IPVS work in any kernel, like picket on this
 * machine, whose IPVS link finds no family and asks again every 5 s.
 *
 * Build: gcc -O2 -shared -fPIC -o ipvs-shim.so ipvs-shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define FAKE_FDS 16
#define QUEUE 64
#define DGRAM 256
#define IPVS_FAMILY 0x40

/* linux/ip_vs.h */
#define IPVS_CMD_SET_CONFIG 12
#define IPVS_CMD_GET_CONFIG 13
#define IPVS_CMD_SET_INFO 14
#define IPVS_CMD_GET_INFO 15
#define IPVS_CMD_ATTR_TIMEOUT_TCP 4
#define IPVS_CMD_ATTR_TIMEOUT_TCP_FIN 5
#define IPVS_CMD_ATTR_TIMEOUT_UDP 6
#define IPVS_INFO_ATTR_VERSION 1
#define IPVS_INFO_ATTR_CONN_TAB_SIZE 2

struct reply {
	size_t len;
	unsigned char b[DGRAM];
};

struct fake {
	int fd;
	size_t head, count;
	struct reply q[QUEUE];
};

static struct fake fakes[FAKE_FDS];
static int nfakes;

static struct fake *fake_of(int fd)
{
	for (int i = 0; i < nfakes; i++)
		if (fakes[i].fd == fd)
			return &fakes[i];
	return NULL;
}

#define REAL(name, ret, ...)                                                   \
	static ret (*real_##name)(__VA_ARGS__);                                \
	if (!real_##name)                                                      \
		real_##name = dlsym(RTLD_NEXT, #name);

/* A reply being built: header, genl header, attributes. */
static struct reply *push(struct fake *f, uint16_t type, uint16_t flags, uint32_t seq)
{
	if (f->count == QUEUE)
		return NULL;
	struct reply *r = &f->q[(f->head + f->count++) % QUEUE];
	memset(r, 0, sizeof *r);
	struct nlmsghdr *h = (struct nlmsghdr *)r->b;
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	h->nlmsg_pid = (uint32_t)getpid();
	r->len = NLMSG_HDRLEN;
	return r;
}

static void put(struct reply *r, const void *p, size_t n)
{
	memcpy(r->b + r->len, p, n);
	r->len += NLMSG_ALIGN(n);
	((struct nlmsghdr *)r->b)->nlmsg_len = (uint32_t)r->len;
}

static void attr(struct reply *r, uint16_t type, const void *v, size_t n)
{
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type};
	memcpy(r->b + r->len, &a, sizeof a);
	memcpy(r->b + r->len + NLA_HDRLEN, v, n);
	r->len += NLA_ALIGN(NLA_HDRLEN + n);
	((struct nlmsghdr *)r->b)->nlmsg_len = (uint32_t)r->len;
}

static void attr32(struct reply *r, uint16_t type, uint32_t v)
{
	attr(r, type, &v, sizeof v);
}

static void genl(struct reply *r, uint8_t cmd)
{
	struct genlmsghdr g = {.cmd = cmd, .version = 1};
	put(r, &g, sizeof g);
}

static void ack(struct fake *f, const struct nlmsghdr *req)
{
	struct reply *r = push(f, NLMSG_ERROR, 0, req->nlmsg_seq);
	if (!r)
		return;
	struct nlmsgerr e = {.error = 0, .msg = *req};
	put(r, &e, sizeof e);
}

static void answer(struct fake *f, const struct nlmsghdr *h)
{
	struct reply *r;
	const struct genlmsghdr *g = NLMSG_DATA(h);
	if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return;
	if (h->nlmsg_type == GENL_ID_CTRL && g->cmd == CTRL_CMD_GETFAMILY) {
		if ((r = push(f, GENL_ID_CTRL, 0, h->nlmsg_seq))) {
			uint16_t id = IPVS_FAMILY;
			genl(r, CTRL_CMD_NEWFAMILY);
			attr(r, CTRL_ATTR_FAMILY_NAME, "IPVS", 5);
			attr(r, CTRL_ATTR_FAMILY_ID, &id, sizeof id);
			attr32(r, CTRL_ATTR_VERSION, 1);
			attr32(r, CTRL_ATTR_HDRSIZE, 0);
			attr32(r, CTRL_ATTR_MAXATTR, 9);
		}
	} else if (h->nlmsg_flags & NLM_F_DUMP) {
		if ((r = push(f, NLMSG_DONE, NLM_F_MULTI, h->nlmsg_seq))) {
			int zero = 0;
			put(r, &zero, sizeof zero);
		}
		return;
	} else if (g->cmd == IPVS_CMD_GET_INFO) {
		if ((r = push(f, IPVS_FAMILY, 0, h->nlmsg_seq))) {
			genl(r, IPVS_CMD_SET_INFO);
			attr32(r, IPVS_INFO_ATTR_VERSION, 0x010201);
			attr32(r, IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096);
		}
	} else if (g->cmd == IPVS_CMD_GET_CONFIG) {
		if ((r = push(f, IPVS_FAMILY, 0, h->nlmsg_seq))) {
			genl(r, IPVS_CMD_SET_CONFIG);
			attr32(r, IPVS_CMD_ATTR_TIMEOUT_TCP, 900);
			attr32(r, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, 120);
			attr32(r, IPVS_CMD_ATTR_TIMEOUT_UDP, 300);
		}
	}
	if (h->nlmsg_flags & NLM_F_ACK)
		ack(f, h);
}

static ssize_t fake_send(struct fake *f, const unsigned char *buf, size_t len)
{
	size_t at = 0;
	while (at + NLMSG_HDRLEN <= len) {
		const struct nlmsghdr *h = (const void *)(buf + at);
		if (h->nlmsg_len < NLMSG_HDRLEN || at + h->nlmsg_len > len)
			break;
		answer(f, h);
		at += NLMSG_ALIGN(h->nlmsg_len);
	}
	return (ssize_t)len;
}

static ssize_t fake_recv(struct fake *f, struct msghdr *m, int flags)
{
	if (f->count == 0) {
		errno = EAGAIN;
		return -1;
	}
	struct reply *r = &f->q[f->head];
	size_t room = 0, at = 0;
	for (size_t i = 0; i < m->msg_iovlen; i++)
		room += m->msg_iov[i].iov_len;
	for (size_t i = 0; i < m->msg_iovlen && at < r->len; i++) {
		size_t n = r->len - at < m->msg_iov[i].iov_len ? r->len - at : m->msg_iov[i].iov_len;
		memcpy(m->msg_iov[i].iov_base, r->b + at, n);
		at += n;
	}
	if (m->msg_name && m->msg_namelen >= sizeof(struct sockaddr_nl)) {
		struct sockaddr_nl from = {.nl_family = AF_NETLINK};
		memcpy(m->msg_name, &from, sizeof from);
		m->msg_namelen = sizeof from;
	}
	m->msg_controllen = 0;
	m->msg_flags = room < r->len ? MSG_TRUNC : 0;
	ssize_t len = (ssize_t)r->len;
	if (!(flags & MSG_PEEK)) {
		f->head = (f->head + 1) % QUEUE;
		f->count--;
	}
	return (flags & MSG_TRUNC) ? len : (ssize_t)at;
}

int socket(int domain, int type, int protocol)
{
	REAL(socket, int, int, int, int);
	if (domain == AF_NETLINK && protocol == NETLINK_GENERIC && nfakes < FAKE_FDS) {
		int fd = eventfd(0, (type & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0);
		if (fd >= 0) {
			memset(&fakes[nfakes], 0, sizeof fakes[nfakes]);
			fakes[nfakes++].fd = fd;
		}
		return fd;
	}
	return real_socket(domain, type, protocol);
}

int close(int fd)
{
	REAL(close, int, int);
	for (int i = 0; i < nfakes; i++)
		if (fakes[i].fd == fd) {
			fakes[i] = fakes[--nfakes];
			break;
		}
	return real_close(fd);
}

int bind(int fd, const struct sockaddr *a, socklen_t l)
{
	REAL(bind, int, int, const struct sockaddr *, socklen_t);
	return fake_of(fd) ? 0 : real_bind(fd, a, l);
}

int connect(int fd, const struct sockaddr *a, socklen_t l)
{
	REAL(connect, int, int, const struct sockaddr *, socklen_t);
	return fake_of(fd) ? 0 : real_connect(fd, a, l);
}

int setsockopt(int fd, int lvl, int name, const void *v, socklen_t l)
{
	REAL(setsockopt, int, int, int, int, const void *, socklen_t);
	return fake_of(fd) ? 0 : real_setsockopt(fd, lvl, name, v, l);
}

int getsockopt(int fd, int lvl, int name, void *v, socklen_t *l)
{
	REAL(getsockopt, int, int, int, int, void *, socklen_t *);
	if (fake_of(fd)) {
		if (v && l && *l >= sizeof(int)) {
			*(int *)v = 1 << 20;
			*l = sizeof(int);
		}
		return 0;
	}
	return real_getsockopt(fd, lvl, name, v, l);
}

int getsockname(int fd, struct sockaddr *a, socklen_t *l)
{
	REAL(getsockname, int, int, struct sockaddr *, socklen_t *);
	if (fake_of(fd)) {
		struct sockaddr_nl me = {.nl_family = AF_NETLINK, .nl_pid = (uint32_t)getpid()};
		if (*l >= sizeof me)
			memcpy(a, &me, sizeof me);
		*l = sizeof me;
		return 0;
	}
	return real_getsockname(fd, a, l);
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	REAL(sendmsg, ssize_t, int, const struct msghdr *, int);
	struct fake *f = fake_of(fd);
	if (!f)
		return real_sendmsg(fd, m, flags);
	unsigned char buf[65536];
	size_t len = 0;
	for (size_t i = 0; i < m->msg_iovlen; i++) {
		size_t n = m->msg_iov[i].iov_len;
		if (len + n > sizeof buf)
			n = sizeof buf - len;
		memcpy(buf + len, m->msg_iov[i].iov_base, n);
		len += n;
	}
	return fake_send(f, buf, len);
}

ssize_t sendto(int fd, const void *b, size_t n, int flags, const struct sockaddr *a, socklen_t l)
{
	REAL(sendto, ssize_t, int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	struct fake *f = fake_of(fd);
	return f ? fake_send(f, b, n) : real_sendto(fd, b, n, flags, a, l);
}

ssize_t send(int fd, const void *b, size_t n, int flags)
{
	REAL(send, ssize_t, int, const void *, size_t, int);
	struct fake *f = fake_of(fd);
	return f ? fake_send(f, b, n) : real_send(fd, b, n, flags);
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	REAL(recvmsg, ssize_t, int, struct msghdr *, int);
	struct fake *f = fake_of(fd);
	return f ? fake_recv(f, m, flags) : real_recvmsg(fd, m, flags);
}

ssize_t recvfrom(int fd, void *b, size_t n, int flags, struct sockaddr *a, socklen_t *l)
{
	REAL(recvfrom, ssize_t, int, void *, size_t, int, struct sockaddr *, socklen_t *);
	struct fake *f = fake_of(fd);
	if (!f)
		return real_recvfrom(fd, b, n, flags, a, l);
	struct iovec v = {.iov_base = b, .iov_len = n};
	struct msghdr m = {.msg_name = a, .msg_namelen = l ? *l : 0, .msg_iov = &v, .msg_iovlen = 1};
	ssize_t r = fake_recv(f, &m, flags);
	if (l)
		*l = m.msg_namelen;
	return r;
}

ssize_t recv(int fd, void *b, size_t n, int flags)
{
	REAL(recv, ssize_t, int, void *, size_t, int);
	struct fake *f = fake_of(fd);
	if (!f)
		return real_recv(fd, b, n, flags);
	struct iovec v = {.iov_base = b, .iov_len = n};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
	return fake_recv(f, &m, flags);
}
