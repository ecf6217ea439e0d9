/* Reading (header section 5; CONFORMANCE 1-4). */
#include "harness.h"

#include <stdlib.h>

/* Writes `total` pattern bytes in writes of `chunk` bytes (the library copies what it
 * keeps, so the buffer is freed at once). */
static void write_pattern(uvs_stream_t *s, size_t total, size_t chunk, int *last_status) {
    size_t off = 0;
    char *buf = xcalloc(1, chunk);

    while (off < total) {
        uvs_buf_t b;
        size_t n = total - off < chunk ? total - off : chunk;
        fill_pattern(buf, n, off);
        b.base = buf;
        b.len = n;
        off += n;
        if (off == total && last_status != NULL) {
            *last_status = NOT_CALLED;
            ASSERT_OK(uvs_write(s, &b, 1, status_cb, last_status));
        } else {
            ASSERT_OK(uvs_write(s, &b, 1, NULL, NULL));
        }
    }
    free(buf);
}

/* CONFORMANCE 1: the read callback never runs inside read_start, even with data
 * already waiting in the kernel. */
static void test_read_not_sync_with_data_waiting(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    int ws;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    write_str(p.conn, "waiting", &ws);
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_OK(ws);
    in_call = 1; /* reader_cb asserts it is not called while this is set */
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &r));
    in_call = 0;
    ASSERT_EQ(r.chunks, 0);
    ASSERT_EQ(uvs_is_reading(p.client), 1);
    RUN_UNTIL(loop, r.len == 7);
    ASSERT(memcmp(r.data, "waiting", 7) == 0);
    ASSERT_EQ(r.bad_args, 0);
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 2: EOF once; afterwards not readable, still writable (half-close):
 * the client shuts down, the server reads EOF, then writes back and the client
 * receives it. */
static void test_read_eof_once_then_half_close(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct half h;
    struct reader back;
    int ws, ss = NOT_CALLED, ws2, ss2 = NOT_CALLED;

    memset(&h, 0, sizeof(h));
    memset(&back, 0, sizeof(back));
    h.eof_event = "server-eof";
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.conn, half_read, &h));
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &back));
    write_str(p.client, "ping", &ws);
    ASSERT_OK(uvs_shutdown(p.client, status_cb, &ss));
    /* Shut down: not writable, still readable. */
    ASSERT_EQ(uvs_is_writable(p.client), 0);
    ASSERT_EQ(uvs_is_readable(p.client), 1);
    RUN_UNTIL(loop, h.in.eofs == 1);
    ASSERT_OK(ws);
    ASSERT_UEQ(h.in.len, 4);
    ASSERT(memcmp(h.in.data, "ping", 4) == 0);
    ASSERT_EQ(h.eof_readable, 0);
    ASSERT_EQ(h.eof_writable, 1);
    ASSERT_EQ(h.eof_reading, 0);
    ASSERT_ERR(h.restart, UVS_ENOTCONN);
    ASSERT_EQ(uvs_is_readable(p.conn), 0);
    ASSERT_EQ(uvs_is_writable(p.conn), 1);

    /* The server answers after EOF, then shuts down its side too. */
    write_str(p.conn, "pong", &ws2);
    ASSERT_OK(uvs_shutdown(p.conn, status_cb, &ss2));
    RUN_UNTIL(loop, back.eofs == 1 && ss != NOT_CALLED && ss2 != NOT_CALLED);
    ASSERT_OK(ss);
    ASSERT_OK(ws2);
    ASSERT_OK(ss2);
    ASSERT_UEQ(back.len, 4);
    ASSERT(memcmp(back.data, "pong", 4) == 0);
    /* EOF exactly once on both sides, nothing after it. */
    run_for(loop, 20);
    ASSERT_EQ(h.in.eofs, 1);
    ASSERT_EQ(back.eofs, 1);
    ASSERT_EQ(h.in.after_end, 0);
    ASSERT_EQ(back.after_end, 0);
    ASSERT_EQ(h.in.errors + back.errors, 0);
    ASSERT_EQ(h.in.bad_args + back.bad_args, 0);
    ASSERT_STR_EQ(evlog(), "server-eof");
    /* Both directions are closed now. */
    ASSERT_EQ(uvs_is_readable(p.client), 0);
    ASSERT_EQ(uvs_is_writable(p.client), 0);
    ASSERT_EQ(uvs_is_writable(p.conn), 0);
    reader_free(&h.in);
    reader_free(&back);
    finish_loop(loop);
}

/* EOF that arrives while not reading is delivered (once) after read_start. */
static void test_read_eof_while_stopped(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    int ss = NOT_CALLED;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_shutdown(p.client, status_cb, &ss));
    RUN_UNTIL(loop, ss != NOT_CALLED);
    ASSERT_OK(ss);
    run_for(loop, 10);
    /* Not reading: nothing was consumed, still readable. */
    ASSERT_EQ(uvs_is_readable(p.conn), 1);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    RUN_UNTIL(loop, r.eofs == 1);
    ASSERT_EQ(r.chunks, 0);
    run_for(loop, 10);
    ASSERT_EQ(r.after_end, 0);
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 3: a read error is reported once; then neither readable nor writable.
 * The peer leaves our data unread and closes with SO_LINGER 0: the kernel resets
 * the connection (RST), so the next read fails with ECONNRESET. */
