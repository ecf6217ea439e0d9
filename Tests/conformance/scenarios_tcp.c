/*
 * scenarios_tcp.c — TCP streams: writing, reading, closing, listening, binding.
 *
 * Peers are raw POSIX sockets (conf_util.c) where a second loop handle would make the
 * order of callbacks depend on which of two sockets the kernel reports first: the trace
 * then only holds events of one handle at a time, and what the peer observed.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf_ops.h"

/* A TCP handle bound to 127.0.0.1:0 and listening (backlog 16), tracing bind and listen. */
static cf_h *tcp_listener(cf_loop *loop, const char *label, cf_cb cb) {
    cf_h *s = cf_tcp(loop, label, 0);
    tr_rc("bind", s, O->tcp_bind(s, "127.0.0.1", 0));
    tr_rc("listen", s, O->listen(s, 16, cb, NULL));
    return s;
}

/* Listen with cb, connect one blocking peer, run the loop, close the peer. */
static void serve_one_peer(cf_loop *loop, cf_cb cb) {
    cf_h *s = tcp_listener(loop, "server", cb);
    int c = cf_peer_connect(O->tcp_port(s));
    tr("peer connected: %s", c >= 0 ? "yes" : "no");
    cf_run(loop);
    close(c);
}

static void set_sndbuf(cf_h *h, int size) {
    int fd = O->fileno(h);
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

/* ------------------------------------------------------------------------------ */
/* Write ordering: 64 writes of 1-3 buffers of mixed sizes (1 B .. 1 MiB), the
 * caller's buffer reused between calls; callbacks in order, peer gets every byte. */

static int order_next_cb;

static void order_write_cb(const cf_event *ev) {
    int idx = (int)(intptr_t)ev->ud;
    if (idx != order_next_cb || ev->status != 0)
        tr("cb write %s %s #%d (expected #%d)", cf_label(ev->h), cf_err_name(ev->status), idx,
           order_next_cb);
    else if (idx % 16 == 15)
        tr("cb write %s OK #%d (all in order so far)", cf_label(ev->h), idx);
    order_next_cb = idx + 1;
}

static void s_tcp_write_order(cf_loop *loop) {
    static const size_t sizes[] = {1, 7, 100, 1000, 4096, 8191, 65536, 65537, 200000, 13, 3, 1 << 20};
    const size_t nsizes = sizeof sizes / sizeof sizes[0];
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    cf_sink *sink = cf_sink_start(peer);
    unsigned char *scratch = malloc(3u << 20);
    size_t off = 0, total_failed = 0;
    for (int i = 0; i < 64; i++) {
        cf_buf bufs[3];
        size_t nb = 1 + (size_t)i % 3, used = 0;
        for (size_t j = 0; j < nb; j++) {
            size_t len = sizes[((size_t)i * 5 + j * 7) % nsizes];
            cf_pattern_fill(scratch + used, len, off);
            bufs[j].base = scratch + used;
            bufs[j].len = len;
            used += len;
            off += len;
        }
        int rc = O->write(c, bufs, nb, order_write_cb, (void *)(intptr_t)i);
        if (rc != 0) {
            tr("write(client) #%d -> %s", i, cf_err_name(rc));
            total_failed++;
        }
        memset(scratch, 0xEE, used); /* the caller may reuse its buffers at once */
    }
    tr("64 writes issued (%zu bytes), %zu failed", off, total_failed);
    tr_rc("shutdown", c, O->shutdown(c, cf_trace_cb, NULL));
    cf_run(loop);
    tr("write callbacks: %d", order_next_cb);
    cf_sink_join(sink, "peer");
    free(scratch);
    close(peer);
    cf_close_run(loop, c);
}

/* ------------------------------------------------------------------------------ */
/* Writes (and a shutdown) issued before the connect completes are sent after it. */

static void s_tcp_write_before_connect(cf_loop *loop) {
    int port;
    int lfd = cf_peer_listen(&port, 0);
    cf_h *c = cf_tcp(loop, "client", 0);
    tr_rc("tcp_connect", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb, NULL));
    tr_flags(c);
    cf_write_str(c, "alpha,", "w1");
    cf_buf two[2] = {cf_str("beta,"), cf_str("gamma,")};
    tr_rc("write 2 bufs", c, O->write(c, two, 2, cf_trace_cb_tag, "w2"));
    cf_write_str(c, "delta", "w3");
    cf_buf x = cf_str("x");
    tr_rc("try_write while connecting", c, O->try_write(c, &x, 1));
    tr_rc("shutdown", c, O->shutdown(c, cf_trace_cb, NULL));
    int peer = cf_peer_accept(lfd);
    cf_run(loop);
    cf_peer_expect(peer, 0, 1, "peer");
    close(peer);
    close(lfd);
    cf_close_run(loop, c);
}

