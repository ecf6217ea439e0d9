/*
 * helpers.c — callbacks, fixtures and small helpers shared by several test files
 * (declared in harness.h, section "Shared test helpers"). Unlike runner.c this file
 * sees the harness's handle-owning wrappers, as the test files do: the handles it
 * makes are returned by finish_loop().
 */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* ======================================================================== */
/* Callbacks that log to the event log                                       */
/* ======================================================================== */

void log_connect_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    (void)u;
    ASSERT_NOT_SYNC();
    ev("connect:%s", code_name(status));
}

void log_write_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    ASSERT_NOT_SYNC();
    ev("write%s:%s", (const char *)u, code_name(status));
}

void log_shutdown_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    (void)u;
    ASSERT_NOT_SYNC();
    ev("shutdown:%s", code_name(status));
}

void log_close_cb(uvs_handle_t *h, void *u) {
    (void)h;
    ASSERT_NOT_SYNC();
    ev("close%s", u ? (const char *)u : "");
}

void log_closed_cb(uvs_handle_t *h, void *u) {
    (void)h;
    (void)u;
    ev("closed");
}

/* ======================================================================== */
/* Callbacks that set or count, and callbacks that do nothing                */
/* ======================================================================== */

void flag_close_cb(uvs_handle_t *h, void *u) {
    (void)h;
    *(int *)u = 1;
}

void count_close_cb(uvs_handle_t *h, void *u) {
    (void)h;
    ASSERT_NOT_SYNC();
    (*(int *)u)++;
}

void nop_connection_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    (void)status;
    (void)u;
}

void nop_timer_cb(uvs_timer_t *t, void *u) {
    (void)t;
    (void)u;
}

void stop_loop_cb(uvs_loop_t *loop, void *u) {
    (void)u;
    ASSERT_OK(uvs_loop_stop(loop));
}

/* ======================================================================== */
/* Writing                                                                   */
/* ======================================================================== */

void write_str(uvs_stream_t *s, const char *text, int *status) {
    uvs_buf_t b;
    b.base = text;
    b.len = strlen(text);
    if (status != NULL)
        *status = NOT_CALLED;
    ASSERT_OK(uvs_write(s, &b, 1, status ? status_cb : NULL, status));
}

/* Writes len bytes from a temporary buffer: zeros, or (pattern) the pattern bytes of
 * stream offsets off.. */
static void write_temporary(uvs_stream_t *s, int pattern, size_t off, size_t len, uvs_write_cb cb,
                            void *u) {
    char *buf = xcalloc(1, len ? len : 1);
    uvs_buf_t b;
    if (pattern)
        fill_pattern(buf, len, off);
    b.base = buf;
    b.len = len;
    ASSERT_OK(uvs_write(s, &b, 1, cb, u));
    free(buf);
}

void write_pattern_at(uvs_stream_t *s, size_t off, size_t len, uvs_write_cb cb, void *u) {
    write_temporary(s, 1, off, len, cb, u);
}

void write_zeros(uvs_stream_t *s, size_t len, uvs_write_cb cb, void *u) {
    write_temporary(s, 0, 0, len, cb, u);
}

void wrec_init(struct wrec *w, int n) {
    int i;
    for (i = 0; i < n; i++) {
        w[i].index = i;
        w[i].calls = 0;
    }
}

void wrec_cb(uvs_stream_t *s, int status, void *u) {
    struct wrec *w = u;
    (void)s;
    ASSERT_NOT_SYNC();
    w->calls++;
    w->status = status;
    ev("w%d:%s", w->index, code_name(status));
}

void expect_writes_ok_in_order(const struct wrec *w, int n) {
    char expect[4096];
    size_t elen = 0;
    int i;

    for (i = 0; i < n; i++) {
        ASSERT_EQ(w[i].calls, 1);
        ASSERT_OK(w[i].status);
        elen += (size_t)snprintf(expect + elen, sizeof(expect) - elen, "%sw%d:0", i ? " " : "", i);
        ASSERT_LT(elen, sizeof(expect));
    }
    ASSERT_STR_EQ(evlog(), expect);
}

/* ======================================================================== */
/* Reading                                                                   */
/* ======================================================================== */

void echo_back_cb(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct reader *r = u;
    reader_cb(s, status, data, len, r);
    if (status == 0) {
        uvs_buf_t b;
        b.base = data;
        b.len = len;
        ASSERT_OK(uvs_write(s, &b, 1, NULL, NULL));
    }
}

void half_read(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct half *h = u;
    reader_cb(s, status, data, len, &h->in);
    if (status == UVS_EOF) {
        h->eof_readable = uvs_is_readable(s);
        h->eof_writable = uvs_is_writable(s);
        h->eof_reading = uvs_is_reading(s);
        h->restart = uvs_read_start(s, half_read, h);
        if (h->eof_event != NULL)
            ev("%s", h->eof_event);
    }
}

