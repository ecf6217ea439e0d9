/*
 * ops_uvs.c — the backend under test: the uvs_ API of libswiftuvstream (include/
 * swiftuvstream.h only). Like ops_libuv.c it adds no checks of its own; each operation is
 * the one uvs_ call, and each callback is translated into a cf_event. A handle's wrapper
 * is released (uvs_release) and freed right after its close callback, as in libuv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf_ops.h"
#include "swiftuvstream.h"

struct cf_loop {
    uvs_loop_t *uvs;
};

struct cf_h {
    char label[32];
    int kind;
    int closing; /* uvs_close was called successfully once: the close callback is ours */
    uvs_handle_t *h;
    cf_cb read_cb, conn_cb, close_cb, timer_cb;
    void *read_ud, *conn_ud, *close_ud, *timer_ud;
};

typedef struct req {
    cf_h *h;
    cf_cb cb;
    void *ud;
} req;

#define S(w) UVS_STREAM((w)->h)

static void emit(const char *name, cf_h *h, cf_cb cb, void *ud, int status, const char *data,
                 size_t len) {
    cf_callback_entered(name, h->label);
    if (cb == NULL) return;
    cf_event ev;
    ev.cb = name;
    ev.h = h;
    ev.status = status;
    ev.data = data;
    ev.len = len;
    ev.ud = ud;
    cb(&ev);
}

static cf_h *adopt(const char *label, int kind, uvs_handle_t *uh) {
    cf_h *h = calloc(1, sizeof *h);
    if (h == NULL) abort();
    snprintf(h->label, sizeof h->label, "%s", label);
    h->kind = kind;
    h->h = uh;
    uvs_handle_set_data(uh, h);
    return h;
}

static const char *u_label(const cf_h *h) { return h->label; }

/* Loop ---------------------------------------------------------------------- */

static int u_loop_new(cf_loop **out) {
    CF_ENTER();
    cf_loop *l = calloc(1, sizeof *l);
    int rc = uvs_loop_new(&l->uvs);
    if (rc != 0) {
        free(l);
        l = NULL;
    }
    *out = l;
    return CF_LEAVE(rc);
}

static int u_loop_run(cf_loop *l, int mode) {
    uvs_run_mode m = mode == CF_RUN_ONCE ? UVS_RUN_ONCE : mode == CF_RUN_NOWAIT ? UVS_RUN_NOWAIT
                                                                                 : UVS_RUN_DEFAULT;
    return uvs_loop_run(l->uvs, m);
}

static int u_loop_close(cf_loop *l) {
    CF_ENTER();
    return CF_LEAVE(uvs_loop_close(l->uvs));
}

static void teardown_close_cb(uvs_handle_t *uh, void *ud) {
    (void)ud;
    cf_h *h = uvs_handle_data(uh);
    uvs_release(uh);
    free(h);
}

static int u_loop_teardown(cf_loop *l, int *close_rc) {
    int n = uvs_loop_close_all(l->uvs, teardown_close_cb, NULL);
    uvs_loop_run(l->uvs, UVS_RUN_DEFAULT);
    *close_rc = uvs_loop_close(l->uvs);
    if (*close_rc == 0) {
        uvs_loop_release(l->uvs);
        free(l);
    }
    return n;
}

static void u_loop_free(cf_loop *l) {
    uvs_loop_release(l->uvs);
    free(l);
}

/* Callbacks ----------------------------------------------------------------- */

static void on_close(uvs_handle_t *uh, void *ud) {
    cf_h *h = ud;
    (void)uh;
    emit("close", h, h->close_cb, h->close_ud, 0, NULL, 0);
    uvs_release(h->h);
    free(h);
}

static void on_read(uvs_stream_t *s, int status, const char *data, size_t len, void *ud) {
    (void)s;
    cf_h *h = ud;
    emit("read", h, h->read_cb, h->read_ud, status, data, len);
}

static void on_connection(uvs_stream_t *s, int status, void *ud) {
    (void)s;
    cf_h *h = ud;
    emit("connection", h, h->conn_cb, h->conn_ud, status, NULL, 0);
}

static void on_timer(uvs_timer_t *t, void *ud) {
    (void)t;
    cf_h *h = ud;
    emit("timer", h, h->timer_cb, h->timer_ud, 0, NULL, 0);
}

static req *new_req(cf_h *h, cf_cb cb, void *ud) {
    req *r = calloc(1, sizeof *r);
    if (r == NULL) abort();
    r->h = h;
    r->cb = cb;
    r->ud = ud;
    return r;
}

static void finish_req(const char *name, req *r, int status) {
    emit(name, r->h, r->cb, r->ud, status, NULL, 0);
    free(r);
}

static void on_connect(uvs_stream_t *s, int status, void *ud) {
    (void)s;
    finish_req("connect", ud, status);
}
static void on_write(uvs_stream_t *s, int status, void *ud) {
    (void)s;
    finish_req("write", ud, status);
}
static void on_shutdown(uvs_stream_t *s, int status, void *ud) {
    (void)s;
    finish_req("shutdown", ud, status);
}

/* TCP ----------------------------------------------------------------------- */