/* Writes issued before a connect that fails are cancelled after its callback. */
static void s_tcp_write_before_connect_refused(cf_loop *loop) {
    int port;
    int bfd = cf_peer_bound(&port);
    cf_h *c = cf_tcp(loop, "client", 0);
    tr_rc("tcp_connect", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb, NULL));
    cf_write_str(c, "one", "w1");
    cf_write_str(c, "two", "w2");
    cf_run(loop);
    close(bfd);
    cf_close_run(loop, c);
}

/* A shutdown issued before a connect that fails. */
static int refused_connect_done;
static void refused_connect_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    refused_connect_done = 1;
}

static void s_tcp_shutdown_before_connect_refused(cf_loop *loop) {
    int port;
    int bfd = cf_peer_bound(&port);
    cf_h *c = cf_tcp(loop, "client", 0);
    tr_rc("tcp_connect", c, O->tcp_connect(c, "127.0.0.1", port, refused_connect_cb, NULL));
    cf_write_str(c, "one", "w1");
    tr_rc("shutdown", c, O->shutdown(c, cf_trace_cb_tag, "s1"));
    cf_run_once_until(loop, &refused_connect_done, 1000);
    cf_run_until_idle(loop, 20);
    close(bfd);
    cf_close_run(loop, c);
}

/* ------------------------------------------------------------------------------ */
/* try_write writes at once when nothing is queued, and reports EAGAIN while writes are
 * queued (it never reorders data). */

static void try_big_write_cb(const cf_event *ev) {
    cf_trace_cb_tag(ev);
    tr_rc("shutdown", ev->h, O->shutdown(ev->h, cf_trace_cb, NULL));
}

static void s_tcp_try_write_queued(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 4096);
    set_sndbuf(c, 4096);
    const size_t big = 4u << 20;
    unsigned char *data = malloc(big + 200);
    cf_pattern_fill(data, big + 200, 0);
    cf_buf b = {data, 100};
    tr_rc("try_write 100 bytes", c, O->try_write(c, &b, 1));
    b.base = data + 100;
    b.len = big;
    tr_rc("write 4 MiB", c, O->write(c, &b, 1, try_big_write_cb, "big"));
    tr("write_queue_size(client) > 0: %s", O->write_queue_size(c) > 0 ? "yes" : "no");
    b.base = data + 100 + big;
    b.len = 10;
    tr_rc("try_write while queued", c, O->try_write(c, &b, 1));
    cf_sink *sink = cf_sink_start(peer);
    cf_run(loop);
    cf_sink_join(sink, "peer");
    free(data);
    close(peer);
    cf_close_quiet(c);
    cf_run(loop);
}

/* ------------------------------------------------------------------------------ */
/* Close with pending writes and a pending shutdown: a write that had completed reports
 * OK, the others ECANCELED, in order, then the shutdown, then the close callback. */

static void s_tcp_close_pending_writes(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 4096);
    set_sndbuf(c, 4096);
    cf_write_str(c, "small", "w1 (completes at once)");
    const size_t big = 4u << 20;
    unsigned char *data = malloc(big);
    cf_pattern_fill(data, big, 0);
    cf_buf b = {data, big};
    tr_rc("write 4 MiB", c, O->write(c, &b, 1, cf_trace_cb_tag, "w2 (4 MiB)"));
    free(data);
    cf_write_str(c, "b", "w3");
    cf_write_str(c, "c", "w4");
    tr_rc("shutdown", c, O->shutdown(c, cf_trace_cb, NULL));
    tr_rc("close", c, O->close(c, cf_trace_cb, NULL));
    tr("is_closing(client) = %d", O->is_closing(c));
    cf_run(loop);
    close(peer);
}

/* ------------------------------------------------------------------------------ */
/* Close while a connect is pending: the connect and the queued write are cancelled
 * before the close callback; the same when the connect would be refused. */

static void s_tcp_close_during_connect(cf_loop *loop) {
    int port, bport;
    int lfd = cf_peer_listen(&port, 0);
    int bfd = cf_peer_bound(&bport);
    cf_h *c = cf_tcp(loop, "c1", 0);
    tr_rc("tcp_connect", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb, NULL));
    cf_write_str(c, "x", "w1");
    cf_close_run(loop, c);
    cf_h *r = cf_tcp(loop, "c2-refused", 0);
    tr_rc("tcp_connect", r, O->tcp_connect(r, "127.0.0.1", bport, cf_trace_cb, NULL));
    cf_close_run(loop, r);
    close(lfd);
    close(bfd);
}

/* ------------------------------------------------------------------------------ */
/* Shutdown twice: the second fails with ENOTCONN, the first completes once. */

