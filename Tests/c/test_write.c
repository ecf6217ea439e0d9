/* Writing (header section 5; CONFORMANCE 5-8 and 16). */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A client send buffer small enough that an 8 MiB write to a peer that does not
 * read must queue (the kernel holds at most ~2x256 KiB plus the peer's window),
 * large enough to avoid delayed-ACK stalls once the peer reads. */
static void small_sndbuf(uvs_stream_t *s) {
    ASSERT_OK(uvs_set_send_buffer_size(UVS_HANDLE(s), 256 * 1024));
}

/* CONFORMANCE 5: many writes of mixed sizes (two of 8 MiB, so they queue): each
 * callback exactly once, in submission order; the peer receives the bytes in order. */
static void test_write_order_many(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    enum { N = 100 };
    struct wrec w[N];
    size_t sizes[N], total = 0, off = 0;
    char *buf;
    int i;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    small_sndbuf(p.client);
    for (i = 0; i < N; i++) {
        sizes[i] = (i == 10 || i == 60) ? 8 * MIB : (size_t)(1 + (i * 7919) % 5000);
        total += sizes[i];
    }
    buf = xcalloc(1, 8 * MIB);
    wrec_init(w, N);
    for (i = 0; i < N; i++) {
        uvs_buf_t b;
        fill_pattern(buf, sizes[i], off);
        b.base = buf;
        b.len = sizes[i];
        in_call = 1;
        ASSERT_OK(uvs_write(p.client, &b, 1, wrec_cb, &w[i]));
        in_call = 0;
        off += sizes[i];
        if (i == 10) /* the peer does not read yet: most of 8 MiB must be queued */
            ASSERT(uvs_write_queue_size(p.client) > 0);
    }
    free(buf);
    ASSERT_STR_EQ(evlog(), "");
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    RUN_UNTIL(loop, r.len >= total && w[N - 1].calls > 0);
    ASSERT_PATTERN(r, total);
    expect_writes_ok_in_order(w, N);
    ASSERT_UEQ(uvs_write_queue_size(p.client), 0);
    reader_free(&r);
    finish_loop(loop);
}

/* Several buffers in one write are sent in order; the caller may reuse (here:
 * overwrite and free) its buffers as soon as uvs_write returns. */
static void test_write_buffers_reusable(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    const size_t big = 4 * MIB;
    char *b1 = xcalloc(1, big), *b2 = xcalloc(1, 3);
    uvs_buf_t bufs[2];
    int ws = NOT_CALLED;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    small_sndbuf(p.client);
    fill_pattern(b1, big, 0);
    fill_pattern(b2, 3, big);
    bufs[0].base = b1;
    bufs[0].len = big;
    bufs[1].base = b2;
    bufs[1].len = 3;
    ASSERT_OK(uvs_write(p.client, bufs, 2, status_cb, &ws));
    ASSERT(uvs_write_queue_size(p.client) > 0);
    memset(b1, 0xAA, big); /* scribble over the caller's memory, then free it */
    memset(b2, 0xAA, 3);
    free(b1);
    free(b2);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    expect_pattern_read(loop, &r, big + 3, &ws);
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 1: a small write on an idle stream is written at once, but its
 * callback still comes from the loop; a NULL callback is fine. */
static void test_write_callback_from_loop(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    struct wrec w = {0, 0, 0};
    uvs_buf_t b;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    b.base = "abc";
    b.len = 3;
    in_call = 1;
    ASSERT_OK(uvs_write(p.client, &b, 1, wrec_cb, &w));
    ASSERT_OK(uvs_write(p.client, &b, 1, NULL, NULL));
    in_call = 0;
    ASSERT_EQ(w.calls, 0);
    RUN_UNTIL(loop, r.len == 6 && w.calls == 1);
    ASSERT_OK(w.status);
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 7: zero buffers and zero-byte writes complete with 0, from the loop,
 * in order with the other writes; nothing is sent for them. */
static void test_write_zero_bytes(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    struct wrec w[5];
    uvs_buf_t b[3];

    memset(&r, 0, sizeof(r));
    wrec_init(w, 5);
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    b[0].base = "a";
    b[0].len = 1;
    b[1].base = "";
    b[1].len = 0;
    b[2].base = NULL; /* NULL with len 0 is allowed */
    b[2].len = 0;
    in_call = 1;
    ASSERT_OK(uvs_write(p.client, &b[0], 1, wrec_cb, &w[0]));
    ASSERT_OK(uvs_write(p.client, NULL, 0, wrec_cb, &w[1]));  /* zero buffers */
    ASSERT_OK(uvs_write(p.client, &b[1], 2, wrec_cb, &w[2])); /* two empty buffers */
    ASSERT_OK(uvs_write(p.client, b, 0, wrec_cb, &w[3]));     /* nbufs 0 */
    b[0].base = "z";
    ASSERT_OK(uvs_write(p.client, &b[0], 1, wrec_cb, &w[4]));
    in_call = 0;
    ASSERT_STR_EQ(evlog(), "");
    RUN_UNTIL(loop, w[4].calls == 1 && r.len == 2);
    ASSERT_STR_EQ(evlog(), "w0:0 w1:0 w2:0 w3:0 w4:0");
    ASSERT(memcmp(r.data, "az", 2) == 0);
    run_for(loop, 10);
    ASSERT_UEQ(r.len, 2);
    reader_free(&r);
    finish_loop(loop);
}

/* A zero-byte write queued behind a large write completes after it. */
static void test_write_zero_bytes_behind_queue(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    struct wrec w0 = {0, 0, 0}, w1 = {1, 0, 0};

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    small_sndbuf(p.client);
    write_zeros(p.client, 8 * MIB, wrec_cb, &w0);
    ASSERT_OK(uvs_write(p.client, NULL, 0, wrec_cb, &w1));
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    RUN_UNTIL(loop, w1.calls == 1);
    ASSERT_STR_EQ(evlog(), "w0:0 w1:0");
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 6: writes issued while the connect is pending are sent after it. */
static void test_write_during_connect(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL;
    struct accept_read acc;
    struct wrec w0 = {0, 0, 0}, w1 = {1, 0, 0};
    uvs_buf_t b;
    int port;

    memset(&acc, 0, sizeof(acc));
    port = make_server(loop, "127.0.0.1", &server, accept_read_cb, &acc);
    client = tcp_connect_to(loop, port, log_connect_cb, NULL);
    b.base = "abc";
    b.len = 3;
    in_call = 1;
    ASSERT_OK(uvs_write(client, &b, 1, wrec_cb, &w0));
    b.base = "def";
    ASSERT_OK(uvs_write(client, &b, 1, wrec_cb, &w1));
    in_call = 0;
    ASSERT_UEQ(uvs_write_queue_size(client), 6);
    /* try_write never jumps the queue: EAGAIN while the connect is pending. */
    ASSERT_ERR(uvs_try_write(client, &b, 1), UVS_EAGAIN);
    RUN_UNTIL(loop, acc.in.len == 6 && w1.calls == 1);
    ASSERT_STR_EQ(evlog(), "connect:0 w0:0 w1:0");
    ASSERT(memcmp(acc.in.data, "abcdef", 6) == 0);
    reader_free(&acc.in);
    finish_loop(loop);
}

/* ... or cancelled, in order, after the connect callback, when the connect fails. */
static void test_write_during_failed_connect(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *client = NULL;
    struct wrec w0 = {0, 0, 0}, w1 = {1, 0, 0};
    int ss = NOT_CALLED, fd, port;
    uvs_buf_t b;

    port = refused_port(&fd);
    client = tcp_connect_to(loop, port, log_connect_cb, NULL);
    b.base = "abc";
    b.len = 3;
    ASSERT_OK(uvs_write(client, &b, 1, wrec_cb, &w0));
    ASSERT_OK(uvs_write(client, &b, 1, wrec_cb, &w1));
    RUN_UNTIL(loop, w1.calls == 1);
    ASSERT_STR_EQ(evlog(), "connect:ECONNREFUSED w0:ECANCELED w1:ECANCELED");
    ASSERT_EQ(uvs_is_writable(client), 0);
    ASSERT_EQ(uvs_is_readable(client), 0);
    ASSERT_UEQ(uvs_write_queue_size(client), 0);
    ASSERT_ERR(uvs_write(client, &b, 1, status_cb, &ss), UVS_EPIPE);
    run_nowait(loop, 2);
    ASSERT_EQ(w0.calls + w1.calls, 2);
    ASSERT_EQ(ss, NOT_CALLED);
    close(fd);
    finish_loop(loop);
}

static void test_write_not_writable(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *lazy = NULL, *eager = NULL;
    int ws = NOT_CALLED;
    uvs_buf_t b;

    b.base = "x";
    b.len = 1;
    ASSERT_OK(uvs_tcp_new(loop, 0, &lazy));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &eager));
    ASSERT_ERR(uvs_write(lazy, &b, 1, status_cb, &ws), UVS_EPIPE);
    ASSERT_ERR(uvs_write(eager, &b, 1, status_cb, &ws), UVS_EPIPE);
    ASSERT_ERR(uvs_write(lazy, NULL, 0, status_cb, &ws), UVS_EPIPE);
    ASSERT_ERR(uvs_try_write(lazy, &b, 1), UVS_EPIPE);
    ASSERT_ERR(uvs_try_write(eager, &b, 1), UVS_EPIPE);
    ASSERT_ERR(uvs_shutdown(lazy, NULL, NULL), UVS_ENOTCONN);
    ASSERT_ERR(uvs_shutdown(eager, NULL, NULL), UVS_ENOTCONN);
    run_nowait(loop, 2);
    ASSERT_EQ(ws, NOT_CALLED);
    finish_loop(loop);
}

/* CONFORMANCE 8: try_write writes what it can at once; with writes queued it
 * returns EAGAIN and never reorders data. */
static void test_try_write(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    char *big = xcalloc(1, 8 * MIB);
    char tail[100];
    uvs_buf_t b[2];
    int ws = NOT_CALLED, n;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    small_sndbuf(p.client);
    /* Idle stream: written at once. Several buffers count together. */
    fill_pattern(big, 8 * MIB + 0, 0);
    b[0].base = big;
    b[0].len = 10;
    b[1].base = big + 10;
    b[1].len = 5;
    ASSERT_ERR(uvs_try_write(p.client, b, 2), 15);
    ASSERT_ERR(uvs_try_write(p.client, b, 0), 0);
    ASSERT_ERR(uvs_try_write(p.client, NULL, 0), 0);
    b[0].len = 0;
    ASSERT_ERR(uvs_try_write(p.client, b, 1), 0);
    /* Queue 8 MiB (the peer is not reading), then try_write must refuse. */
    b[0].base = big + 15;
    b[0].len = 8 * MIB - 15;
    ASSERT_OK(uvs_write(p.client, b, 1, status_cb, &ws));
    ASSERT(uvs_write_queue_size(p.client) > 0);
    fill_pattern(tail, sizeof(tail), 8 * MIB);
    b[0].base = tail;
    b[0].len = sizeof(tail);
    ASSERT_ERR(uvs_try_write(p.client, b, 1), UVS_EAGAIN);
    ASSERT_ERR(uvs_try_write(p.client, b, 1), UVS_EAGAIN);
    free(big);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_OK(ws);
    /* Queue empty again: try_write works and its bytes come after the queued ones. */
    ASSERT_UEQ(uvs_write_queue_size(p.client), 0);
    n = uvs_try_write(p.client, b, 1);
    ASSERT_GT(n, 0);
    if ((size_t)n < sizeof(tail)) {
        b[0].base = tail + n;
        b[0].len = sizeof(tail) - (size_t)n;
        ASSERT_OK(uvs_write(p.client, b, 1, NULL, NULL));
    }
    RUN_UNTIL(loop, r.len >= 8 * MIB + sizeof(tail));
    ASSERT_PATTERN(r, 8 * MIB + sizeof(tail));
    reader_free(&r);
    finish_loop(loop);
}

/* try_write with a full kernel buffer and nothing queued: EAGAIN (or a short count). */
static void test_try_write_until_full(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    char *chunk = xcalloc(1, 64 * 1024);
    uvs_buf_t b;
    size_t sent = 0;
    int r = 0, rounds = 0;

    make_tcp_pair(loop, &p);
    small_sndbuf(p.client);
    ASSERT_OK(uvs_set_receive_buffer_size(UVS_HANDLE(p.conn), 32 * 1024));
    b.base = chunk;
    b.len = 64 * 1024;
    while (rounds++ < 100000) {
        r = uvs_try_write(p.client, &b, 1);
        if (r < 0)
            break;
        ASSERT_LE(r, 64 * 1024);
        sent += (size_t)r;
    }
    ASSERT_ERR(r, UVS_EAGAIN);
    ASSERT(sent > 0);
    /* Nothing queued by try_write. */
    ASSERT_UEQ(uvs_write_queue_size(p.client), 0);
    free(chunk);
    finish_loop(loop);
}

/* CONFORMANCE 16: a write to a peer that closed never kills the process with
 * SIGPIPE: the write callback reports EPIPE or ECONNRESET; then the stream is no
 * longer writable. SIGPIPE is at its default (SIG_DFL) before the loop is made. */
struct pipe_writer {
    int done;
    int error;
    int writes;
};

static void pipe_write_cb(uvs_stream_t *s, int status, void *u) {
    struct pipe_writer *pw = u;
    uvs_buf_t b;

    if (pw->done)
        return;
    if (status != 0) {
        pw->done = 1;
        pw->error = status;
        return;
    }
    if (++pw->writes > 10000)
        FAIL("10000 writes to a closed peer all succeeded");
    b.base = "more data";
    b.len = 9;
    status = uvs_write(s, &b, 1, pipe_write_cb, pw);
    if (status != 0) { /* the stream may already know it is broken */
        pw->done = 1;
        pw->error = status;
    }
}

static void test_write_to_closed_peer_no_sigpipe(void) {
    uvs_loop_t *loop;
    struct tcp_pair p;
    struct pipe_writer pw = {0, 0, 0};
    int closed = 0;

    signal(SIGPIPE, SIG_DFL);
    loop = make_loop();
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_close(UVS_HANDLE(p.conn), flag_close_cb, &closed));
    RUN_UNTIL(loop, closed);
    pipe_write_cb(p.client, 0, &pw); /* starts the chain of writes */
    RUN_UNTIL(loop, pw.done);
    if (pw.error != UVS_EPIPE && pw.error != UVS_ECONNRESET)
        FAIL("write to a closed peer failed with %s, expected EPIPE or ECONNRESET",
             code_name(pw.error));
    ASSERT_EQ(uvs_is_writable(p.client), 0);
    finish_loop(loop);
}

/* CONFORMANCE 5: an I/O error arrives in a write callback; the stream is then not
 * writable; every write completes exactly once, in order (the ones still queued at
 * the latest when the stream is closed, before the close callback). */
static int first_error(const struct wrec *w, int n) {
    int i;
    for (i = 0; i < n; i++)
        if (w[i].calls > 0 && w[i].status < 0)
            return w[i].status;
    return 0;
}

static void test_write_error_completes_queue(void) {
    uvs_loop_t *loop;
    struct tcp_pair p;
    enum { N = 6 };
    struct wrec w[N];
    char *big = xcalloc(1, 4 * MIB);
    uvs_buf_t b;
    int i;

    signal(SIGPIPE, SIG_DFL);
    loop = make_loop();
    make_tcp_pair(loop, &p);
    small_sndbuf(p.client);
    b.base = big;
    b.len = 4 * MIB;
    wrec_init(w, N);
    for (i = 0; i < N; i++)
        ASSERT_OK(uvs_write(p.client, &b, 1, wrec_cb, &w[i]));
    free(big);
    /* The peer resets the connection with our data unread. */
    set_linger0(p.conn);
    ASSERT_OK(uvs_close(UVS_HANDLE(p.conn), NULL, NULL));
    RUN_UNTIL(loop, first_error(w, N) < 0);
    ASSERT_EQ(uvs_is_writable(p.client), 0);
    {
        int err = first_error(w, N);
        if (err != UVS_EPIPE && err != UVS_ECONNRESET)
            FAIL("the first write error is %s, expected EPIPE or ECONNRESET", code_name(err));
    }
    ASSERT_OK(uvs_close(UVS_HANDLE(p.client), log_closed_cb, NULL));
    RUN_UNTIL(loop, strstr(evlog(), "closed") != NULL);
    for (i = 0; i < N; i++)
        ASSERT_EQ(w[i].calls, 1);
    ASSERT(strstr(evlog(), "closed")[6] == '\0'); /* the close callback came last */
    /* In order; the last write cannot have succeeded. */
    {
        const char *log = evlog();
        char key[16];
        const char *prev = log;
        for (i = 0; i < N; i++) {
            const char *at;
            snprintf(key, sizeof(key), "w%d:", i);
            at = strstr(log, key);
            ASSERT_NOT_NULL(at);
            ASSERT(at >= prev);
            prev = at;
        }
    }
    ASSERT_LT(w[N - 1].status, 0);
    ASSERT_UEQ(uvs_write_queue_size(p.client), 0);
    finish_loop(loop);
}

/* Releasing the stream inside a write callback is safe, with more writes pending. */
static void release_in_write_cb(uvs_stream_t *s, int status, void *u) {
    struct wrec *w = u;
    w->calls++;
    w->status = status;
    ev("w%d:%s", w->index, code_name(status));
    if (w->index == 0)
        uvs_release(UVS_HANDLE(s));
}

static void test_write_release_in_callback(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct wrec w0 = {0, 0, 0}, w1 = {1, 0, 0};
    uvs_buf_t b;

    make_tcp_pair(loop, &p);
    small_sndbuf(p.client);
    b.base = "small";
    b.len = 5;
    ASSERT_OK(uvs_write(p.client, &b, 1, release_in_write_cb, &w0));
    write_zeros(p.client, 8 * MIB, release_in_write_cb, &w1);
    RUN_UNTIL(loop, w1.calls == 1);
    /* The release closed the stream: the queued 8 MiB write was cancelled. */
    ASSERT_STR_EQ(evlog(), "w0:0 w1:ECANCELED");
    finish_loop(loop);
}

/* One write of 3000 buffers (more than IOV_MAX): all of it, in order. */
static void test_write_many_buffers(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    enum { NB = 3000 };
    uvs_buf_t *bufs = xcalloc(NB, sizeof(uvs_buf_t));
    size_t total = 0, i;
    char *data;
    int ws = NOT_CALLED;

    memset(&r, 0, sizeof(r));
    for (i = 0; i < NB; i++)
        total += 1 + i % 13;
    data = xcalloc(1, total);
    fill_pattern(data, total, 0);
    total = 0;
    for (i = 0; i < NB; i++) {
        bufs[i].base = data + total;
        bufs[i].len = 1 + i % 13;
        total += bufs[i].len;
    }
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    ASSERT_OK(uvs_write(p.client, bufs, NB, status_cb, &ws));
    free(bufs);
    free(data);
    expect_pattern_read(loop, &r, total, &ws);
    reader_free(&r);
    finish_loop(loop);
}

/* "active (reading, listening, connecting, writing, ...)": queued writes make a
 * stream active and keep UVS_RUN_DEFAULT running until they are done. */
static void test_write_queued_is_active(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    int ws = NOT_CALLED;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    small_sndbuf(p.client);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(p.client)), 0);
    write_zeros(p.client, 8 * MIB, status_cb, &ws);
    ASSERT(uvs_write_queue_size(p.client) > 0);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(p.client)), 1);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_OK(ws);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(p.client)), 0);
    reader_free(&r);
    finish_loop(loop);
}