static int u_tcp_new(cf_loop *l, const char *label, int family, cf_h **out) {
    CF_ENTER();
    uvs_stream_t *s = NULL;
    int rc = uvs_tcp_new(l->uvs, family, &s);
    *out = rc == 0 ? adopt(label, CF_TCP, UVS_HANDLE(s)) : NULL;
    return CF_LEAVE(rc);
}

static int u_tcp_open(cf_h *h, int fd) {
    CF_ENTER();
    return CF_LEAVE(uvs_tcp_open(S(h), fd));
}

static int u_tcp_bind(cf_h *h, const char *ip, int port) {
    CF_ENTER();
    return CF_LEAVE(uvs_tcp_bind(S(h), ip, port, 0));
}

static int u_tcp_connect(cf_h *h, const char *ip, int port, cf_cb cb, void *ud) {
    CF_ENTER();
    req *r = new_req(h, cb, ud);
    int rc = uvs_tcp_connect(S(h), ip, port, on_connect, r);
    if (rc != 0) free(r);
    return CF_LEAVE(rc);
}

static int u_tcp_port(cf_h *h) {
    CF_ENTER();
    char ip[UVS_IP_MAX];
    int port = 0;
    int rc = uvs_tcp_sockname(S(h), ip, sizeof ip, &port, NULL);
    return CF_LEAVE(rc == 0 ? port : rc);
}

static int u_tcp_sockname_ip(cf_h *h, char *ip, size_t n) {
    CF_ENTER();
    return CF_LEAVE(uvs_tcp_sockname(S(h), ip, n, NULL, NULL));
}

/* Pipes --------------------------------------------------------------------- */

static int u_pipe_new(cf_loop *l, const char *label, int ipc, cf_h **out) {
    CF_ENTER();
    uvs_stream_t *s = NULL;
    int rc = uvs_pipe_new(l->uvs, ipc, &s);
    *out = rc == 0 ? adopt(label, CF_PIPE, UVS_HANDLE(s)) : NULL;
    return CF_LEAVE(rc);
}

static int u_pipe_open(cf_h *h, int fd) {
    CF_ENTER();
    return CF_LEAVE(uvs_pipe_open(S(h), fd));
}

static int u_pipe_bind(cf_h *h, const char *path) {
    CF_ENTER();
    return CF_LEAVE(uvs_pipe_bind(S(h), path));
}

static int u_pipe_connect(cf_h *h, const char *path, cf_cb cb, void *ud) {
    CF_ENTER();
    req *r = new_req(h, cb, ud);
    int rc = uvs_pipe_connect(S(h), path, on_connect, r);
    if (rc != 0) free(r);
    return CF_LEAVE(rc);
}

static int u_pipe_pending_count(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_pipe_pending_count(S(h)));
}

static int u_pipe_pending_kind(cf_h *h) {
    CF_ENTER();
    int k = uvs_pipe_pending_kind(S(h));
    return CF_LEAVE(k == UVS_KIND_TCP ? CF_TCP : k == UVS_KIND_PIPE ? CF_PIPE : k < 0 ? k : CF_NONE);
}

/* TTYs ---------------------------------------------------------------------- */

static int u_tty_new(cf_loop *l, const char *label, int fd, int readable, cf_h **out) {
    CF_ENTER();
    uvs_stream_t *s = NULL;
    int rc = uvs_tty_new(l->uvs, fd, readable, &s);
    *out = rc == 0 ? adopt(label, CF_TTY, UVS_HANDLE(s)) : NULL;
    return CF_LEAVE(rc);
}

static int u_tty_set_mode(cf_h *h, int mode) {
    CF_ENTER();
    return CF_LEAVE(uvs_tty_set_mode(S(h), mode == CF_TTY_RAW ? UVS_TTY_MODE_RAW
                                                               : UVS_TTY_MODE_NORMAL));
}

static int u_tty_winsize(cf_h *h, int *w, int *hh) {
    CF_ENTER();
    return CF_LEAVE(uvs_tty_get_winsize(S(h), w, hh));
}

/* Streams ------------------------------------------------------------------- */

static int u_listen(cf_h *h, int backlog, cf_cb cb, void *ud) {
    CF_ENTER();
    h->conn_cb = cb;
    h->conn_ud = ud;
    return CF_LEAVE(uvs_listen(S(h), backlog, on_connection, h));
}

static int u_accept(cf_h *server, cf_h *client) {
    CF_ENTER();
    return CF_LEAVE(uvs_accept(S(server), S(client)));
}

static int u_read_start(cf_h *h, cf_cb cb, void *ud) {
    CF_ENTER();
    cf_cb old_cb = h->read_cb;
    void *old_ud = h->read_ud;
    h->read_cb = cb;
    h->read_ud = ud;
    int rc = uvs_read_start(S(h), on_read, h);
    if (rc != 0) {
        h->read_cb = old_cb;
        h->read_ud = old_ud;
    }
    return CF_LEAVE(rc);
}

static int u_read_stop(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_read_stop(S(h)));
}