static void s_tcp_shutdown_twice(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    cf_write_str(c, "data", "w1");
    tr_rc("shutdown #1", c, O->shutdown(c, cf_trace_cb, NULL));
    tr_flags(c);
    tr_rc("shutdown #2", c, O->shutdown(c, cf_trace_cb, NULL));
    cf_run(loop);
    cf_peer_expect(peer, 0, 1, "peer");
    close(peer);
    cf_close_run(loop, c);
}

/* After shutdown: queued writes are flushed first, the stream is not writable, writes
 * fail with EPIPE, and the stream still reads what the peer sends. */

static void s_tcp_shutdown_flush_then_epipe(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 4096);
    set_sndbuf(c, 4096);
    const size_t big = 1u << 20;
    unsigned char *data = malloc(big);
    cf_pattern_fill(data, big, 0);
    cf_buf b = {data, big};
    tr_rc("write 1 MiB", c, O->write(c, &b, 1, cf_trace_cb_tag, "big"));
    free(data);
    tr_rc("shutdown", c, O->shutdown(c, cf_trace_cb, NULL));
    tr_flags(c);
    cf_write_str(c, "late", "late");
    cf_sink *sink = cf_sink_start(peer);
    cf_run(loop);
    cf_sink_join(sink, "peer");
    cf_buf x = cf_str("x");
    tr_rc("try_write after shutdown", c, O->try_write(c, &x, 1));
    cf_peer_write(peer, "bye", 3);
    close(peer);
    tr_rc("read_start", c, O->read_start(c, cf_trace_cb, NULL));
    cf_run(loop);
    tr_writable(c);
    cf_close_run(loop, c);
}

/* ------------------------------------------------------------------------------ */
/* EOF is reported once; the stream is no longer readable but still writable
 * (half-close): it writes a reply and shuts down. */

static void eof_read_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    if (ev->status == CF_EOF) {
        tr_flags(ev->h);
        cf_write_str(ev->h, "reply", "reply");
        tr_rc("shutdown", ev->h, O->shutdown(ev->h, cf_trace_cb_tag, "shutdown"));
        tr_flags(ev->h);
    }
}

static void s_tcp_eof_half_close(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    cf_peer_write(peer, "hello", 5);
    shutdown(peer, SHUT_WR);
    tr_rc("read_start", c, O->read_start(c, eof_read_cb, NULL));
    cf_run(loop);
    tr_flags(c);
    tr_rc("read_start after EOF", c, O->read_start(c, cf_trace_cb, NULL));
    cf_run(loop);
    cf_peer_expect(peer, 0, 1, "peer");
    close(peer);
    cf_close_run(loop, c);
}

/* A reset by the peer is a read error, reported once; then the stream is neither
 * readable nor writable. */

static void s_tcp_peer_reset(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    cf_peer_reset(peer);
    tr_rc("read_start", c, O->read_start(c, cf_trace_cb, NULL));
    cf_run(loop);
    tr_flags(c);
    cf_write_str(c, "x", "after reset");
    tr_rc("shutdown", c, O->shutdown(c, cf_trace_cb, NULL));
    tr_rc("read_start", c, O->read_start(c, cf_trace_cb, NULL));
    cf_run(loop);
    cf_close_run(loop, c);
}

/* ------------------------------------------------------------------------------ */
/* read_stop inside the read callback takes effect at once: no second callback, even
 * with more data waiting; reading resumes with read_start. */

static int stop_cbs;
static size_t stop_bytes;

static void stop_first_cb(const cf_event *ev) {
    stop_cbs++;
    stop_bytes += ev->len;
    tr("cb read %s %s n>0:%s", cf_label(ev->h), cf_err_name(ev->status), ev->len > 0 ? "yes" : "no");
    tr_rc("read_stop in read cb", ev->h, O->read_stop(ev->h));
}

static void stop_rest_cb(const cf_event *ev) {
    if (ev->status == 0) {
        stop_bytes += ev->len;
        return;
    }
    tr("cb read %s %s after %zu bytes in all", cf_label(ev->h), cf_err_name(ev->status), stop_bytes);
}

static void s_tcp_read_stop_in_cb(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    const size_t n = 400000;
    cf_source *src = cf_source_start(peer, n, 1);
    tr_rc("read_start", c, O->read_start(c, stop_first_cb, NULL));
    cf_run(loop);
    tr("read callbacks before read_start again: %d; is_active %d", stop_cbs, O->is_active(c));
    tr_rc("read_start", c, O->read_start(c, stop_rest_cb, NULL));
    cf_run(loop);
    cf_source_join(src);
    tr("bytes read: %zu of %zu", stop_bytes, n);
    close(peer);
    cf_close_run(loop, c);
}

/* read_start / read_stop repeated, in and out of the read callback. */