void stop_on_first_chunk(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct stopper *st = u;
    reader_cb(s, status, data, len, &st->r);
    ASSERT_OK(uvs_read_stop(s));
    ASSERT_OK(uvs_read_stop(s));
    st->reading_after_stop = uvs_is_reading(s);
}

void expect_stop_on_first_chunk(uvs_loop_t *loop, uvs_stream_t *s, struct stopper *st,
                                size_t total, uint64_t ms) {
    RUN_UNTIL(loop, st->r.chunks == 1);
    ASSERT_EQ(st->reading_after_stop, 0);
    ASSERT_EQ(uvs_is_reading(s), 0);
    ASSERT_EQ(uvs_is_readable(s), 1);
    run_for(loop, ms);
    ASSERT_EQ(st->r.chunks, 1);
    ASSERT_LT(st->r.len, total);
}

void expect_pattern_read(uvs_loop_t *loop, struct reader *r, size_t total, const int *ws) {
    RUN_UNTIL(loop, r->len >= total && *ws != NOT_CALLED);
    ASSERT_OK(*ws);
    ASSERT_PATTERN((*r), total);
}

void expect_reset_once(uvs_loop_t *loop, uvs_stream_t *s, struct reader *r) {
    RUN_UNTIL(loop, r->errors + r->eofs > 0);
    ASSERT_EQ(r->eofs, 0);
    ASSERT_EQ(r->errors, 1);
    ASSERT_ERR(r->last_error, UVS_ECONNRESET);
    ASSERT_EQ(r->bad_args, 0);
    ASSERT_EQ(uvs_is_readable(s), 0);
    ASSERT_EQ(uvs_is_writable(s), 0);
    ASSERT_EQ(uvs_is_reading(s), 0);
    ASSERT_ERR(uvs_read_start(s, reader_cb, r), UVS_ENOTCONN);
}

/* ======================================================================== */
/* Timers                                                                    */
/* ======================================================================== */

uvs_timer_t *start_timer(uvs_loop_t *loop, uint64_t timeout, uint64_t repeat, uvs_timer_cb cb,
                         void *user_data) {
    uvs_timer_t *t = NULL;
    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_OK(uvs_timer_start(t, timeout, repeat, cb, user_data));
    return t;
}

/* ======================================================================== */
/* TCP                                                                       */
/* ======================================================================== */

void accept_into_cb(uvs_stream_t *server, int status, void *u) {
    uvs_stream_t **conn = u;
    ASSERT_OK(status);
    ASSERT_OK(uvs_tcp_new(uvs_handle_loop(UVS_HANDLE(server)), 0, conn));
    ASSERT_OK(uvs_accept(server, *conn));
}

void accept_read_cb(uvs_stream_t *server, int status, void *u) {
    struct accept_read *a = u;
    ASSERT_OK(status);
    ASSERT_NULL(a->conn);
    ASSERT_OK(uvs_tcp_new(uvs_handle_loop(UVS_HANDLE(server)), 0, &a->conn));
    ASSERT_OK(uvs_accept(server, a->conn));
    ASSERT_OK(uvs_read_start(a->conn, reader_cb, &a->in));
}

uvs_stream_t *tcp_connect_to(uvs_loop_t *loop, int port, uvs_connect_cb cb, void *user_data) {
    uvs_stream_t *client = NULL;
    ASSERT_OK(uvs_tcp_new(loop, 0, &client));
    ASSERT_OK(uvs_tcp_connect(client, "127.0.0.1", port, cb, user_data));
    return client;
}

void set_linger0(uvs_stream_t *s) {
    struct linger lg;
    int fd = uvs_fileno(UVS_HANDLE(s));
    ASSERT_GE(fd, 0);
    lg.l_onoff = 1;
    lg.l_linger = 0;
    ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
}

/* ======================================================================== */
/* Terminals and raw descriptors                                             */
/* ======================================================================== */

void open_pty_or_skip(int *master, int *slave) {
    if (openpty(master, slave, NULL, NULL, NULL) != 0)
        SKIP("openpty: %s", strerror(errno));
}

void read_exactly(int fd, char *buf, size_t n, const char *from) {
    size_t got = 0;
    while (got < n) {
        struct pollfd pfd;
        ssize_t r;
        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, UVS_TEST_GUARD_MS) != 1)
            FAIL("no data%s after %d ms (%zu of %zu bytes)", from, UVS_TEST_GUARD_MS, got, n);
        r = read(fd, buf + got, n - got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            FAIL("read%s: %s", from, r < 0 ? strerror(errno) : "EOF");
        got += (size_t)r;
    }
}
