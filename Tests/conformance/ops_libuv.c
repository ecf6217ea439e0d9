/*
 * ops_libuv.c — the reference backend: libuv 1.44 used directly, the way an expert writes
 * it (handles and requests malloc'd, write data copied into the request so the caller
 * may reuse its buffers, every request freed in its callback, handles freed in their
 * close callback). It adds no checks of its own: whatever libuv does (including an
 * assertion failure) is what the trace shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include "conf_ops.h"

struct cf_loop {
    uv_loop_t uv;
};

struct cf_h {
    char label[32];
    int kind;
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_tty_t tty;
        uv_timer_t timer;
    } u;
    cf_cb read_cb, conn_cb, close_cb, timer_cb;
    void *read_ud, *conn_ud, *close_ud, *timer_ud;
};

typedef struct req {
    union {
        uv_req_t req;
        uv_write_t write;
        uv_connect_t connect;
        uv_shutdown_t shutdown;
    } u;
    cf_h *h;
    cf_cb cb;
    void *ud;
    uv_buf_t *bufs; /* write: the copies */
} req;

static cf_h *wrap(uv_handle_t *h) { return (cf_h *)h->data; }

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

static cf_h *new_handle(const char *label, int kind) {
    cf_h *h = calloc(1, sizeof *h);
    if (h == NULL) abort();
    snprintf(h->label, sizeof h->label, "%s", label);
    h->kind = kind;
    h->u.handle.data = h;
    return h;
}

static const char *l_label(const cf_h *h) { return h->label; }

/* Loop ---------------------------------------------------------------------- */

static int l_loop_new(cf_loop **out) {
    CF_ENTER();
    cf_loop *l = calloc(1, sizeof *l);
    int rc = uv_loop_init(&l->uv);
    if (rc != 0) {
        free(l);
        l = NULL;
    }
    *out = l;
    return CF_LEAVE(rc);
}

static int l_loop_run(cf_loop *l, int mode) {
    uv_run_mode m = mode == CF_RUN_ONCE ? UV_RUN_ONCE : mode == CF_RUN_NOWAIT ? UV_RUN_NOWAIT
                                                                               : UV_RUN_DEFAULT;
    return uv_run(&l->uv, m);
}

static int l_loop_close(cf_loop *l) {
    CF_ENTER();
    return CF_LEAVE(uv_loop_close(&l->uv));
}

static void teardown_close_cb(uv_handle_t *uh) { free(wrap(uh)); }

static void teardown_walk(uv_handle_t *uh, void *arg) {
    if (uv_is_closing(uh)) return;
    (*(int *)arg)++;
    uv_close(uh, teardown_close_cb);
}

static int l_loop_teardown(cf_loop *l, int *close_rc) {
    int n = 0;
    uv_walk(&l->uv, teardown_walk, &n);
    uv_run(&l->uv, UV_RUN_DEFAULT);
    *close_rc = uv_loop_close(&l->uv);
    if (*close_rc == 0) free(l);
    return n;
}

static void l_loop_free(cf_loop *l) { free(l); }

/* Callbacks ----------------------------------------------------------------- */

static void on_close(uv_handle_t *uh) {
    cf_h *h = wrap(uh);
    emit("close", h, h->close_cb, h->close_ud, 0, NULL, 0);
    free(h);
}

static void on_alloc(uv_handle_t *uh, size_t suggested, uv_buf_t *buf) {
    (void)uh;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    cf_h *h = wrap((uv_handle_t *)s);
    if (nread > 0)
        emit("read", h, h->read_cb, h->read_ud, 0, buf->base, (size_t)nread);
    else if (nread < 0)
        emit("read", h, h->read_cb, h->read_ud, (int)nread, NULL, 0);
    /* nread == 0: libuv's "nothing this time" (EAGAIN), not an event. */
    free(buf->base);
}

static void on_connection(uv_stream_t *s, int status) {
    cf_h *h = wrap((uv_handle_t *)s);
    emit("connection", h, h->conn_cb, h->conn_ud, status, NULL, 0);
}

static void on_timer(uv_timer_t *t) {
    cf_h *h = wrap((uv_handle_t *)t);
    emit("timer", h, h->timer_cb, h->timer_ud, 0, NULL, 0);
}