static void repeat_read_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    if (ev->status == 0) {
        tr_rc("read_stop in cb", ev->h, O->read_stop(ev->h));
        tr_rc("read_start in cb", ev->h, O->read_start(ev->h, repeat_read_cb, NULL));
        tr_rc("read_stop in cb", ev->h, O->read_stop(ev->h));
    }
}

static void s_tcp_read_start_stop_repeat(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    tr_rc("read_stop (not reading)", c, O->read_stop(c));
    tr_rc("read_start", c, O->read_start(c, repeat_read_cb, NULL));
    tr_rc("read_stop", c, O->read_stop(c));
    tr_rc("read_stop", c, O->read_stop(c));
    tr_rc("read_start", c, O->read_start(c, repeat_read_cb, NULL));
    cf_peer_write(peer, "ping", 4);
    cf_run(loop);
    cf_peer_write(peer, "pong", 4);
    shutdown(peer, SHUT_WR);
    tr_rc("read_start", c, O->read_start(c, cf_trace_cb, NULL));
    cf_run(loop);
    close(peer);
    cf_close_run(loop, c);
}

/* read_start while already reading. */
static void s_tcp_read_start_twice(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    tr_rc("read_start", c, O->read_start(c, cf_trace_cb, NULL));
    tr_rc("read_start while reading", c, O->read_start(c, cf_trace_cb_tag, "second"));
    cf_peer_write(peer, "x", 1);
    shutdown(peer, SHUT_WR);
    cf_run(loop);
    close(peer);
    cf_close_run(loop, c);
}

/* ------------------------------------------------------------------------------ */
/* Delayed accept: a connection not accepted in the connection callback stays queued;
 * a timer accepts it later; the next connection is accepted at once. */

static struct {
    cf_loop *loop;
    cf_h *server, *a1, *a2, *timer;
    int conns, port, c2;
} da;

static void da_timer_cb(const cf_event *ev);

static void da_connection_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    if (++da.conns == 1) {
        /* Not accepted here: a timer accepts it later. */
        tr_rc("timer_start 20ms", da.timer, O->timer_start(da.timer, 20, 0, da_timer_cb, NULL));
    } else if (da.conns == 2) {
        da.a2 = cf_tcp(da.loop, "a2", 0);
        tr_rc("accept (in connection cb)", da.a2, O->accept(ev->h, da.a2));
        char ip[64] = "";
        tr_rc("sockname", da.a2, O->tcp_sockname_ip(da.a2, ip, sizeof ip));
        tr("a2 local ip %s", ip);
        cf_close_quiet(da.a1);
        cf_close_quiet(da.a2);
        tr_rc("close", da.server, O->close(da.server, cf_trace_cb, NULL));
    }
}

static void da_timer_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    da.a1 = cf_tcp(da.loop, "a1", 0);
    tr_rc("accept (from timer)", da.a1, O->accept(da.server, da.a1));
    char ip[64] = "";
    tr_rc("sockname", da.a1, O->tcp_sockname_ip(da.a1, ip, sizeof ip));
    tr("a1 local ip %s", ip);
    da.c2 = cf_peer_connect(da.port);
    tr("peer 2 connected: %s", da.c2 >= 0 ? "yes" : "no");
    cf_close_quiet(ev->h);
}

static void s_tcp_delayed_accept(cf_loop *loop) {
    da.loop = loop;
    da.server = tcp_listener(loop, "server", da_connection_cb);
    da.port = O->tcp_port(da.server);
    int c1 = cf_peer_connect(da.port);
    tr("peer 1 connected: %s", c1 >= 0 ? "yes" : "no");
    da.timer = cf_timer(loop, "timer");
    cf_run(loop);
    tr("connection callbacks: %d", da.conns);
    close(c1);
    close(da.c2);
}

/* accept with nothing pending. */
static void s_tcp_accept_nothing_pending(cf_loop *loop) {
    cf_h *s = tcp_listener(loop, "server", cf_trace_cb);
    cf_h *c = cf_tcp(loop, "client", 0);
    tr_rc("accept", c, O->accept(s, c));
    cf_close_run(loop, s);
    cf_close_run(loop, c);
}

/* listen called twice on one stream; a connection then reaches one callback. */
static cf_loop *lt_loop;
static void lt_connection_cb(const cf_event *ev) {
    cf_trace_cb_tag(ev);
    cf_h *a = cf_tcp(lt_loop, "accepted", 0);
    tr_rc("accept", a, O->accept(ev->h, a));
    cf_close_quiet(a);
    tr_rc("close", ev->h, O->close(ev->h, cf_trace_cb, NULL));
}