/* uvs_write_now: a write the kernel takes whole on an idle connected stream (zero bytes
 * too) finishes inside the call (1, its callback never runs); behind a queued write,
 * while connecting, or when the kernel does not take it all, it is an ordinary write
 * (0, one callback from the loop, in order). */
static void test_write_now(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    struct wrec w[5];
    uvs_stream_t *server = NULL, *client = NULL;
    struct accept_read acc;
    char *big = xcalloc(1, 8 * MIB);
    uvs_buf_t b;
    size_t total;
    int port;

    memset(&r, 0, sizeof(r));
    wrec_init(w, 5);
    make_tcp_pair(loop, &p);
    small_sndbuf(p.client);
    b.base = big;
    b.len = 100;
    fill_pattern(big, 100, 0);
    in_call = 1;
    ASSERT_EQ(uvs_write_now(p.client, &b, 1, wrec_cb, &w[0]), 1);
    ASSERT_EQ(uvs_write_now(p.client, NULL, 0, wrec_cb, &w[0]), 1);
    fill_pattern(big, 100, 100);
    ASSERT_EQ(uvs_write_now(p.client, &b, 1, NULL, NULL), 1);
    in_call = 0;
    ASSERT_UEQ(uvs_write_queue_size(p.client), 0);
    run_nowait(loop, 2);
    ASSERT_EQ(w[0].calls, 0);
    /* 8 MiB to a peer that does not read: the kernel takes part, the rest queues. */
    b.len = 8 * MIB;
    fill_pattern(big, 8 * MIB, 200);
    in_call = 1;
    ASSERT_EQ(uvs_write_now(p.client, &b, 1, wrec_cb, &w[1]), 0);
    ASSERT(uvs_write_queue_size(p.client) > 0);
    b.len = 10;
    fill_pattern(big, 10, 200 + 8 * MIB);
    ASSERT_EQ(uvs_write_now(p.client, &b, 1, wrec_cb, &w[2]), 0); /* behind the queue */
    ASSERT_EQ(uvs_write_now(p.client, NULL, 0, wrec_cb, &w[3]), 0);
    in_call = 0;
    total = 200 + 8 * MIB + 10;
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    RUN_UNTIL(loop, r.len >= total && w[3].calls == 1);
    ASSERT_PATTERN(r, total);
    ASSERT_STR_EQ(evlog(), "w1:0 w2:0 w3:0");
    ASSERT_EQ(w[0].calls, 0);
    reader_free(&r);

    /* While connecting: queued, reported after the connect. */
    ev_reset();
    memset(&acc, 0, sizeof(acc));
    port = make_server(loop, "127.0.0.1", &server, accept_read_cb, &acc);
    client = tcp_connect_to(loop, port, log_connect_cb, NULL);
    b.base = "abc";
    b.len = 3;
    ASSERT_EQ(uvs_write_now(client, &b, 1, wrec_cb, &w[4]), 0);
    RUN_UNTIL(loop, acc.in.len == 3 && w[4].calls == 1);
    ASSERT_STR_EQ(evlog(), "connect:0 w4:0");
    reader_free(&acc.in);
    free(big);
    finish_loop(loop);
}

