/*
 * scenarios_pipe.c — pipes: binding and connecting by path, handle passing over IPC
 * pipes, adopting descriptors, half-close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf_ops.h"

static const char *kind_name(int k) {
    return k == CF_TCP ? "tcp" : k == CF_PIPE ? "pipe" : k == CF_NONE ? "none" : cf_err_name(k);
}

static void make_file(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
}

static void socketpair_fds(int sp[2]) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) abort();
}

/* A pipe handle over fd; records the pipe_open result. */
static cf_h *opened_pipe(cf_loop *loop, const char *label, int ipc, int fd) {
    cf_h *p = cf_pipe(loop, label, ipc);
    tr_rc("pipe_open", p, O->pipe_open(p, fd));
    return p;
}

/* ------------------------------------------------------------------------------ */
/* pipe_bind errors: a path that exists (a file, a socket), a missing directory. */

static void s_pipe_bind_existing_path(cf_loop *loop) {
    const char *file = cf_path("existing-file");
    make_file(file);
    cf_h *a = cf_pipe(loop, "a", 0);
    tr_rc("bind to an existing file", a, O->pipe_bind(a, file));
    cf_h *b = cf_pipe(loop, "b", 0);
    tr_rc("bind in a missing directory", b, O->pipe_bind(b, cf_path("missing-dir/x.sock")));
    cf_h *c = cf_pipe(loop, "c", 0);
    tr_rc("bind to a fresh path", c, O->pipe_bind(c, cf_path("fresh.sock")));
    cf_h *d = cf_pipe(loop, "d", 0);
    tr_rc("bind to the same path", d, O->pipe_bind(d, cf_path("fresh.sock")));
    cf_close_quiet(a);
    cf_close_quiet(b);
    cf_close_quiet(c);
    cf_close_quiet(d);
    cf_run(loop);
}

/* pipe_connect to a missing path: the error arrives in the callback. */
static void s_pipe_connect_missing(cf_loop *loop) {
    cf_h *p = cf_pipe(loop, "client", 0);
    tr_rc("pipe_connect", p, O->pipe_connect(p, cf_path("no-such.sock"), cf_trace_cb, NULL));
    cf_run(loop);
    cf_close_run(loop, p);
}

/* pipe_connect to a socket that is bound but not listening. */
static void s_pipe_connect_refused(cf_loop *loop) {
    const char *path = cf_path("bound-only.sock");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) tr("raw bind failed");
    cf_h *p = cf_pipe(loop, "client", 0);
    tr_rc("pipe_connect", p, O->pipe_connect(p, path, cf_trace_cb, NULL));
    cf_run(loop);
    close(fd);
    cf_close_run(loop, p);
}

/* A pipe connected to a listening pipe handle of the same loop. */
static cf_loop *pl_loop;
static void pl_connection_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    cf_h *a = cf_pipe(pl_loop, "accepted", 0);
    tr_rc("accept", a, O->accept(ev->h, a));
    tr_flags(a);
    cf_close_quiet(a);
    cf_close_quiet(ev->h);
}

static void s_pipe_listen_accept(cf_loop *loop) {
    pl_loop = loop;
    const char *path = cf_path("server.sock");
    cf_h *s = cf_pipe(loop, "server", 0);
    tr_rc("pipe_bind", s, O->pipe_bind(s, path));
    tr_rc("listen", s, O->listen(s, 16, pl_connection_cb, NULL));
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    tr("raw client connect: %s", connect(c, (struct sockaddr *)&sa, sizeof sa) == 0 ? "ok" : "failed");
    cf_run(loop);
    close(c);
}

/* ------------------------------------------------------------------------------ */
/* Paths longer than sun_path (107 bytes + NUL on Linux). */