static void s_tcp_listen_twice(cf_loop *loop) {
    lt_loop = loop;
    cf_h *s = cf_tcp(loop, "server", 0);
    tr_rc("bind", s, O->tcp_bind(s, "127.0.0.1", 0));
    tr_rc("listen #1", s, O->listen(s, 16, lt_connection_cb, "first cb"));
    tr_rc("listen #2", s, O->listen(s, 16, lt_connection_cb, "second cb"));
    int c = cf_peer_connect(O->tcp_port(s));
    tr("peer connected: %s", c >= 0 ? "yes" : "no");
    cf_run(loop);
    close(c);
}

/* ------------------------------------------------------------------------------ */
/* Bind errors reported by bind itself. */

static void s_tcp_bind_errors(cf_loop *loop) {
    cf_h *t = cf_tcp(loop, "t", 0);
    tr_rc("bind 999.1.1.1", t, O->tcp_bind(t, "999.1.1.1", 0));
    tr_rc("bind localhost", t, O->tcp_bind(t, "localhost", 0));
    tr_rc("bind ''", t, O->tcp_bind(t, "", 0));
    tr_rc("bind 127.0.0.1:0", t, O->tcp_bind(t, "127.0.0.1", 0));
    tr_rc("bind 127.0.0.1:0 again", t, O->tcp_bind(t, "127.0.0.1", 0));
    cf_h *u = cf_tcp(loop, "u", 0);
    tr_rc("bind 192.0.2.1 (not local)", u, O->tcp_bind(u, "192.0.2.1", 0));
    cf_close_quiet(t);
    cf_close_quiet(u);
    cf_run(loop);
}

/* A port outside 0..65535. */
static void s_tcp_bind_port_out_of_range(cf_loop *loop) {
    cf_h *t = cf_tcp(loop, "t", 0);
    tr_rc("bind 127.0.0.1:70000", t, O->tcp_bind(t, "127.0.0.1", 70000));
    cf_h *u = cf_tcp(loop, "u", 0);
    tr_rc("bind 127.0.0.1:-1", u, O->tcp_bind(u, "127.0.0.1", -1));
    cf_close_quiet(t);
    cf_close_quiet(u);
    cf_run(loop);
}

/* EADDRINUSE: bind succeeds, listen (or connect) reports it. */
static void s_tcp_bind_addrinuse_deferred(cf_loop *loop) {
    cf_h *a = tcp_listener(loop, "a", cf_trace_cb);
    int port = O->tcp_port(a);
    cf_h *b = cf_tcp(loop, "b", 0);
    tr_rc("bind same port", b, O->tcp_bind(b, "127.0.0.1", port));
    tr_rc("listen", b, O->listen(b, 16, cf_trace_cb, NULL));
    cf_h *c = cf_tcp(loop, "c", 0);
    tr_rc("bind same port", c, O->tcp_bind(c, "127.0.0.1", port));
    tr_rc("tcp_connect", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb, NULL));
    cf_close_quiet(a);
    cf_run(loop);
    cf_close_quiet(b);
    cf_close_quiet(c);
    cf_run(loop);
}

/* Connect refused: the error arrives in the callback; then the stream is neither
 * readable nor writable. */
static void s_tcp_connect_refused(cf_loop *loop) {
    int port;
    int bfd = cf_peer_bound(&port);
    cf_h *c = cf_tcp(loop, "client", 0);
    tr_rc("tcp_connect", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb, NULL));
    cf_run(loop);
    tr_flags(c);
    close(bfd);
    cf_close_run(loop, c);
}

/* accept into a client that already has a socket. */
static cf_loop *busy_loop;
static void busy_connection_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    cf_h *busy = cf_tcp(busy_loop, "busy", AF_INET);
    tr_rc("accept into a client with a socket", busy, O->accept(ev->h, busy));
    cf_h *fresh = cf_tcp(busy_loop, "fresh", 0);
    tr_rc("accept into a fresh client", fresh, O->accept(ev->h, fresh));
    cf_close_quiet(busy);
    cf_close_quiet(fresh);
    cf_close_quiet(ev->h);
}

static void s_tcp_accept_into_busy_client(cf_loop *loop) {
    busy_loop = loop;
    serve_one_peer(loop, busy_connection_cb);
}

/* read_start (and write, shutdown) on streams that are not connected: a listening
 * stream, a stream with a socket but no connection, a stream without a socket. */
static void s_tcp_read_start_not_connected(cf_loop *loop) {
    cf_h *s = tcp_listener(loop, "listener", cf_trace_cb);
    tr_rc("read_start", s, O->read_start(s, cf_trace_cb, NULL));
    tr_flags(s);
    cf_h *t = cf_tcp(loop, "socket-only", AF_INET);
    tr_rc("read_start", t, O->read_start(t, cf_trace_cb, NULL));
    tr_flags(t);
    cf_write_str(t, "x", "unconnected");
    tr_rc("shutdown", t, O->shutdown(t, cf_trace_cb, NULL));
    cf_h *u = cf_tcp(loop, "no-socket", 0);
    tr_rc("read_start", u, O->read_start(u, cf_trace_cb, NULL));
    tr_flags(u);
    tr_rc("shutdown", u, O->shutdown(u, cf_trace_cb, NULL));
    cf_close_quiet(s);
    cf_close_quiet(t);
    cf_close_quiet(u);
    cf_run(loop);
}