static void test_read_error_econnreset_once(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    int ws, ws2 = NOT_CALLED;
    uvs_buf_t b;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &r));
    write_str(p.client, "never read", &ws);
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_OK(ws);
    set_linger0(p.conn);
    ASSERT_OK(uvs_close(UVS_HANDLE(p.conn), NULL, NULL));
    expect_reset_once(loop, p.client, &r);
    /* Every stream operation now reports "not connected / not writable". */
    b.base = "x";
    b.len = 1;
    ASSERT_ERR(uvs_write(p.client, &b, 1, status_cb, &ws2), UVS_EPIPE);
    ASSERT_ERR(uvs_try_write(p.client, &b, 1), UVS_EPIPE);
    ASSERT_ERR(uvs_shutdown(p.client, NULL, NULL), UVS_ENOTCONN);
    ASSERT_OK(uvs_read_stop(p.client)); /* harmless */
    run_for(loop, 20);
    ASSERT_EQ(r.errors, 1);
    ASSERT_EQ(r.after_end, 0);
    ASSERT_EQ(ws2, NOT_CALLED); /* failed calls never call back */
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 4: read_stop inside the read callback stops further callbacks at once,
 * though more data is waiting; read_start resumes where it stopped. */
static void test_read_stop_in_callback(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct stopper st;
    const size_t total = 1024 * 1024;
    int ws;

    memset(&st, 0, sizeof(st));
    make_tcp_pair(loop, &p);
    write_pattern(p.conn, total, 64 * 1024, &ws);
    ASSERT_OK(uvs_read_start(p.client, stop_on_first_chunk, &st));
    expect_stop_on_first_chunk(loop, p.client, &st, total, 30);
    /* Resume with a plain reader: the rest arrives, in order, nothing lost. */
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &st.r));
    expect_pattern_read(loop, &st.r, total, &ws);
    reader_free(&st.r);
    finish_loop(loop);
}

/* read_start / read_stop repeated in any order; read_start while reading only
 * replaces the callback and user_data. */
static void test_read_start_stop_repeat(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader a, b;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_stop(p.client)); /* not reading: fine */
    ASSERT_OK(uvs_read_stop(p.client));
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &a));
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &b)); /* replaces */
    ASSERT_EQ(uvs_is_reading(p.client), 1);
    ASSERT_OK(uvs_read_stop(p.client));
    ASSERT_OK(uvs_read_stop(p.client));
    ASSERT_EQ(uvs_is_reading(p.client), 0);
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &a));
    ASSERT_OK(uvs_read_stop(p.client));
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &a));
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &b));
    write_str(p.conn, "one", NULL);
    RUN_UNTIL(loop, b.len == 3);
    ASSERT_UEQ(a.len, 0);
    ASSERT(memcmp(b.data, "one", 3) == 0);

    /* Stopped: data waits in the kernel. */
    ASSERT_OK(uvs_read_stop(p.client));
    write_str(p.conn, "two", NULL);
    run_for(loop, 20);
    ASSERT_UEQ(b.len, 3);
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &a));
    RUN_UNTIL(loop, a.len == 3);
    ASSERT(memcmp(a.data, "two", 3) == 0);
    ASSERT_UEQ(b.len, 3);
    reader_free(&a);
    reader_free(&b);
    finish_loop(loop);
}

/* read_start inside the read callback replaces the callback for the next chunk. */
struct swap {
    struct reader first, second;
};

static void second_cb(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct swap *sw = u;
    reader_cb(s, status, data, len, &sw->second);
}

static void first_cb(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct swap *sw = u;
    reader_cb(s, status, data, len, &sw->first);
    ASSERT_OK(uvs_read_start(s, second_cb, sw));
}

static void test_read_start_in_callback_replaces(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct swap sw;

    memset(&sw, 0, sizeof(sw));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.client, first_cb, &sw));
    write_str(p.conn, "1", NULL);
    RUN_UNTIL(loop, sw.first.len == 1);
    write_str(p.conn, "2", NULL);
    RUN_UNTIL(loop, sw.second.len == 1);
    ASSERT_UEQ(sw.first.len, 1);
    ASSERT_EQ(sw.first.data[0], '1');
    ASSERT_EQ(sw.second.data[0], '2');
    reader_free(&sw.first);
    reader_free(&sw.second);
    finish_loop(loop);
}

static void test_read_start_not_readable(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *lazy = NULL, *eager = NULL, *server = NULL;
    struct reader r;

    memset(&r, 0, sizeof(r));
    ASSERT_OK(uvs_tcp_new(loop, 0, &lazy));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &eager));
    make_server(loop, "127.0.0.1", &server, nop_connection_cb, NULL);
    ASSERT_ERR(uvs_read_start(lazy, reader_cb, &r), UVS_ENOTCONN);
    ASSERT_ERR(uvs_read_start(eager, reader_cb, &r), UVS_ENOTCONN);
    ASSERT_ERR(uvs_read_start(server, reader_cb, &r), UVS_ENOTCONN);
    ASSERT_ERR(uvs_read_start(lazy, NULL, &r), UVS_EINVAL);
    ASSERT_EQ(uvs_is_reading(lazy), 0);
    ASSERT_EQ(uvs_is_reading(server), 0);
    ASSERT_OK(uvs_read_stop(lazy));
    ASSERT_OK(uvs_read_stop(server));
    finish_loop(loop);
}