static int do_write(cf_h *h, const cf_buf *bufs, size_t nbufs, cf_h *send, cf_cb cb, void *ud) {
    uvs_buf_t b[64];
    if (nbufs > 64) abort();
    for (size_t i = 0; i < nbufs; i++) {
        b[i].base = bufs[i].base;
        b[i].len = bufs[i].len;
    }
    req *r = new_req(h, cb, ud);
    int rc = send ? uvs_write2(S(h), b, nbufs, S(send), on_write, r)
                  : uvs_write(S(h), b, nbufs, on_write, r);
    if (rc != 0) free(r);
    return rc;
}

static int u_write(cf_h *h, const cf_buf *bufs, size_t nbufs, cf_cb cb, void *ud) {
    CF_ENTER();
    return CF_LEAVE(do_write(h, bufs, nbufs, NULL, cb, ud));
}

static int u_write2(cf_h *h, const cf_buf *bufs, size_t nbufs, cf_h *send, cf_cb cb, void *ud) {
    CF_ENTER();
    return CF_LEAVE(do_write(h, bufs, nbufs, send, cb, ud));
}

static int u_try_write(cf_h *h, const cf_buf *bufs, size_t nbufs) {
    CF_ENTER();
    uvs_buf_t b[64];
    if (nbufs > 64) abort();
    for (size_t i = 0; i < nbufs; i++) {
        b[i].base = bufs[i].base;
        b[i].len = bufs[i].len;
    }
    return CF_LEAVE(uvs_try_write(S(h), b, nbufs));
}

static int u_shutdown(cf_h *h, cf_cb cb, void *ud) {
    CF_ENTER();
    req *r = new_req(h, cb, ud);
    int rc = uvs_shutdown(S(h), on_shutdown, r);
    if (rc != 0) free(r);
    return CF_LEAVE(rc);
}

static int u_is_readable(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_is_readable(S(h)));
}

static int u_is_writable(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_is_writable(S(h)));
}

static size_t u_write_queue_size(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_write_queue_size(S(h)));
}

/* Any handle ---------------------------------------------------------------- */

static int u_close(cf_h *h, cf_cb cb, void *ud) {
    CF_ENTER();
    int first = !h->closing;
    int rc = uvs_close(h->h, on_close, h);
    if (rc == 0 && first) {
        /* A second close neither replaces nor adds a callback (header): keep the first. */
        h->closing = 1;
        h->close_cb = cb;
        h->close_ud = ud;
    }
    return CF_LEAVE(rc);
}

static int u_is_active(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_is_active(h->h));
}

static int u_is_closing(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_is_closing(h->h));
}

static int u_fileno(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_fileno(h->h));
}

/* Timers -------------------------------------------------------------------- */

static int u_timer_new(cf_loop *l, const char *label, cf_h **out) {
    CF_ENTER();
    uvs_timer_t *t = NULL;
    int rc = uvs_timer_new(l->uvs, &t);
    *out = rc == 0 ? adopt(label, CF_TIMER, UVS_HANDLE(t)) : NULL;
    return CF_LEAVE(rc);
}

static int u_timer_start(cf_h *h, uint64_t timeout, uint64_t repeat, cf_cb cb, void *ud) {
    CF_ENTER();
    h->timer_cb = cb;
    h->timer_ud = ud;
    return CF_LEAVE(uvs_timer_start(UVS_TIMER(h->h), timeout, repeat, on_timer, h));
}

static int u_timer_stop(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_timer_stop(UVS_TIMER(h->h)));
}

static int u_timer_again(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uvs_timer_again(UVS_TIMER(h->h)));
}

const cf_ops cf_ops_uvs = {
    .name = "uvs",
    .loop_new = u_loop_new,
    .loop_run = u_loop_run,
    .loop_close = u_loop_close,
    .loop_teardown = u_loop_teardown,
    .loop_free = u_loop_free,
    .tcp_new = u_tcp_new,
    .tcp_open = u_tcp_open,
    .tcp_bind = u_tcp_bind,
    .tcp_connect = u_tcp_connect,
    .tcp_port = u_tcp_port,
    .tcp_sockname_ip = u_tcp_sockname_ip,
    .pipe_new = u_pipe_new,
    .pipe_open = u_pipe_open,
    .pipe_bind = u_pipe_bind,
    .pipe_connect = u_pipe_connect,
    .pipe_pending_count = u_pipe_pending_count,
    .pipe_pending_kind = u_pipe_pending_kind,
    .tty_new = u_tty_new,
    .tty_set_mode = u_tty_set_mode,
    .tty_winsize = u_tty_winsize,
    .listen = u_listen,
    .accept = u_accept,
    .read_start = u_read_start,
    .read_stop = u_read_stop,
    .write = u_write,
    .write2 = u_write2,
    .try_write = u_try_write,
    .shutdown = u_shutdown,
    .is_readable = u_is_readable,
    .is_writable = u_is_writable,
    .write_queue_size = u_write_queue_size,
    .close = u_close,
    .is_active = u_is_active,
    .is_closing = u_is_closing,
    .fileno = u_fileno,
    .label = u_label,
    .timer_new = u_timer_new,
    .timer_start = u_timer_start,
    .timer_stop = u_timer_stop,
    .timer_again = u_timer_again,
};