/* The write to a stream without a socket (no descriptor at all yet). */
static void s_tcp_write_no_socket(cf_loop *loop) {
    cf_h *u = cf_tcp(loop, "no-socket", 0);
    cf_write_str(u, "x", "no socket");
    cf_close_quiet(u);
    cf_run(loop);
}

/* ------------------------------------------------------------------------------ */
/* Zero bytes: a write of one empty buffer, of two empty buffers, a try_write of
 * nothing; all defined, then a real write. */

static void s_tcp_zero_byte_write(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    cf_write_str(c, "", "one empty buffer");
    cf_buf two[2] = {cf_str(""), cf_str("")};
    tr_rc("write two empty buffers", c, O->write(c, two, 2, cf_trace_cb_tag, "two empty buffers"));
    cf_buf e = cf_str("");
    tr_rc("try_write empty", c, O->try_write(c, &e, 1));
    cf_write_str(c, "after", "after");
    tr_rc("shutdown", c, O->shutdown(c, cf_trace_cb, NULL));
    cf_run(loop);
    cf_peer_expect(peer, 0, 1, "peer");
    close(peer);
    cf_close_quiet(c);
    cf_run(loop);
}

/* Zero buffers. */
static void s_tcp_zero_buffer_write(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    cf_buf none[1] = {cf_str("never read")};
    tr_rc("write zero buffers", c, O->write(c, none, 0, cf_trace_cb_tag, "zero buffers"));
    cf_write_str(c, "after", "after");
    tr_rc("shutdown", c, O->shutdown(c, cf_trace_cb, NULL));
    cf_run(loop);
    cf_peer_expect(peer, 0, 1, "peer");
    close(peer);
    cf_close_quiet(c);
    cf_run(loop);
}

/* ------------------------------------------------------------------------------ */
/* A write callback that writes again, 1000 times: every callback comes from the loop
 * (nesting depth 0 at entry), so the stack does not grow. */

static struct {
    int count, max_depth, bad_status;
    uintptr_t lo, hi;
    size_t off;
} depth;

static void depth_write(cf_h *h);

static void depth_cb(const cf_event *ev) {
    char marker;
    uintptr_t sp = (uintptr_t)&marker;
    if (depth.count == 0 || sp < depth.lo) depth.lo = sp;
    if (depth.count == 0 || sp > depth.hi) depth.hi = sp;
    if (cf_depth > depth.max_depth) depth.max_depth = cf_depth;
    if (ev->status != 0) depth.bad_status++;
    if (++depth.count < 1000)
        depth_write(ev->h);
    else
        tr_rc("shutdown (after 1000 callbacks)", ev->h, O->shutdown(ev->h, cf_trace_cb, NULL));
}

static void depth_write(cf_h *h) {
    unsigned char b[10];
    cf_pattern_fill(b, sizeof b, depth.off);
    depth.off += sizeof b;
    cf_buf buf = {b, sizeof b};
    int rc = O->write(h, &buf, 1, depth_cb, NULL);
    if (rc != 0) tr("write #%d -> %s", depth.count, cf_err_name(rc));
}

static void s_tcp_write_cb_depth(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    cf_sink *sink = cf_sink_start(peer);
    depth_write(c);
    cf_run(loop);
    tr("write callbacks %d, failed %d, max operation depth at callback entry %d, stack spread "
       "< 16 KiB: %s",
       depth.count, depth.bad_status, depth.max_depth, depth.hi - depth.lo < 16384 ? "yes" : "no");
    cf_sink_join(sink, "peer");
    close(peer);
    cf_close_quiet(c);
    cf_run(loop);
}

/* ------------------------------------------------------------------------------ */
/* close twice. */

static void s_tcp_close_twice(cf_loop *loop) {
    cf_h *t = cf_tcp(loop, "t", 0);
    tr_rc("close #1", t, O->close(t, cf_trace_cb_tag, "first"));
    tr_rc("close #2", t, O->close(t, cf_trace_cb_tag, "second"));
    cf_run(loop);
}

/* ------------------------------------------------------------------------------ */
/* tcp_open with descriptors that are not TCP sockets, and with one that is. */

static void open_and_use(cf_loop *loop, int fd, const char *label) {
    cf_h *t = cf_tcp(loop, label, 0);
    int rc = tr_rc("tcp_open", t, O->tcp_open(t, fd));
    if (rc != 0) close(fd);
    cf_write_str(t, "x", "write");
    tr_rc("read_start", t, O->read_start(t, cf_trace_cb, NULL));
    cf_run(loop);
    cf_close_run(loop, t);
}