static req *new_req(cf_h *h, cf_cb cb, void *ud) {
    req *r = calloc(1, sizeof *r);
    if (r == NULL) abort();
    r->h = h;
    r->cb = cb;
    r->ud = ud;
    r->u.req.data = r;
    return r;
}

static void finish_req(const char *name, req *r, int status) {
    emit(name, r->h, r->cb, r->ud, status, NULL, 0);
    free(r->bufs);
    free(r);
}

static void on_connect(uv_connect_t *c, int status) { finish_req("connect", c->data, status); }
static void on_write(uv_write_t *w, int status) { finish_req("write", w->data, status); }
static void on_shutdown(uv_shutdown_t *s, int status) { finish_req("shutdown", s->data, status); }

/* TCP ----------------------------------------------------------------------- */

static int l_tcp_new(cf_loop *l, const char *label, int family, cf_h **out) {
    CF_ENTER();
    cf_h *h = new_handle(label, CF_TCP);
    int rc = uv_tcp_init_ex(&l->uv, &h->u.tcp, family == 0 ? AF_UNSPEC : (unsigned)family);
    if (rc != 0) {
        free(h);
        h = NULL;
    }
    *out = h;
    return CF_LEAVE(rc);
}

static int l_tcp_open(cf_h *h, int fd) {
    CF_ENTER();
    return CF_LEAVE(uv_tcp_open(&h->u.tcp, fd));
}

static int make_addr(const char *ip, int port, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (strchr(ip, ':') != NULL) return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss);
    return uv_ip4_addr(ip, port, (struct sockaddr_in *)ss);
}

static int l_tcp_bind(cf_h *h, const char *ip, int port) {
    CF_ENTER();
    struct sockaddr_storage ss;
    int rc = make_addr(ip, port, &ss);
    if (rc == 0) rc = uv_tcp_bind(&h->u.tcp, (const struct sockaddr *)&ss, 0);
    return CF_LEAVE(rc);
}

static int l_tcp_connect(cf_h *h, const char *ip, int port, cf_cb cb, void *ud) {
    CF_ENTER();
    struct sockaddr_storage ss;
    int rc = make_addr(ip, port, &ss);
    if (rc == 0) {
        req *r = new_req(h, cb, ud);
        rc = uv_tcp_connect(&r->u.connect, &h->u.tcp, (const struct sockaddr *)&ss, on_connect);
        if (rc != 0) free(r);
    }
    return CF_LEAVE(rc);
}

static int l_tcp_sockname(cf_h *h, struct sockaddr_storage *ss) {
    int len = (int)sizeof *ss;
    return uv_tcp_getsockname(&h->u.tcp, (struct sockaddr *)ss, &len);
}

static int l_tcp_port(cf_h *h) {
    CF_ENTER();
    struct sockaddr_storage ss;
    int rc = l_tcp_sockname(h, &ss);
    if (rc == 0) rc = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return CF_LEAVE(rc);
}

static int l_tcp_sockname_ip(cf_h *h, char *ip, size_t n) {
    CF_ENTER();
    struct sockaddr_storage ss;
    int rc = l_tcp_sockname(h, &ss);
    if (rc == 0) {
        if (ss.ss_family == AF_INET6)
            rc = uv_ip6_name((struct sockaddr_in6 *)&ss, ip, n);
        else
            rc = uv_ip4_name((struct sockaddr_in *)&ss, ip, n);
    }
    return CF_LEAVE(rc);
}

/* Pipes --------------------------------------------------------------------- */

static int l_pipe_new(cf_loop *l, const char *label, int ipc, cf_h **out) {
    CF_ENTER();
    cf_h *h = new_handle(label, CF_PIPE);
    int rc = uv_pipe_init(&l->uv, &h->u.pipe, ipc);
    if (rc != 0) {
        free(h);
        h = NULL;
    }
    *out = h;
    return CF_LEAVE(rc);
}

static int l_pipe_open(cf_h *h, int fd) {
    CF_ENTER();
    return CF_LEAVE(uv_pipe_open(&h->u.pipe, fd));
}

static int l_pipe_bind(cf_h *h, const char *path) {
    CF_ENTER();
    return CF_LEAVE(uv_pipe_bind(&h->u.pipe, path));
}

static int l_pipe_connect(cf_h *h, const char *path, cf_cb cb, void *ud) {
    CF_ENTER();
    req *r = new_req(h, cb, ud);
    uv_pipe_connect(&r->u.connect, &h->u.pipe, path, on_connect); /* void in 1.44 */
    return CF_LEAVE(0);
}