/* A write callback still pending keeps uvs_loop_run(UVS_RUN_DEFAULT) running until it
 * is delivered, though no handle is active. */
static void test_write_pending_callback_keeps_loop_alive(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct wrec w = {0, 0, 0};
    int closed = 0;
    uvs_buf_t b;

    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_close(UVS_HANDLE(p.server), flag_close_cb, &closed));
    RUN_UNTIL(loop, closed);
    b.base = "x";
    b.len = 1;
    ASSERT_OK(uvs_write(p.client, &b, 1, wrec_cb, &w)); /* written at once */
    ASSERT_EQ(w.calls, 0);
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_EQ(w.calls, 1);
    ASSERT_OK(w.status);
    finish_loop(loop);
}

const struct uvs_test tests_write[] = {
    {"write_order_many", test_write_order_many},
    {"write_buffers_reusable", test_write_buffers_reusable},
    {"write_callback_from_loop", test_write_callback_from_loop},
    {"write_zero_bytes", test_write_zero_bytes},
    {"write_zero_bytes_behind_queue", test_write_zero_bytes_behind_queue},
    {"write_during_connect", test_write_during_connect},
    {"write_during_failed_connect", test_write_during_failed_connect},
    {"write_not_writable", test_write_not_writable},
    {"try_write", test_try_write},
    {"try_write_until_full", test_try_write_until_full},
    {"write_to_closed_peer_no_sigpipe", test_write_to_closed_peer_no_sigpipe},
    {"write_error_completes_queue", test_write_error_completes_queue},
    {"write_release_in_callback", test_write_release_in_callback},
    {"write_many_buffers", test_write_many_buffers},
    {"write_queued_is_active", test_write_queued_is_active},
    {"write_pending_callback_keeps_loop_alive", test_write_pending_callback_keeps_loop_alive},
    {"write_now", test_write_now},
    {0, 0},
};