static void s_tcp_open_regular_file(cf_loop *loop) {
    int fd = open(cf_path("regular-file"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    tr("open regular file: %s", fd >= 0 ? "ok" : "failed");
    open_and_use(loop, fd, "file");
}

static void s_tcp_open_devnull(cf_loop *loop) {
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    tr("open /dev/null: %s", fd >= 0 ? "ok" : "failed");
    open_and_use(loop, fd, "devnull");
}

static void s_tcp_open_socket(cf_loop *loop) {
    int port;
    int lfd = cf_peer_listen(&port, 0);
    int fd = cf_peer_connect(port);
    int peer = cf_peer_accept(lfd);
    close(lfd);
    cf_h *t = cf_tcp(loop, "opened", 0);
    tr_rc("tcp_open", t, O->tcp_open(t, fd));
    tr_flags(t);
    cf_write_str(t, "via tcp_open", "w1");
    tr_rc("shutdown", t, O->shutdown(t, cf_trace_cb, NULL));
    cf_run(loop);
    cf_peer_expect(peer, 0, 1, "peer");
    close(peer);
    cf_close_run(loop, t);
}


/* ------------------------------------------------------------------------------ */
/* Writes to a peer that reset the connection: the I/O error arrives in the write
 * callback, never as a signal. */

static void s_tcp_write_to_reset_peer(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    cf_peer_reset(peer);
    cf_write_str(c, "first", "w1");
    cf_run(loop);
    cf_write_str(c, "second", "w2");
    cf_run(loop);
    cf_close_run(loop, c);
}

/* Close inside a write callback: the writes still queued behind it are cancelled,
 * in order, before the close callback. */

static void close_in_write_cb(const cf_event *ev) {
    cf_trace_cb_tag(ev);
    if (strcmp((const char *)ev->ud, "w1") == 0)
        tr_rc("close in write cb", ev->h, O->close(ev->h, cf_trace_cb, NULL));
}

static void s_tcp_close_in_write_cb(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 4096);
    set_sndbuf(c, 4096);
    const size_t big = 2u << 20;
    unsigned char *data = malloc(big);
    cf_pattern_fill(data, big, 0);
    cf_buf b = {data, 100};
    tr_rc("write 100 bytes", c, O->write(c, &b, 1, close_in_write_cb, "w1"));
    b.len = big;
    tr_rc("write 2 MiB", c, O->write(c, &b, 1, close_in_write_cb, "w2"));
    tr_rc("write 2 MiB", c, O->write(c, &b, 1, close_in_write_cb, "w3"));
    free(data);
    cf_run(loop);
    close(peer);
}

/* Close inside a read callback with more data waiting: no further read callback. */

static int close_read_cbs;
static void close_in_read_cb(const cf_event *ev) {
    if (++close_read_cbs == 1) {
        tr("cb read %s %s n>0:%s", cf_label(ev->h), cf_err_name(ev->status), ev->len > 0 ? "yes" : "no");
        tr_rc("close in read cb", ev->h, O->close(ev->h, cf_trace_cb, NULL));
    } else {
        tr("!! read callback #%d after close", close_read_cbs);
    }
}

static void s_tcp_close_in_read_cb(cf_loop *loop) {
    int peer;
    cf_h *c = cf_connected_client(loop, "client", &peer, 0);
    cf_source *src = cf_source_start(peer, 300000, 1);
    tr_rc("read_start", c, O->read_start(c, close_in_read_cb, NULL));
    cf_run(loop);
    tr("read callbacks: %d", close_read_cbs);
    close(peer);
    cf_source_join(src);
}

/* Calls on a handle that is closing (before its close callback). */

static void s_tcp_ops_on_closing_handle(cf_loop *loop) {
    int port;
    int lfd = cf_peer_listen(&port, 0);
    cf_h *t = cf_tcp(loop, "t", 0);
    tr_rc("close", t, O->close(t, cf_trace_cb, NULL));
    cf_write_str(t, "x", "on closing");
    tr_rc("read_start", t, O->read_start(t, cf_trace_cb, NULL));
    tr_rc("shutdown", t, O->shutdown(t, cf_trace_cb, NULL));
    tr_rc("tcp_connect", t, O->tcp_connect(t, "127.0.0.1", port, cf_trace_cb, NULL));
    cf_run(loop);
    close(lfd);
}

/* A second connect while one is pending. */

static void s_tcp_connect_twice(cf_loop *loop) {
    int port;
    int lfd = cf_peer_listen(&port, 0);
    cf_h *c = cf_tcp(loop, "client", 0);
    tr_rc("tcp_connect #1", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb_tag, "first"));
    tr_rc("tcp_connect #2", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb_tag, "second"));
    cf_run(loop);
    tr_rc("tcp_connect when connected", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb_tag, "third"));
    cf_run(loop);
    close(lfd);
    cf_close_run(loop, c);
}

