/*
 * conf_util.c — what backends and scenarios share: the trace, error names, paths, test
 * data and the raw POSIX peers.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf_ops.h"

const cf_ops *O;
int cf_depth;
int cf_trace_fd = -1;
const char *cf_tmpdir = "/tmp";

/* Trace ------------------------------------------------------------------------ */

void tr(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    const char *p = line;
    while (n > 0) {
        ssize_t w = write(cf_trace_fd >= 0 ? cf_trace_fd : 1, p, (size_t)n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (int)w;
    }
}

const char *cf_label(const cf_h *h) { return h ? O->label(h) : "(null)"; }

int tr_rc(const char *what, cf_h *h, int rc) {
    tr("%s(%s) -> %s", what, cf_label(h), cf_err_name(rc));
    return rc;
}

void tr_flags(cf_h *h) {
    tr("flags(%s) r=%d w=%d", cf_label(h), O->is_readable(h), O->is_writable(h));
}

void tr_writable(cf_h *h) { tr("writable(%s) = %d", cf_label(h), O->is_writable(h)); }

void cf_callback_entered(const char *cb, const char *label) {
    if (cf_depth != 0) tr("!! %s callback of %s ran inside an operation (depth %d)", cb, label, cf_depth);
}

/* Printable preview of read data: up to 24 bytes, escaped. */
static void preview(const char *data, size_t len, char *out, size_t outsz) {
    size_t o = 0;
    for (size_t i = 0; i < len && i < 24 && o + 5 < outsz; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == '\n') o += (size_t)snprintf(out + o, outsz - o, "\\n");
        else if (c == '\r') o += (size_t)snprintf(out + o, outsz - o, "\\r");
        else if (c >= 32 && c < 127 && c != '\\' && c != '\'') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
    }
    if (len > 24 && o + 4 < outsz) o += (size_t)snprintf(out + o, outsz - o, "...");
    out[o] = 0;
}

void cf_trace_cb(const cf_event *ev) {
    char extra[160] = "";
    size_t o = 0;
    if (ev->data != NULL || ev->len > 0) {
        char pv[128];
        preview(ev->data, ev->len, pv, sizeof pv);
        o += (size_t)snprintf(extra + o, sizeof extra - o, " n=%zu '%s'", ev->len, pv);
    }
    int flags = (strcmp(ev->cb, "read") == 0 || strcmp(ev->cb, "connect") == 0 ||
                 strcmp(ev->cb, "shutdown") == 0) &&
                ev->status == 0;
    if (flags)
        snprintf(extra + o, sizeof extra - o, " r=%d w=%d", O->is_readable(ev->h),
                 O->is_writable(ev->h));
    tr("cb %s %s %s%s", ev->cb, cf_label(ev->h), cf_err_name(ev->status), extra);
}

/* Error names: an own table (libuv's values on Linux), independent of both backends. */
static const struct {
    int code;
    const char *name;
} names[] = {
    {-7, "E2BIG"}, {-13, "EACCES"}, {-98, "EADDRINUSE"}, {-99, "EADDRNOTAVAIL"},
    {-97, "EAFNOSUPPORT"}, {-11, "EAGAIN"}, {-114, "EALREADY"}, {-9, "EBADF"},
    {-16, "EBUSY"}, {-125, "ECANCELED"}, {-103, "ECONNABORTED"}, {-111, "ECONNREFUSED"},
    {-104, "ECONNRESET"}, {-89, "EDESTADDRREQ"}, {-17, "EEXIST"}, {-14, "EFAULT"},
    {-27, "EFBIG"}, {-113, "EHOSTUNREACH"}, {-4, "EINTR"}, {-22, "EINVAL"}, {-5, "EIO"},
    {-106, "EISCONN"}, {-21, "EISDIR"}, {-40, "ELOOP"}, {-24, "EMFILE"}, {-90, "EMSGSIZE"},
    {-36, "ENAMETOOLONG"}, {-100, "ENETDOWN"}, {-101, "ENETUNREACH"}, {-23, "ENFILE"},
    {-105, "ENOBUFS"}, {-19, "ENODEV"}, {-2, "ENOENT"}, {-12, "ENOMEM"}, {-64, "ENONET"},
    {-92, "ENOPROTOOPT"}, {-28, "ENOSPC"}, {-38, "ENOSYS"}, {-107, "ENOTCONN"},
    {-20, "ENOTDIR"}, {-39, "ENOTEMPTY"}, {-88, "ENOTSOCK"}, {-95, "ENOTSUP"},
    {-75, "EOVERFLOW"}, {-1, "EPERM"}, {-32, "EPIPE"}, {-71, "EPROTO"},
    {-93, "EPROTONOSUPPORT"}, {-91, "EPROTOTYPE"}, {-34, "ERANGE"}, {-30, "EROFS"},
    {-108, "ESHUTDOWN"}, {-29, "ESPIPE"}, {-3, "ESRCH"}, {-110, "ETIMEDOUT"},
    {-26, "ETXTBSY"}, {-18, "EXDEV"}, {-4094, "UNKNOWN"}, {-4095, "EOF"}, {-6, "ENXIO"},
    {-31, "EMLINK"}, {-112, "EHOSTDOWN"}, {-121, "EREMOTEIO"}, {-25, "ENOTTY"},
    {-4028, "EFTYPE"}, {-84, "EILSEQ"}, {-94, "ESOCKTNOSUPPORT"}, {-5001, "ECLOSED"},
    {-5002, "EWRONGTHREAD"},
};