/* Reading may start while the connect is pending: data comes after the connect. */
static void accept_and_greet(uvs_stream_t *server, int status, void *u) {
    uvs_stream_t **conn = u;
    uvs_buf_t b;
    ASSERT_OK(status);
    ASSERT_OK(uvs_tcp_new(uvs_handle_loop(UVS_HANDLE(server)), 0, conn));
    ASSERT_OK(uvs_accept(server, *conn));
    b.base = "greetings";
    b.len = 9;
    ASSERT_OK(uvs_write(*conn, &b, 1, NULL, NULL));
}

static void log_reader_cb(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct reader *r = u;
    if (r->chunks == 0 && status == 0)
        ev("data");
    reader_cb(s, status, data, len, r);
}

static void test_read_start_while_connecting(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL, *conn = NULL;
    struct reader r;
    int port;

    memset(&r, 0, sizeof(r));
    port = make_server(loop, "127.0.0.1", &server, accept_and_greet, &conn);
    client = tcp_connect_to(loop, port, log_connect_cb, NULL);
    ASSERT_EQ(uvs_is_readable(client), 1);
    ASSERT_OK(uvs_read_start(client, log_reader_cb, &r));
    ASSERT_EQ(uvs_is_reading(client), 1);
    RUN_UNTIL(loop, r.len == 9);
    ASSERT_STR_EQ(evlog(), "connect:0 data");
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 12: releasing (or closing) the stream inside its read callback is safe,
 * even with more data pending. Under ASan this also checks for use after free. */
static void release_in_read(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    (void)data;
    (void)len;
    ev("read:%s", code_name(status));
    *(int *)u += 1;
    uvs_release(UVS_HANDLE(s));
}

static void test_read_release_in_callback(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    int calls = 0;

    make_tcp_pair(loop, &p);
    write_pattern(p.conn, 512 * 1024, 64 * 1024, NULL);
    ASSERT_OK(uvs_read_start(p.client, release_in_read, &calls));
    RUN_UNTIL(loop, calls > 0);
    run_for(loop, 20);
    ASSERT_EQ(calls, 1);
    ASSERT_STR_EQ(evlog(), "read:0");
    finish_loop(loop);
}

static void close_on_eof(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    (void)data;
    (void)len;
    (void)u;
    ev("read:%s", code_name(status));
    if (status < 0) {
        ASSERT_OK(uvs_close(UVS_HANDLE(s), log_closed_cb, NULL));
        ASSERT_OK(uvs_close(UVS_HANDLE(s), log_closed_cb, NULL));
        ASSERT_ERR(uvs_read_start(s, close_on_eof, NULL), UVS_ECLOSED);
    }
}

static void test_read_close_in_callback(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;

    make_tcp_pair(loop, &p);
    write_str(p.conn, "bye", NULL);
    ASSERT_OK(uvs_shutdown(p.conn, NULL, NULL));
    ASSERT_OK(uvs_read_start(p.client, close_on_eof, NULL));
    RUN_UNTIL(loop, strstr(evlog(), "closed") != NULL);
    run_for(loop, 10);
    ASSERT_STR_EQ(evlog(), "read:0 read:EOF closed");
    finish_loop(loop);
}

/* 8 MiB arrive complete and in order. */
static void test_read_large_transfer(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    const size_t total = 8u * 1024 * 1024;
    int ws;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &r));
    write_pattern(p.conn, total, total, &ws);
    ASSERT_OK(uvs_shutdown(p.conn, NULL, NULL));
    RUN_UNTIL(loop, r.eofs == 1);
    ASSERT_PATTERN(r, total);
    ASSERT_OK(ws);
    ASSERT_EQ(r.bad_args, 0);
    reader_free(&r);
    finish_loop(loop);
}

const struct uvs_test tests_read[] = {
    {"read_not_sync_with_data_waiting", test_read_not_sync_with_data_waiting},
    {"read_eof_once_then_half_close", test_read_eof_once_then_half_close},
    {"read_eof_while_stopped", test_read_eof_while_stopped},
    {"read_error_econnreset_once", test_read_error_econnreset_once},
    {"read_stop_in_callback", test_read_stop_in_callback},
    {"read_start_stop_repeat", test_read_start_stop_repeat},
    {"read_start_in_callback_replaces", test_read_start_in_callback_replaces},
    {"read_start_not_readable", test_read_start_not_readable},
    {"read_start_while_connecting", test_read_start_while_connecting},
    {"read_release_in_callback", test_read_release_in_callback},
    {"read_close_in_callback", test_read_close_in_callback},
    {"read_large_transfer", test_read_large_transfer},
    {0, 0},
};