/* "<tmpdir>/" + fill up to `len` bytes in all. */
static const char *path_of_length(size_t len, char fill) {
    static char buf[2][512];
    static int next;
    char *b = buf[next++ % 2];
    size_t n = (size_t)snprintf(b, sizeof buf[0], "%s/", cf_tmpdir);
    while (n < len && n < sizeof buf[0] - 1) b[n++] = fill;
    b[n] = 0;
    return b;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

static void s_pipe_bind_long_path(cf_loop *loop) {
    const char *longp = path_of_length(140, 'L');
    char cut[108];
    snprintf(cut, sizeof cut, "%s", longp); /* what a truncation to sun_path leaves */
    cf_h *s = cf_pipe(loop, "server", 0);
    tr_rc("pipe_bind (140-byte path)", s, O->pipe_bind(s, longp));
    tr("socket file at the 140-byte path: %s", exists(longp) ? "yes" : "no");
    tr("socket file at the path cut to 107 bytes: %s", exists(cut) ? "yes" : "no");
    cf_close_run(loop, s);
}

static void s_pipe_connect_long_path(cf_loop *loop) {
    const char *exact = path_of_length(107, 'C'); /* the longest path that fits */
    char longp[200];
    snprintf(longp, sizeof longp, "%s-and-more", exact);
    int lfd = cf_peer_unix_listen(exact);
    fcntl(lfd, F_SETFL, O_NONBLOCK);
    cf_h *p = cf_pipe(loop, "client", 0);
    tr_rc("pipe_connect (116-byte path, the first 107 bytes name a listening socket)", p,
          O->pipe_connect(p, longp, cf_trace_cb, NULL));
    cf_run(loop);
    int a = accept(lfd, NULL, NULL);
    tr("the socket at the 107-byte prefix got a connection: %s", a >= 0 ? "yes" : "no");
    if (a >= 0) close(a);
    close(lfd);
    cf_close_run(loop, p);
}

/* ------------------------------------------------------------------------------ */
/* Several TCP handles sent in consecutive write2 calls, received by one reader: the
 * pending count grows with each, and each is accepted afterwards. */

static int several_bytes;
static void several_read_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    if (ev->status != 0) return;
    tr("pending_count(%s) = %d", cf_label(ev->h), O->pipe_pending_count(ev->h));
    several_bytes += (int)ev->len;
    if (several_bytes >= 3) tr_rc("read_stop", ev->h, O->read_stop(ev->h));
}

static void s_pipe_write2_several_tcp(cf_loop *loop) {
    int sp[2];
    socketpair_fds(sp);
    cf_h *a = opened_pipe(loop, "ipc-a", 1, sp[0]);
    cf_h *b = opened_pipe(loop, "ipc-b", 1, sp[1]);
    cf_h *t[3];
    static const char *labels[3] = {"t1", "t2", "t3"};
    static const char *payload[3] = {"1", "2", "3"};
    for (int i = 0; i < 3; i++) {
        t[i] = cf_tcp(loop, labels[i], AF_INET);
        tr_rc("bind", t[i], O->tcp_bind(t[i], "127.0.0.1", 0));
    }
    for (int i = 0; i < 3; i++) {
        cf_buf buf = cf_str(payload[i]);
        tr_rc("write2", t[i], O->write2(a, &buf, 1, t[i], cf_trace_cb_tag, (void *)labels[i]));
    }
    cf_run(loop);
    for (int i = 0; i < 3; i++) cf_close_quiet(t[i]); /* sent: may be closed now */
    cf_run(loop);
    tr_rc("read_start", b, O->read_start(b, several_read_cb, NULL));
    cf_run(loop);
    tr("pending_count(ipc-b) = %d", O->pipe_pending_count(b));
    for (int i = 0; i < 3; i++) {
        int k = O->pipe_pending_kind(b);
        tr("pending_kind(ipc-b) = %s", kind_name(k));
        cf_h *r = cf_tcp(loop, "received", 0);
        tr_rc("accept", r, O->accept(b, r));
        char ip[64] = "";
        tr_rc("sockname", r, O->tcp_sockname_ip(r, ip, sizeof ip));
        tr("received socket bound to %s", ip);
        cf_close_quiet(r);
    }
    tr("pending_count(ipc-b) = %d, pending_kind = %s", O->pipe_pending_count(b),
       kind_name(O->pipe_pending_kind(b)));
    cf_close_quiet(a);
    cf_close_quiet(b);
    cf_run(loop);
}