const char *cf_err_name(int code) {
    static char buf[4][24];
    static int next;
    if (code == 0) return "OK";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code) return names[i].name;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%d", code);
    return b;
}

/* Paths and data ---------------------------------------------------------------- */

const char *cf_path(const char *name) {
    static char buf[4][512];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", cf_tmpdir, name);
    return b;
}

unsigned char cf_pattern_byte(size_t k) { return (unsigned char)((k * 131u) ^ (k >> 9) ^ (k >> 17)); }

void cf_pattern_fill(unsigned char *dst, size_t len, size_t offset) {
    for (size_t i = 0; i < len; i++) dst[i] = cf_pattern_byte(offset + i);
}

/* Raw peers ---------------------------------------------------------------------- */

static int wait_fd(int fd, short events) {
    struct pollfd p = {fd, events, 0};
    for (;;) {
        int r = poll(&p, 1, CF_PEER_TIMEOUT_MS);
        if (r < 0 && errno == EINTR) continue;
        return r; /* 0: timeout */
    }
}

static int tcp_socket(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("socket");
        abort();
    }
    return fd;
}

static void loopback(struct sockaddr_in *sa, int port) {
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int bound_port(int fd) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) abort();
    return ntohs(sa.sin_port);
}

int cf_peer_bound(int *port) {
    int fd = tcp_socket();
    struct sockaddr_in sa;
    loopback(&sa, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) abort();
    *port = bound_port(fd);
    return fd;
}

int cf_peer_listen(int *port, int rcvbuf) {
    int fd = tcp_socket();
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa;
    loopback(&sa, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) abort();
    *port = bound_port(fd);
    return fd;
}

int cf_peer_connect(int port) {
    int fd = tcp_socket();
    struct sockaddr_in sa;
    loopback(&sa, port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int cf_peer_accept(int lfd) {
    if (wait_fd(lfd, POLLIN) <= 0) return -ETIMEDOUT;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cf_peer_unix_listen(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) abort();
    strcpy(sa.sun_path, path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
        perror("unix listen");
        abort();
    }
    return fd;
}

int cf_peer_write(int fd, const void *p, size_t n) {
    const char *c = p;
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(fd, c + done, n - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            if (wait_fd(fd, POLLOUT) <= 0) return -ETIMEDOUT;
            continue;
        }
        if (w < 0) return -errno;
        done += (size_t)w;
    }
    return (int)done;
}

long cf_peer_read(int fd, void *buf, size_t want, int *eof) {
    size_t got = 0;
    *eof = 0;
    while (got < want) {
        if (wait_fd(fd, POLLIN) <= 0) break;
        ssize_t r = read(fd, (char *)buf + got, want - got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r < 0) return got ? (long)got : -errno;
        if (r == 0) {
            *eof = 1;
            break;
        }
        got += (size_t)r;
    }
    return (long)got;
}

void cf_peer_reset(int fd) {
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

void cf_peer_close(int fd) {
    if (fd >= 0) close(fd);
}

/* Sink ----------------------------------------------------------------------------- */

struct cf_sink {
    pthread_t thread;
    int fd;
    size_t bytes;
    long bad_at; /* -1: pattern ok */
    int eof, err;
};

static void *sink_main(void *arg) {
    cf_sink *s = arg;
    static char buf[1 << 16];
    s->bad_at = -1;
    for (;;) {
        struct pollfd p = {s->fd, POLLIN, 0};
        int pr = poll(&p, 1, 20000);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) {
            s->err = ETIMEDOUT;
            break;
        }
        ssize_t r = read(s->fd, buf, sizeof buf);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r < 0) {
            s->err = errno;
            break;
        }
        if (r == 0) {
            s->eof = 1;
            break;
        }
        for (ssize_t i = 0; i < r && s->bad_at < 0; i++)
            if ((unsigned char)buf[i] != cf_pattern_byte(s->bytes + (size_t)i))
                s->bad_at = (long)(s->bytes + (size_t)i);
        s->bytes += (size_t)r;
    }
    return NULL;
}

cf_sink *cf_sink_start(int fd) {
    cf_sink *s = calloc(1, sizeof *s);
    s->fd = fd;
    if (pthread_create(&s->thread, NULL, sink_main, s) != 0) abort();
    return s;
}

void cf_sink_join(cf_sink *s, const char *who) {
    pthread_join(s->thread, NULL);
    char bad[48] = "pattern ok";
    if (s->bad_at >= 0) snprintf(bad, sizeof bad, "pattern BAD at %ld", s->bad_at);
    tr("%s received %zu bytes, %s, %s", who, s->bytes, bad,
       s->eof ? "EOF" : s->err == ETIMEDOUT ? "no EOF (timeout)" : strerror(s->err));
    free(s);
}