static int l_pipe_pending_count(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uv_pipe_pending_count(&h->u.pipe));
}

static int l_pipe_pending_kind(cf_h *h) {
    CF_ENTER();
    uv_handle_type t = uv_pipe_pending_type(&h->u.pipe);
    return CF_LEAVE(t == UV_TCP ? CF_TCP : t == UV_NAMED_PIPE ? CF_PIPE : CF_NONE);
}

/* TTYs ---------------------------------------------------------------------- */

static int l_tty_new(cf_loop *l, const char *label, int fd, int readable, cf_h **out) {
    CF_ENTER();
    cf_h *h = new_handle(label, CF_TTY);
    int rc = uv_tty_init(&l->uv, &h->u.tty, fd, readable);
    if (rc != 0) {
        free(h);
        h = NULL;
    }
    *out = h;
    return CF_LEAVE(rc);
}

static int l_tty_set_mode(cf_h *h, int mode) {
    CF_ENTER();
    return CF_LEAVE(uv_tty_set_mode(&h->u.tty, mode == CF_TTY_RAW ? UV_TTY_MODE_RAW
                                                                  : UV_TTY_MODE_NORMAL));
}

static int l_tty_winsize(cf_h *h, int *w, int *hh) {
    CF_ENTER();
    return CF_LEAVE(uv_tty_get_winsize(&h->u.tty, w, hh));
}

/* Streams ------------------------------------------------------------------- */

static int l_listen(cf_h *h, int backlog, cf_cb cb, void *ud) {
    CF_ENTER();
    h->conn_cb = cb;
    h->conn_ud = ud;
    return CF_LEAVE(uv_listen(&h->u.stream, backlog, on_connection));
}

static int l_accept(cf_h *server, cf_h *client) {
    CF_ENTER();
    return CF_LEAVE(uv_accept(&server->u.stream, &client->u.stream));
}

static int l_read_start(cf_h *h, cf_cb cb, void *ud) {
    CF_ENTER();
    cf_cb old_cb = h->read_cb;
    void *old_ud = h->read_ud;
    h->read_cb = cb;
    h->read_ud = ud;
    int rc = uv_read_start(&h->u.stream, on_alloc, on_read);
    if (rc != 0) { /* libuv kept its state: so do we */
        h->read_cb = old_cb;
        h->read_ud = old_ud;
    }
    return CF_LEAVE(rc);
}

static int l_read_stop(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uv_read_stop(&h->u.stream));
}

/* Copies the caller's buffers into one allocation owned by the request. */
static uv_buf_t *copy_bufs(const cf_buf *bufs, size_t nbufs) {
    size_t total = 0;
    for (size_t i = 0; i < nbufs; i++) total += bufs[i].len;
    uv_buf_t *out = malloc(sizeof(uv_buf_t) * (nbufs + 1) + total + 1);
    if (out == NULL) abort();
    char *p = (char *)(out + nbufs + 1);
    for (size_t i = 0; i < nbufs; i++) {
        if (bufs[i].len) memcpy(p, bufs[i].base, bufs[i].len);
        out[i] = uv_buf_init(p, (unsigned int)bufs[i].len);
        p += bufs[i].len;
    }
    return out;
}

static int do_write(cf_h *h, const cf_buf *bufs, size_t nbufs, cf_h *send, cf_cb cb, void *ud) {
    req *r = new_req(h, cb, ud);
    r->bufs = copy_bufs(bufs, nbufs);
    int rc = uv_write2(&r->u.write, &h->u.stream, r->bufs, (unsigned int)nbufs,
                       send ? &send->u.stream : NULL, on_write);
    if (rc != 0) {
        free(r->bufs);
        free(r);
    }
    return rc;
}

static int l_write(cf_h *h, const cf_buf *bufs, size_t nbufs, cf_cb cb, void *ud) {
    CF_ENTER();
    return CF_LEAVE(do_write(h, bufs, nbufs, NULL, cb, ud));
}

static int l_write2(cf_h *h, const cf_buf *bufs, size_t nbufs, cf_h *send, cf_cb cb, void *ud) {
    CF_ENTER();
    return CF_LEAVE(do_write(h, bufs, nbufs, send, cb, ud));
}