/* ------------------------------------------------------------------------------ */
/* IPC within one process over a socketpair: a connected TCP handle and a pipe handle
 * are sent, received, accepted into new handles and used. */

static struct {
    cf_loop *loop;
    int got;
    cf_h *rt, *rp;
} ipc;

static void ipc_read_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    if (ev->status != 0) return;
    for (size_t i = 0; i < ev->len; i++) {
        int n = O->pipe_pending_count(ev->h);
        int k = O->pipe_pending_kind(ev->h);
        tr("pending_count %d, pending_kind %s", n, kind_name(k));
        if (k == CF_TCP) {
            ipc.rt = cf_tcp(ipc.loop, "recv-tcp", 0);
            tr_rc("accept", ipc.rt, O->accept(ev->h, ipc.rt));
            cf_buf b = cf_str("via received tcp");
            tr_rc("write", ipc.rt, O->write(ipc.rt, &b, 1, NULL, NULL));
            ipc.got++;
        } else if (k == CF_PIPE) {
            ipc.rp = cf_pipe(ipc.loop, "recv-pipe", 0);
            tr_rc("accept", ipc.rp, O->accept(ev->h, ipc.rp));
            cf_buf b = cf_str("via received pipe");
            tr_rc("write", ipc.rp, O->write(ipc.rp, &b, 1, NULL, NULL));
            ipc.got++;
        }
    }
    if (ipc.got == 2) tr_rc("read_stop", ev->h, O->read_stop(ev->h));
}

static void s_pipe_ipc_tcp_and_pipe(cf_loop *loop) {
    ipc.loop = loop;
    int peer;
    cf_h *tcp = cf_connected_client(loop, "tcp", &peer, 0);
    int sp2[2];
    socketpair_fds(sp2);
    cf_h *x = opened_pipe(loop, "pipe", 0, sp2[0]);
    int sp[2];
    socketpair_fds(sp);
    cf_h *a = opened_pipe(loop, "ipc-a", 1, sp[0]);
    cf_h *b = opened_pipe(loop, "ipc-b", 1, sp[1]);
    cf_buf bt = cf_str("T"), bp = cf_str("P");
    tr_rc("write2 tcp", a, O->write2(a, &bt, 1, tcp, cf_trace_cb_tag, "sent tcp"));
    tr_rc("write2 pipe", a, O->write2(a, &bp, 1, x, cf_trace_cb_tag, "sent pipe"));
    cf_run(loop);
    cf_close_run(loop, tcp);
    cf_close_run(loop, x);
    tr_rc("read_start", b, O->read_start(b, ipc_read_cb, NULL));
    cf_run(loop);
    cf_peer_expect(peer, 16, 0, "tcp peer");
    cf_peer_expect(sp2[1], 17, 0, "pipe peer");
    close(peer);
    close(sp2[1]);
    cf_close_quiet(ipc.rt);
    cf_close_quiet(ipc.rp);
    cf_close_quiet(a);
    cf_close_quiet(b);
    cf_run(loop);
}