/* connect again after a refused connect, to a listening peer. */
static void s_tcp_connect_after_refused(cf_loop *loop) {
    int bport, port;
    int bfd = cf_peer_bound(&bport);
    int lfd = cf_peer_listen(&port, 0);
    cf_h *c = cf_tcp(loop, "client", 0);
    tr_rc("tcp_connect (refused)", c, O->tcp_connect(c, "127.0.0.1", bport, cf_trace_cb_tag, "first"));
    cf_run(loop);
    tr_rc("tcp_connect (listening)", c, O->tcp_connect(c, "127.0.0.1", port, cf_trace_cb_tag, "second"));
    cf_run(loop);
    close(bfd);
    close(lfd);
    cf_close_run(loop, c);
}

/* accept from a TCP listener into a pipe handle. */
static cf_loop *wk_loop;
static void wk_connection_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    cf_h *p = cf_pipe(wk_loop, "pipe-client", 0);
    tr_rc("accept into a pipe handle", p, O->accept(ev->h, p));
    cf_h *t = cf_tcp(wk_loop, "tcp-client", 0);
    tr_rc("accept into a tcp handle", t, O->accept(ev->h, t));
    cf_close_quiet(p);
    cf_close_quiet(t);
    cf_close_quiet(ev->h);
}

static void s_tcp_accept_into_pipe(cf_loop *loop) {
    wk_loop = loop;
    serve_one_peer(loop, wk_connection_cb);
}

const cf_scenario cf_scenarios_tcp[] = {
    {"tcp_write_order", s_tcp_write_order},
    {"tcp_write_before_connect", s_tcp_write_before_connect},
    {"tcp_write_before_connect_refused", s_tcp_write_before_connect_refused},
    {"tcp_shutdown_before_connect_refused", s_tcp_shutdown_before_connect_refused},
    {"tcp_try_write_queued", s_tcp_try_write_queued},
    {"tcp_close_pending_writes", s_tcp_close_pending_writes},
    {"tcp_close_during_connect", s_tcp_close_during_connect},
    {"tcp_shutdown_twice", s_tcp_shutdown_twice},
    {"tcp_shutdown_flush_then_epipe", s_tcp_shutdown_flush_then_epipe},
    {"tcp_eof_half_close", s_tcp_eof_half_close},
    {"tcp_peer_reset", s_tcp_peer_reset},
    {"tcp_read_stop_in_cb", s_tcp_read_stop_in_cb},
    {"tcp_read_start_stop_repeat", s_tcp_read_start_stop_repeat},
    {"tcp_read_start_twice", s_tcp_read_start_twice},
    {"tcp_delayed_accept", s_tcp_delayed_accept},
    {"tcp_accept_nothing_pending", s_tcp_accept_nothing_pending},
    {"tcp_listen_twice", s_tcp_listen_twice},
    {"tcp_bind_errors", s_tcp_bind_errors},
    {"tcp_bind_port_out_of_range", s_tcp_bind_port_out_of_range},
    {"tcp_bind_addrinuse_deferred", s_tcp_bind_addrinuse_deferred},
    {"tcp_connect_refused", s_tcp_connect_refused},
    {"tcp_accept_into_busy_client", s_tcp_accept_into_busy_client},
    {"tcp_read_start_not_connected", s_tcp_read_start_not_connected},
    {"tcp_write_no_socket", s_tcp_write_no_socket},
    {"tcp_zero_byte_write", s_tcp_zero_byte_write},
    {"tcp_zero_buffer_write", s_tcp_zero_buffer_write},
    {"tcp_write_cb_depth", s_tcp_write_cb_depth},
    {"tcp_close_twice", s_tcp_close_twice},
    {"tcp_open_regular_file", s_tcp_open_regular_file},
    {"tcp_open_devnull", s_tcp_open_devnull},
    {"tcp_open_socket", s_tcp_open_socket},
    {"tcp_write_to_reset_peer", s_tcp_write_to_reset_peer},
    {"tcp_close_in_write_cb", s_tcp_close_in_write_cb},
    {"tcp_close_in_read_cb", s_tcp_close_in_read_cb},
    {"tcp_ops_on_closing_handle", s_tcp_ops_on_closing_handle},
    {"tcp_connect_twice", s_tcp_connect_twice},
    {"tcp_connect_after_refused", s_tcp_connect_after_refused},
    {"tcp_accept_into_pipe", s_tcp_accept_into_pipe},
    {NULL, NULL},
};