static int l_try_write(cf_h *h, const cf_buf *bufs, size_t nbufs) {
    CF_ENTER();
    uv_buf_t b[64];
    if (nbufs > 64) abort();
    for (size_t i = 0; i < nbufs; i++) b[i] = uv_buf_init((char *)bufs[i].base, (unsigned)bufs[i].len);
    return CF_LEAVE(uv_try_write(&h->u.stream, b, (unsigned int)nbufs));
}

static int l_shutdown(cf_h *h, cf_cb cb, void *ud) {
    CF_ENTER();
    req *r = new_req(h, cb, ud);
    int rc = uv_shutdown(&r->u.shutdown, &h->u.stream, on_shutdown);
    if (rc != 0) free(r);
    return CF_LEAVE(rc);
}

static int l_is_readable(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uv_is_readable(&h->u.stream));
}

static int l_is_writable(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uv_is_writable(&h->u.stream));
}

static size_t l_write_queue_size(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uv_stream_get_write_queue_size(&h->u.stream));
}

/* Any handle ---------------------------------------------------------------- */

static int l_close(cf_h *h, cf_cb cb, void *ud) {
    CF_ENTER();
    h->close_cb = cb;
    h->close_ud = ud;
    uv_close(&h->u.handle, on_close); /* asserts if already closing */
    return CF_LEAVE(0);
}

static int l_is_active(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uv_is_active(&h->u.handle));
}

static int l_is_closing(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uv_is_closing(&h->u.handle));
}

static int l_fileno(cf_h *h) {
    CF_ENTER();
    uv_os_fd_t fd;
    int rc = uv_fileno(&h->u.handle, &fd);
    return CF_LEAVE(rc == 0 ? fd : rc);
}

/* Timers -------------------------------------------------------------------- */

static int l_timer_new(cf_loop *l, const char *label, cf_h **out) {
    CF_ENTER();
    cf_h *h = new_handle(label, CF_TIMER);
    int rc = uv_timer_init(&l->uv, &h->u.timer);
    if (rc != 0) {
        free(h);
        h = NULL;
    }
    *out = h;
    return CF_LEAVE(rc);
}

static int l_timer_start(cf_h *h, uint64_t timeout, uint64_t repeat, cf_cb cb, void *ud) {
    CF_ENTER();
    h->timer_cb = cb;
    h->timer_ud = ud;
    return CF_LEAVE(uv_timer_start(&h->u.timer, on_timer, timeout, repeat));
}

static int l_timer_stop(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uv_timer_stop(&h->u.timer));
}

static int l_timer_again(cf_h *h) {
    CF_ENTER();
    return CF_LEAVE(uv_timer_again(&h->u.timer));
}

const cf_ops cf_ops_libuv = {
    .name = "libuv",
    .loop_new = l_loop_new,
    .loop_run = l_loop_run,
    .loop_close = l_loop_close,
    .loop_teardown = l_loop_teardown,
    .loop_free = l_loop_free,
    .tcp_new = l_tcp_new,
    .tcp_open = l_tcp_open,
    .tcp_bind = l_tcp_bind,
    .tcp_connect = l_tcp_connect,
    .tcp_port = l_tcp_port,
    .tcp_sockname_ip = l_tcp_sockname_ip,
    .pipe_new = l_pipe_new,
    .pipe_open = l_pipe_open,
    .pipe_bind = l_pipe_bind,
    .pipe_connect = l_pipe_connect,
    .pipe_pending_count = l_pipe_pending_count,
    .pipe_pending_kind = l_pipe_pending_kind,
    .tty_new = l_tty_new,
    .tty_set_mode = l_tty_set_mode,
    .tty_winsize = l_tty_winsize,
    .listen = l_listen,
    .accept = l_accept,
    .read_start = l_read_start,
    .read_stop = l_read_stop,
    .write = l_write,
    .write2 = l_write2,
    .try_write = l_try_write,
    .shutdown = l_shutdown,
    .is_readable = l_is_readable,
    .is_writable = l_is_writable,
    .write_queue_size = l_write_queue_size,
    .close = l_close,
    .is_active = l_is_active,
    .is_closing = l_is_closing,
    .fileno = l_fileno,
    .label = l_label,
    .timer_new = l_timer_new,
    .timer_start = l_timer_start,
    .timer_stop = l_timer_stop,
    .timer_again = l_timer_again,
};