/* write2 on a pipe that is not an IPC pipe; write2 of a handle without a descriptor. */
static void s_pipe_write2_not_ipc(cf_loop *loop) {
    int sp[2], sp2[2];
    socketpair_fds(sp);
    socketpair_fds(sp2);
    cf_h *plain = opened_pipe(loop, "plain", 0, sp[0]);
    cf_h *t = cf_tcp(loop, "tcp", AF_INET);
    cf_buf b = cf_str("x");
    tr_rc("write2 on a non-IPC pipe", plain, O->write2(plain, &b, 1, t, cf_trace_cb, NULL));
    cf_h *ipcp = opened_pipe(loop, "ipc", 1, sp2[0]);
    cf_h *none = cf_tcp(loop, "no-socket", 0);
    tr_rc("write2 of a handle without a socket", ipcp, O->write2(ipcp, &b, 1, none, cf_trace_cb, NULL));
    cf_run(loop);
    close(sp[1]);
    close(sp2[1]);
    cf_close_quiet(plain);
    cf_close_quiet(t);
    cf_close_quiet(ipcp);
    cf_close_quiet(none);
    cf_run(loop);
}

/* ------------------------------------------------------------------------------ */
/* pipe_open with descriptors that are not pipes or Unix sockets. */

static void pipe_open_and_use(cf_loop *loop, int fd, const char *label) {
    cf_h *p = cf_pipe(loop, label, 0);
    int rc = tr_rc("pipe_open", p, O->pipe_open(p, fd));
    if (rc != 0) close(fd);
    cf_write_str(p, "x", "write");
    tr_rc("read_start", p, O->read_start(p, cf_trace_cb, NULL));
    cf_run(loop);
    cf_close_run(loop, p);
}