/* Source --------------------------------------------------------------------------- */

struct cf_source {
    pthread_t thread;
    int fd, shut;
    size_t n;
};

static void *source_main(void *arg) {
    cf_source *s = arg;
    static unsigned char chunk[1 << 14];
    size_t off = 0;
    while (off < s->n) {
        size_t k = s->n - off < sizeof chunk ? s->n - off : sizeof chunk;
        cf_pattern_fill(chunk, k, off);
        if (cf_peer_write(s->fd, chunk, k) < 0) break;
        off += k;
    }
    if (s->shut) shutdown(s->fd, SHUT_WR);
    return NULL;
}

cf_source *cf_source_start(int fd, size_t n, int shut) {
    cf_source *s = calloc(1, sizeof *s);
    s->fd = fd;
    s->n = n;
    s->shut = shut;
    if (pthread_create(&s->thread, NULL, source_main, s) != 0) abort();
    return s;
}

void cf_source_join(cf_source *s) {
    pthread_join(s->thread, NULL);
    free(s);
}

void cf_peer_expect(int fd, size_t want, int until_eof, const char *who) {
    char buf[4096];
    int eof = 0;
    size_t cap = until_eof ? sizeof buf : (want < sizeof buf ? want : sizeof buf);
    long n = cf_peer_read(fd, buf, cap, &eof);
    if (n < 0) {
        tr("%s: read error %s", who, strerror((int)-n));
        return;
    }
    char pv[128];
    preview(buf, (size_t)n, pv, sizeof pv);
    tr("%s got %ld bytes '%s'%s", who, n, pv, until_eof ? (eof ? ", EOF" : ", no EOF") : "");
}

/* Shorthands ------------------------------------------------------------------------- */

int cf_loop_closed;
int cf_loop_abandoned;

int cf_run_until_idle(cf_loop *loop, int max) {
    for (int i = 0; i < max; i++)
        if (O->loop_run(loop, CF_RUN_NOWAIT) == 0) {
            tr("loop idle");
            return 1;
        }
    tr("loop still busy after %d nowait runs", max);
    return 0;
}

void cf_run_once_until(cf_loop *loop, const int *flag, int max) {
    for (int i = 0; i < max && !*flag; i++) O->loop_run(loop, CF_RUN_ONCE);
}

int cf_run_mode(cf_loop *loop, int mode) {
    int rc = O->loop_run(loop, mode);
    tr("run%s -> %s", mode == CF_RUN_NOWAIT ? " nowait" : mode == CF_RUN_ONCE ? " once" : "",
       rc >= 0 ? (rc ? "1" : "0") : cf_err_name(rc));
    return rc;
}

int cf_run(cf_loop *loop) { return cf_run_mode(loop, CF_RUN_DEFAULT); }

static cf_h *made(const char *what, const char *label, int rc, cf_h *h) {
    tr("%s(%s) -> %s", what, label, cf_err_name(rc));
    return rc == 0 ? h : NULL;
}

cf_h *cf_tcp(cf_loop *loop, const char *label, int family) {
    cf_h *h = NULL;
    int rc = O->tcp_new(loop, label, family, &h);
    return made(family ? "tcp_new_inet" : "tcp_new", label, rc, h);
}

cf_h *cf_pipe(cf_loop *loop, const char *label, int ipc) {
    cf_h *h = NULL;
    int rc = O->pipe_new(loop, label, ipc, &h);
    return made(ipc ? "pipe_new_ipc" : "pipe_new", label, rc, h);
}

cf_h *cf_timer(cf_loop *loop, const char *label) {
    cf_h *h = NULL;
    int rc = O->timer_new(loop, label, &h);
    return made("timer_new", label, rc, h);
}

cf_h *cf_connected_client(cf_loop *loop, const char *label, int *peer, int peer_rcvbuf) {
    int port;
    int lfd = cf_peer_listen(&port, peer_rcvbuf);
    cf_h *c = cf_tcp(loop, label, 0);
    tr_rc("tcp_connect", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb, NULL));
    *peer = cf_peer_accept(lfd);
    if (*peer < 0) tr("peer: accept failed: %s", strerror(-*peer));
    close(lfd);
    cf_run(loop);
    return c;
}

void cf_trace_cb_tag(const cf_event *ev) {
    tr("cb %s %s %s [%s]", ev->cb, cf_label(ev->h), cf_err_name(ev->status),
       ev->ud ? (const char *)ev->ud : "");
}

cf_buf cf_str(const char *s) {
    cf_buf b;
    b.base = s;
    b.len = strlen(s);
    return b;
}

int cf_write_str(cf_h *h, const char *s, const char *tag) {
    cf_buf b = cf_str(s);
    int rc = O->write(h, &b, 1, cf_trace_cb_tag, (void *)tag);
    tr("write(%s) '%s' -> %s", cf_label(h), tag, cf_err_name(rc));
    return rc;
}

void cf_close_quiet(cf_h *h) {
    if (h) O->close(h, NULL, NULL);
}

void cf_close_run(cf_loop *loop, cf_h *h) {
    tr_rc("close", h, O->close(h, cf_trace_cb, NULL));
    cf_run(loop);
}