static void s_pipe_open_regular_file(cf_loop *loop) {
    int fd = open(cf_path("regular-file"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    tr("open regular file: %s", fd >= 0 ? "ok" : "failed");
    pipe_open_and_use(loop, fd, "file");
}

static void s_pipe_open_devnull(cf_loop *loop) {
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    tr("open /dev/null: %s", fd >= 0 ? "ok" : "failed");
    pipe_open_and_use(loop, fd, "devnull");
}

/* pipe_open of both ends of an anonymous pipe: read end readable only, write end
 * writable only; data and EOF travel. */
static void s_pipe_open_anonymous(cf_loop *loop) {
    int fds[2];
    if (pipe(fds) != 0) abort();
    cf_h *r = opened_pipe(loop, "read-end", 0, fds[0]);
    cf_h *w = opened_pipe(loop, "write-end", 0, fds[1]);
    tr_flags(r);
    tr_flags(w);
    cf_write_str(w, "through the pipe", "w1");
    cf_run(loop);
    cf_close_run(loop, w);
    tr_rc("read_start", r, O->read_start(r, cf_trace_cb, NULL));
    cf_run(loop);
    cf_close_run(loop, r);
}

/* ------------------------------------------------------------------------------ */
/* Half-close over a socketpair: EOF once, the side that got it still writes and shuts
 * down; the other side reads the reply. (Readability after EOF: tcp_eof_half_close.) */

static void half_read_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    if (ev->status == CF_EOF) {
        tr_writable(ev->h);
        cf_write_str(ev->h, "back", "reply");
        tr_rc("shutdown", ev->h, O->shutdown(ev->h, cf_trace_cb_tag, "shutdown"));
    }
}

static void s_pipe_eof_half_close(cf_loop *loop) {
    int sp[2];
    socketpair_fds(sp);
    cf_h *a = opened_pipe(loop, "a", 0, sp[0]);
    cf_h *b = opened_pipe(loop, "b", 0, sp[1]);
    cf_write_str(a, "hello", "w1");
    tr_rc("shutdown", a, O->shutdown(a, cf_trace_cb, NULL));
    cf_run(loop);
    tr_writable(a);
    tr_rc("read_start", b, O->read_start(b, half_read_cb, NULL));
    cf_run(loop);
    tr_writable(b);
    tr_rc("read_start", a, O->read_start(a, cf_trace_cb, NULL));
    cf_run(loop);
    tr_writable(a);
    cf_close_run(loop, a);
    cf_close_run(loop, b);
}


/* A second pipe_connect while one is pending. */
static void s_pipe_connect_twice(cf_loop *loop) {
    const char *path = cf_path("listener.sock");
    int lfd = cf_peer_unix_listen(path);
    cf_h *p = cf_pipe(loop, "client", 0);
    tr_rc("pipe_connect #1", p, O->pipe_connect(p, path, cf_trace_cb_tag, "first"));
    tr_rc("pipe_connect #2", p, O->pipe_connect(p, path, cf_trace_cb_tag, "second"));
    cf_run_until_idle(loop, 20);
    tr_rc("close", p, O->close(p, cf_trace_cb, NULL));
    if (!cf_run_until_idle(loop, 20)) cf_loop_abandoned = 1;
    close(lfd);
}

/* listen on a pipe that is not bound. */
static void s_pipe_listen_unbound(cf_loop *loop) {
    cf_h *p = cf_pipe(loop, "unbound", 0);
    tr_rc("listen", p, O->listen(p, 16, cf_trace_cb, NULL));
    cf_close_run(loop, p);
}

/* A TCP handle received over an IPC pipe, accepted into a pipe handle (the wrong kind),
 * then into a TCP handle. */
static void s_pipe_accept_wrong_kind(cf_loop *loop) {
    int sp[2];
    socketpair_fds(sp);
    cf_h *a = opened_pipe(loop, "ipc-a", 1, sp[0]);
    cf_h *b = opened_pipe(loop, "ipc-b", 1, sp[1]);
    cf_h *t = cf_tcp(loop, "sent", AF_INET);
    tr_rc("bind", t, O->tcp_bind(t, "127.0.0.1", 0));
    cf_buf buf = cf_str("T");
    tr_rc("write2", a, O->write2(a, &buf, 1, t, cf_trace_cb_tag, "sent tcp"));
    cf_run(loop);
    cf_close_quiet(t);
    cf_run(loop);
    several_bytes = 2; /* several_read_cb stops after the one byte */
    tr_rc("read_start", b, O->read_start(b, several_read_cb, NULL));
    cf_run(loop);
    tr("pending_kind(ipc-b) = %s", kind_name(O->pipe_pending_kind(b)));
    cf_h *p = cf_pipe(loop, "pipe-client", 0);
    tr_rc("accept into a pipe handle", p, O->accept(b, p));
    cf_h *r = cf_tcp(loop, "tcp-client", 0);
    tr_rc("accept into a tcp handle", r, O->accept(b, r));
    tr("pending_count(ipc-b) = %d", O->pipe_pending_count(b));
    cf_close_quiet(p);
    cf_close_quiet(r);
    cf_close_quiet(a);
    cf_close_quiet(b);
    cf_run(loop);
}

const cf_scenario cf_scenarios_pipe[] = {
    {"pipe_bind_existing_path", s_pipe_bind_existing_path},
    {"pipe_connect_missing", s_pipe_connect_missing},
    {"pipe_connect_refused", s_pipe_connect_refused},
    {"pipe_listen_accept", s_pipe_listen_accept},
    {"pipe_bind_long_path", s_pipe_bind_long_path},
    {"pipe_connect_long_path", s_pipe_connect_long_path},
    {"pipe_write2_several_tcp", s_pipe_write2_several_tcp},
    {"pipe_ipc_tcp_and_pipe", s_pipe_ipc_tcp_and_pipe},
    {"pipe_write2_not_ipc", s_pipe_write2_not_ipc},
    {"pipe_open_regular_file", s_pipe_open_regular_file},
    {"pipe_open_devnull", s_pipe_open_devnull},
    {"pipe_open_anonymous", s_pipe_open_anonymous},
    {"pipe_eof_half_close", s_pipe_eof_half_close},
    {"pipe_connect_twice", s_pipe_connect_twice},
    {"pipe_listen_unbound", s_pipe_listen_unbound},
    {"pipe_accept_wrong_kind", s_pipe_accept_wrong_kind},
    {NULL, NULL},
};
