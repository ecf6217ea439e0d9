/*
 * Bad input (CONFORMANCE 18): every function of the header, in header order, given
 * NULL, a closing or closed handle (or loop), or the wrong kind of handle (a timer
 * passed as a stream, a stream passed as a timer, a loop cast to a handle), returns
 * its documented error or neutral value, and never crashes. Afterwards the objects
 * that were misused still work.
 */
#include "harness.h"

#include <fcntl.h>
#include <limits.h>
#include <pty.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* ---- fixtures ---- */

struct fx {
    uvs_loop_t *loop;
    struct tcp_pair pair;   /* pair.client: an open, connected stream */
    uvs_stream_t *fresh;    /* open, family 0 */
    uvs_timer_t *timer;     /* open */
    uvs_stream_t *ctcp;     /* closing, then closed */
    uvs_timer_t *ctimer;    /* closing, then closed */
    uvs_handle_t *as_loop;  /* the loop cast to a handle */
    int closed_cbs;
};

static void count_close(uvs_handle_t *h, void *u) {
    (void)h;
    ((struct fx *)u)->closed_cbs++;
}

static void setup(struct fx *f) {
    memset(f, 0, sizeof(*f));
    f->loop = make_loop();
    make_tcp_pair(f->loop, &f->pair);
    ASSERT_OK(uvs_tcp_new(f->loop, 0, &f->fresh));
    ASSERT_OK(uvs_timer_new(f->loop, &f->timer));
    ASSERT_OK(uvs_tcp_new(f->loop, AF_INET, &f->ctcp));
    ASSERT_OK(uvs_timer_new(f->loop, &f->ctimer));
    ASSERT_OK(uvs_close(UVS_HANDLE(f->ctcp), count_close, f));
    ASSERT_OK(uvs_close(UVS_HANDLE(f->ctimer), count_close, f));
    f->as_loop = (uvs_handle_t *)f->loop;
}

/* Lets the closing handles finish closing. */
static void settle(struct fx *f) {
    RUN_UNTIL(f->loop, f->closed_cbs == 2);
}

/* Runs check(f) while the closing handles close, then again once they are closed. */
static void check_closing_then_closed(struct fx *f, void (*check)(struct fx *)) {
    check(f); /* closing */
    settle(f);
    check(f); /* closed */
}

static int timer_fired;
static void fired_cb(uvs_timer_t *t, void *u) {
    (void)t;
    (void)u;
    timer_fired = 1;
}

/* The misused objects still work: the timer fires, the stream carries data. */
static void check_still_works(struct fx *f) {
    struct reader r;
    uvs_buf_t b;

    memset(&r, 0, sizeof(r));
    timer_fired = 0;
    ASSERT_OK(uvs_timer_start(f->timer, 1, 0, fired_cb, NULL));
    ASSERT_OK(uvs_read_start(f->pair.conn, reader_cb, &r));
    b.base = "alive";
    b.len = 5;
    ASSERT_OK(uvs_write(f->pair.client, &b, 1, NULL, NULL));
    RUN_UNTIL(f->loop, timer_fired && r.len >= 5);
    ASSERT_UEQ(r.len, 5);
    ASSERT(memcmp(r.data, "alive", 5) == 0);
    ASSERT_EQ(uvs_loop_alive(f->loop), 1);
    reader_free(&r);
}

static void teardown(struct fx *f) {
    check_still_works(f);
    finish_loop(f->loop);
}

/* Callbacks that must never run (a failed call never calls back). */
static void no_close_cb(uvs_handle_t *h, void *u) {
    (void)h;
    (void)u;
    FAIL("close callback of a failed call");
}
static void no_post_cb(uvs_loop_t *l, void *u) {
    (void)l;
    (void)u;
    FAIL("posted function of a failed post");
}
static void no_conn_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    (void)status;
    (void)u;
    FAIL("connection callback of a failed listen");
}
static void no_read_cb(uvs_stream_t *s, int status, const char *d, size_t l, void *u) {
    (void)s;
    (void)status;
    (void)d;
    (void)l;
    (void)u;
    FAIL("read callback of a failed read_start");
}
static void no_req_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    (void)status;
    (void)u;
    FAIL("request callback of a failed call");
}
static void no_timer_cb(uvs_timer_t *t, void *u) {
    (void)t;
    (void)u;
    FAIL("timer callback of a failed start");
}

/* ======================================================================== */
/* 1-2. Version and errors: no arguments to get wrong, any int is fine.      */
/* ======================================================================== */

static void test_badinput_version_and_errors(void) {
    ASSERT_NOT_NULL(uvs_version_string());
    ASSERT_NOT_NULL(uvs_libuv_version_string());
    ASSERT_NE(uvs_version(), 0xffffffffu);
    ASSERT_NOT_NULL(uvs_strerror(INT_MIN));
    ASSERT_NOT_NULL(uvs_strerror(INT_MAX));
    ASSERT_NOT_NULL(uvs_err_name(INT_MIN));
    ASSERT_NOT_NULL(uvs_err_name(INT_MAX));
    ASSERT_NOT_NULL(uvs_strerror(0));
    ASSERT_NOT_NULL(uvs_err_name(0));
}

/* ======================================================================== */
/* 3. Loop                                                                   */
/* ======================================================================== */

static void test_badinput_loop_null(void) {
    uvs_loop_t *keep = make_loop();

    ASSERT_ERR(uvs_loop_new(NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_new_with_buffer_size(65536, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_run(NULL, UVS_RUN_DEFAULT), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_run(NULL, UVS_RUN_NOWAIT), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_run(keep, (uvs_run_mode)42), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_stop(NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_alive(NULL), UVS_EINVAL);
    ASSERT_UEQ(uvs_loop_now(NULL), 0);
    ASSERT_ERR(uvs_loop_update_time(NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_handle_count(NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_close_all(NULL, no_close_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_close(NULL), UVS_EINVAL);
    uvs_loop_release(NULL);
    ASSERT_ERR(uvs_loop_post(NULL, no_post_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_post(keep, NULL, NULL), UVS_EINVAL);
    /* The failed post left nothing waiting. */
    ASSERT_EQ(uvs_loop_alive(keep), 0);
    ASSERT_ERR(uvs_loop_run(keep, UVS_RUN_NOWAIT), 0);
    finish_loop(keep);
}

static void test_badinput_loop_closed(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = (uvs_stream_t *)&loop;
    uvs_timer_t *t = NULL;

    ASSERT_OK(uvs_loop_close(loop));
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), UVS_ECLOSED);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_NOWAIT), UVS_ECLOSED);
    ASSERT_ERR(uvs_loop_stop(loop), UVS_ECLOSED);
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    ASSERT_UEQ(uvs_loop_now(loop), 0);
    ASSERT_ERR(uvs_loop_update_time(loop), UVS_ECLOSED);
    ASSERT_EQ(uvs_loop_handle_count(loop), 0);
    ASSERT_ERR(uvs_loop_close_all(loop, no_close_cb, NULL), UVS_ECLOSED);
    ASSERT_OK(uvs_loop_close(loop));
    ASSERT_ERR(uvs_loop_post(loop, no_post_cb, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_tcp_new(loop, 0, &s), UVS_ECLOSED);
    ASSERT_NULL(s);
    ASSERT_ERR(uvs_tcp_new(loop, AF_INET, &s), UVS_ECLOSED);
    ASSERT_ERR(uvs_timer_new(loop, &t), UVS_ECLOSED);
    uvs_loop_release(loop);
}

/* ======================================================================== */
/* 4. Handles                                                                */
/* ======================================================================== */

/* The handle functions that need a socket, given h, which has none: code. */
static void socket_calls_fail(uvs_handle_t *h, int code) {
    ASSERT_ERR(uvs_fileno(h), code);
    ASSERT_ERR(uvs_send_buffer_size(h), code);
    ASSERT_ERR(uvs_set_send_buffer_size(h, 65536), code);
    ASSERT_ERR(uvs_receive_buffer_size(h), code);
    ASSERT_ERR(uvs_set_receive_buffer_size(h, 65536), code);
}

/* The other handle functions given h, which is not a handle (NULL, or a loop cast to
 * one): EINVAL, or NULL from the pointer queries. */
static void handle_calls_not_a_handle(uvs_handle_t *h) {
    int x;

    ASSERT_ERR(uvs_handle_kind(h), UVS_EINVAL);
    ASSERT_NULL(uvs_handle_loop(h));
    ASSERT_ERR(uvs_handle_set_data(h, &x), UVS_EINVAL);
    ASSERT_NULL(uvs_handle_data(h));
    ASSERT_ERR(uvs_is_closing(h), UVS_EINVAL);
    ASSERT_ERR(uvs_is_active(h), UVS_EINVAL);
    ASSERT_ERR(uvs_ref(h), UVS_EINVAL);
    ASSERT_ERR(uvs_unref(h), UVS_EINVAL);
    ASSERT_ERR(uvs_has_ref(h), UVS_EINVAL);
    socket_calls_fail(h, UVS_EINVAL);
}

static void handles_on_closed(struct fx *f) {
    uvs_handle_t *c[2];
    int i;

    c[0] = UVS_HANDLE(f->ctcp);
    c[1] = UVS_HANDLE(f->ctimer);
    for (i = 0; i < 2; i++) {
        ASSERT_OK(uvs_close(c[i], no_close_cb, NULL)); /* idempotent, no new callback */
        ASSERT_EQ(uvs_handle_kind(c[i]), i == 0 ? UVS_KIND_TCP : UVS_KIND_TIMER);
        ASSERT_PTR_EQ(uvs_handle_loop(c[i]), f->loop);
        ASSERT_OK(uvs_handle_set_data(c[i], f));
        ASSERT_PTR_EQ(uvs_handle_data(c[i]), f);
        ASSERT_EQ(uvs_is_closing(c[i]), 1);
        ASSERT_EQ(uvs_is_active(c[i]), 0);
        ASSERT_ERR(uvs_ref(c[i]), UVS_ECLOSED);
        ASSERT_ERR(uvs_unref(c[i]), UVS_ECLOSED);
        ASSERT_EQ(uvs_has_ref(c[i]), 0);
    }
    socket_calls_fail(c[0], UVS_ECLOSED);
}

/* Header "Pointers": a pointer the library did not make gives UVS_EINVAL (queries:
 * a neutral value), whatever it is passed as. Here: zeroed memory that was never an
 * object of the library, and a timer passed as a loop. */
static void test_badinput_foreign_pointers(void) {
    static union {
        char bytes[4096];
        void *p;
        long double ld;
    } fake;
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    uvs_handle_t *H = (uvs_handle_t *)&fake;
    uvs_stream_t *S = (uvs_stream_t *)&fake, *out = NULL;
    uvs_loop_t *FL = (uvs_loop_t *)&fake, *TL;
    uvs_buf_t b;
    char ip[UVS_IP_MAX];

    ASSERT_OK(uvs_timer_new(loop, &t));
    TL = (uvs_loop_t *)t;
    b.base = "x";
    b.len = 1;
    /* as a handle */
    ASSERT_ERR(uvs_close(H, no_close_cb, NULL), UVS_EINVAL);
    uvs_release(H);
    ASSERT_ERR(uvs_handle_kind(H), UVS_EINVAL);
    ASSERT_NULL(uvs_handle_loop(H));
    ASSERT_ERR(uvs_handle_set_data(H, &b), UVS_EINVAL);
    ASSERT_NULL(uvs_handle_data(H));
    ASSERT_ERR(uvs_is_closing(H), UVS_EINVAL);
    ASSERT_ERR(uvs_is_active(H), UVS_EINVAL);
    ASSERT_ERR(uvs_ref(H), UVS_EINVAL);
    ASSERT_ERR(uvs_has_ref(H), UVS_EINVAL);
    ASSERT_ERR(uvs_fileno(H), UVS_EINVAL);
    ASSERT_ERR(uvs_send_buffer_size(H), UVS_EINVAL);
    /* as a stream */
    ASSERT_ERR(uvs_read_start(S, no_read_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_read_stop(S), UVS_EINVAL);
    ASSERT_ERR(uvs_is_readable(S), UVS_EINVAL);
    ASSERT_UEQ(uvs_write_queue_size(S), 0);
    ASSERT_ERR(uvs_write(S, &b, 1, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write_now(S, &b, 1, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_shutdown(S, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_listen(S, 5, no_conn_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(S, "127.0.0.1", 0, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_sockname(S, ip, sizeof(ip), NULL, NULL), UVS_EINVAL);
    /* as a timer */
    ASSERT_ERR(uvs_timer_start((uvs_timer_t *)&fake, 1, 0, no_timer_cb, NULL), UVS_EINVAL);
    ASSERT_UEQ(uvs_timer_repeat((uvs_timer_t *)&fake), 0);
    /* as a loop, and a timer as a loop */
    ASSERT_ERR(uvs_loop_run(FL, UVS_RUN_NOWAIT), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_alive(FL), UVS_EINVAL);
    ASSERT_UEQ(uvs_loop_now(FL), 0);
    ASSERT_ERR(uvs_loop_close(FL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_post(FL, no_post_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_new(FL, 0, &out), UVS_EINVAL);
    uvs_loop_release(FL);
    ASSERT_ERR(uvs_loop_run(TL, UVS_RUN_NOWAIT), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_close(TL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_post(TL, no_post_cb, NULL), UVS_EINVAL);
    {
        uvs_timer_t *t2 = NULL;
        ASSERT_ERR(uvs_timer_new(TL, &t2), UVS_EINVAL);
    }
    uvs_loop_release(TL); /* must not touch the timer */
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(t)), UVS_KIND_TIMER);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(t)), 0);
    finish_loop(loop);
}

/* Header "Pointers": a pointer whose object was freed gives UVS_EINVAL (queries: a
 * neutral value). Nothing of the same kind is created after the frees, so the
 * addresses cannot have been reused by a new object of that kind. */
static void test_badinput_freed_pointers(void) {
    uvs_loop_t *loop = make_loop();
    uvs_loop_t *gone = make_loop();
    uvs_timer_t *t = NULL;
    uvs_stream_t *s = NULL;
    int closed_t = 0, closed_s = 0;
    uvs_buf_t b;

    b.base = "x";
    b.len = 1;
    ASSERT_OK((uvs_timer_new)(loop, &t)); /* not through the harness: released here */
    ASSERT_OK((uvs_tcp_new)(loop, AF_INET, &s));
    ASSERT_OK(uvs_close(UVS_HANDLE(t), flag_close_cb, &closed_t));
    ASSERT_OK(uvs_close(UVS_HANDLE(s), flag_close_cb, &closed_s));
    (uvs_release)(UVS_HANDLE(t));
    (uvs_release)(UVS_HANDLE(s));
    RUN_UNTIL(loop, closed_t && closed_s);
    run_nowait(loop, 2); /* the library frees them once they can no longer call back */
    ASSERT_OK(uvs_loop_close(gone));
    uvs_loop_release(gone);

    ASSERT_ERR(uvs_close(UVS_HANDLE(t), no_close_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_is_closing(UVS_HANDLE(t)), UVS_EINVAL);
    ASSERT_NULL(uvs_handle_loop(UVS_HANDLE(t)));
    ASSERT_ERR(uvs_timer_start(t, 1, 0, no_timer_cb, NULL), UVS_EINVAL);
    ASSERT_UEQ(uvs_timer_repeat(t), 0);
    ASSERT_ERR(uvs_close(UVS_HANDLE(s), no_close_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_handle_kind(UVS_HANDLE(s)), UVS_EINVAL);
    ASSERT_ERR(uvs_write(s, &b, 1, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_is_writable(s), UVS_EINVAL);
    ASSERT_UEQ(uvs_write_queue_size(s), 0);
    ASSERT_ERR(uvs_loop_run(gone, UVS_RUN_NOWAIT), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_close(gone), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_post(gone, no_post_cb, NULL), UVS_EINVAL);
    ASSERT_EQ(uvs_loop_alive(gone), UVS_EINVAL);
    finish_loop(loop);
}

static void test_badinput_handle_functions(void) {
    struct fx f;
    uvs_handle_t *tcp, *tim, *L;

    setup(&f);
    tcp = UVS_HANDLE(f.pair.client);
    tim = UVS_HANDLE(f.timer);
    L = f.as_loop;

    /* uvs_close */
    ASSERT_ERR(uvs_close(NULL, no_close_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_close(L, no_close_cb, NULL), UVS_EINVAL);
    /* uvs_release: NULL-safe; a loop cast to a handle must not release the loop */
    uvs_release(NULL);
    uvs_release(L);
    /* Every other handle function. */
    handle_calls_not_a_handle(NULL);
    handle_calls_not_a_handle(L);
    ASSERT_EQ(uvs_handle_kind(tcp), UVS_KIND_TCP);
    ASSERT_EQ(uvs_handle_kind(tim), UVS_KIND_TIMER);
    /* uvs_fileno and the buffer sizes: a timer has no socket */
    socket_calls_fail(tim, UVS_EINVAL);
    ASSERT_GE(uvs_fileno(tcp), 0);
    ASSERT_ERR(uvs_set_send_buffer_size(tcp, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_set_send_buffer_size(tcp, INT_MIN), UVS_EINVAL);
    ASSERT_ERR(uvs_set_receive_buffer_size(tcp, -1), UVS_EINVAL);
    /* A huge size is either set or refused, never a crash. */
    {
        int r = uvs_set_send_buffer_size(tcp, INT_MAX);
        ASSERT(r == 0 || r < 0);
    }

    check_closing_then_closed(&f, handles_on_closed);
    teardown(&f);
}

/* ======================================================================== */
/* 5. Streams                                                                */
/* ======================================================================== */

/* The stream functions given s: each call fails with code, the queries return
 * `query`, the write queue size is 0. s is a closing or closed stream (ECLOSED,
 * neutral queries) or not a stream at all (EINVAL for both). */
static void stream_calls_fail(struct fx *f, uvs_stream_t *s, int code, int query) {
    uvs_buf_t b;

    b.base = "x";
    b.len = 1;
    ASSERT_ERR(uvs_listen(s, 5, no_conn_cb, NULL), code);
    ASSERT_ERR(uvs_accept(s, f->fresh), code);
    ASSERT_ERR(uvs_accept(f->pair.server, s), code); /* as the client */
    ASSERT_ERR(uvs_read_start(s, no_read_cb, NULL), code);
    ASSERT_ERR(uvs_read_stop(s), code);
    ASSERT_ERR(uvs_is_reading(s), query);
    ASSERT_ERR(uvs_is_readable(s), query);
    ASSERT_ERR(uvs_is_writable(s), query);
    ASSERT_UEQ(uvs_write_queue_size(s), 0);
    ASSERT_ERR(uvs_write(s, &b, 1, no_req_cb, NULL), code);
    ASSERT_ERR(uvs_write_now(s, &b, 1, no_req_cb, NULL), code);
    ASSERT_ERR(uvs_try_write(s, &b, 1), code);
    ASSERT_ERR(uvs_shutdown(s, no_req_cb, NULL), code);
}

static void streams_on_closed(struct fx *f) {
    stream_calls_fail(f, f->ctcp, UVS_ECLOSED, 0);
    ASSERT_ERR(uvs_write(f->ctcp, NULL, 0, no_req_cb, NULL), UVS_ECLOSED);
}

static void test_badinput_stream_functions(void) {
    struct fx f;
    uvs_stream_t *tcp, *TS, *LS, *srv, *fresh;
    uvs_buf_t b, nullbase, two[2];

    setup(&f);
    tcp = f.pair.client;
    srv = f.pair.server;
    fresh = f.fresh;
    TS = UVS_STREAM(f.timer); /* a timer passed as a stream */
    LS = UVS_STREAM(f.loop);  /* a loop passed as a stream */
    b.base = "x";
    b.len = 1;
    nullbase.base = NULL;
    nullbase.len = 5;
    two[0] = b;
    two[1] = nullbase;

    /* Not a stream: NULL, a timer, a loop. */
    stream_calls_fail(&f, NULL, UVS_EINVAL, UVS_EINVAL);
    stream_calls_fail(&f, TS, UVS_EINVAL, UVS_EINVAL);
    stream_calls_fail(&f, LS, UVS_EINVAL, UVS_EINVAL);
    ASSERT_ERR(uvs_accept(NULL, NULL), UVS_EINVAL);
    /* uvs_listen */
    ASSERT_ERR(uvs_listen(fresh, 5, NULL, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_listen(fresh, -1, no_conn_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_listen(fresh, INT_MIN, no_conn_cb, NULL), UVS_EINVAL);
    /* uvs_accept */
    ASSERT_ERR(uvs_accept(srv, fresh), UVS_EAGAIN); /* valid, nothing waiting */
    /* uvs_read_start */
    ASSERT_ERR(uvs_read_start(tcp, NULL, NULL), UVS_EINVAL);
    ASSERT_EQ(uvs_is_reading(tcp), 0);
    /* uvs_write / uvs_try_write */
    ASSERT_ERR(uvs_write(tcp, NULL, 1, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write(tcp, &nullbase, 1, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write(tcp, two, 2, no_req_cb, NULL), UVS_EINVAL); /* nothing of it sent */
    ASSERT_ERR(uvs_write_now(tcp, NULL, 1, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write_now(tcp, &nullbase, 1, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write_now(tcp, two, 2, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_try_write(tcp, NULL, 1), UVS_EINVAL);
    ASSERT_ERR(uvs_try_write(tcp, &nullbase, 1), UVS_EINVAL);
    ASSERT_ERR(uvs_try_write(tcp, two, 2), UVS_EINVAL);
    /* Nothing was written by the failed writes: the peer gets exactly "alive" in
     * check_still_works(). The stream is still writable and not shut down. */
    ASSERT_EQ(uvs_is_writable(tcp), 1);
    ASSERT_UEQ(uvs_write_queue_size(tcp), 0);

    check_closing_then_closed(&f, streams_on_closed);
    teardown(&f);
}

/* ======================================================================== */
/* 6. TCP                                                                    */
/* ======================================================================== */

/* Every uvs_tcp_* function that takes a stream, given s: code (s closing or closed:
 * ECLOSED; not a stream: EINVAL). */
static void tcp_calls_fail(struct fx *f, uvs_stream_t *s, int code) {
    char ip[UVS_IP_MAX];
    int port, family;

    ASSERT_ERR(uvs_tcp_open(s, 0), code);
    ASSERT_ERR(uvs_tcp_bind(s, "127.0.0.1", 0, 0), code);
    ASSERT_ERR(uvs_tcp_connect(s, "127.0.0.1", f->pair.port, no_req_cb, NULL), code);
    ASSERT_ERR(uvs_tcp_nodelay(s, 1), code);
    ASSERT_ERR(uvs_tcp_keepalive(s, 1, 30), code);
    ASSERT_ERR(uvs_tcp_simultaneous_accepts(s, 1), code);
    ASSERT_ERR(uvs_tcp_sockname(s, ip, sizeof(ip), &port, &family), code);
    ASSERT_ERR(uvs_tcp_peername(s, ip, sizeof(ip), &port, &family), code);
}

static void tcp_on_closed(struct fx *f) {
    tcp_calls_fail(f, f->ctcp, UVS_ECLOSED);
}

static void test_badinput_tcp_functions(void) {
    struct fx f;
    uvs_stream_t *tcp, *TS, *LS, *fresh, *out;
    char ip[UVS_IP_MAX];
    int port = 0, family = 0;

    setup(&f);
    tcp = f.pair.client;
    fresh = f.fresh;
    TS = UVS_STREAM(f.timer);
    LS = UVS_STREAM(f.loop);

    /* uvs_tcp_new */
    out = (uvs_stream_t *)&f;
    ASSERT_ERR(uvs_tcp_new(NULL, 0, &out), UVS_EINVAL);
    ASSERT_NULL(out);
    ASSERT_ERR(uvs_tcp_new(f.loop, 0, NULL), UVS_EINVAL);
    out = (uvs_stream_t *)&f;
    ASSERT_ERR(uvs_tcp_new(f.loop, 999, &out), UVS_EINVAL);
    ASSERT_NULL(out);
    /* Not a stream: NULL, a timer, a loop. */
    tcp_calls_fail(&f, NULL, UVS_EINVAL);
    tcp_calls_fail(&f, TS, UVS_EINVAL);
    tcp_calls_fail(&f, LS, UVS_EINVAL);
    /* uvs_tcp_open */
    ASSERT_ERR(uvs_tcp_open(fresh, -1), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_open(fresh, INT_MIN), UVS_EINVAL);
    /* uvs_tcp_bind */
    ASSERT_ERR(uvs_tcp_bind(fresh, NULL, 0, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(fresh, "127.0.0.1", INT_MAX, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(fresh, "127.0.0.1", INT_MIN, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(fresh, "127.0.0.1", 0, 0x80000000u), UVS_EINVAL);
    /* uvs_tcp_connect */
    ASSERT_ERR(uvs_tcp_connect(fresh, NULL, f.pair.port, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(fresh, "127.0.0.1", INT_MAX, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(fresh, "127.0.0.1", INT_MIN, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(fresh, "1.2.3.4.5", f.pair.port, no_req_cb, NULL), UVS_EINVAL);
    /* A delay beyond what the kernel takes: set or refused, never a crash. */
    (void)uvs_tcp_keepalive(tcp, 1, UINT_MAX);
    /* addresses */
    ASSERT_ERR(uvs_tcp_sockname(tcp, NULL, sizeof(ip), &port, &family), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_peername(tcp, NULL, sizeof(ip), &port, &family), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_sockname(tcp, ip, 1, &port, &family), UVS_ENOBUFS);
    /* The fresh stream is still fresh after all that. */
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(fresh)), UVS_EBADF);

    check_closing_then_closed(&f, tcp_on_closed);
    teardown(&f);
}

/* ======================================================================== */
/* 7. Timer                                                                  */
/* ======================================================================== */

/* Every uvs_timer_* function that takes a timer, given t: code (t closing or closed:
 * ECLOSED; not a timer: EINVAL); uvs_timer_repeat: 0. */
static void timer_calls_fail(uvs_timer_t *t, int code) {
    ASSERT_ERR(uvs_timer_start(t, 1, 0, no_timer_cb, NULL), code);
    ASSERT_ERR(uvs_timer_stop(t), code);
    ASSERT_ERR(uvs_timer_again(t), code);
    ASSERT_ERR(uvs_timer_set_repeat(t, 5), code);
    ASSERT_UEQ(uvs_timer_repeat(t), 0);
}

static void timer_on_closed(struct fx *f) {
    timer_calls_fail(f->ctimer, UVS_ECLOSED);
}

static void test_badinput_timer_functions(void) {
    struct fx f;
    uvs_timer_t *ST, *LT, *out = NULL;

    setup(&f);
    ST = UVS_TIMER(f.pair.client); /* a stream passed as a timer */
    LT = UVS_TIMER(f.loop);        /* a loop passed as a timer */

    /* uvs_timer_new */
    ASSERT_ERR(uvs_timer_new(NULL, &out), UVS_EINVAL);
    ASSERT_ERR(uvs_timer_new(f.loop, NULL), UVS_EINVAL);
    /* Not a timer: NULL, a stream, a loop. */
    timer_calls_fail(NULL, UVS_EINVAL);
    timer_calls_fail(ST, UVS_EINVAL);
    timer_calls_fail(LT, UVS_EINVAL);
    /* uvs_timer_start without a callback */
    ASSERT_ERR(uvs_timer_start(f.timer, 1, 0, NULL, NULL), UVS_EINVAL);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(f.timer)), 0);
    /* uvs_timer_again: also EINVAL for a timer never started */
    ASSERT_ERR(uvs_timer_again(f.timer), UVS_EINVAL);
    ASSERT_UEQ(uvs_timer_repeat(f.timer), 0);

    check_closing_then_closed(&f, timer_on_closed);
    /* Let any wrongly scheduled callback come: none may. */
    run_for(f.loop, 10);
    teardown(&f);
}

/* ======================================================================== */
/* 5 (flow control, write2), 8. Pipes, 9. TTYs                               */
/* ======================================================================== */

/* The fixture above plus pipes and a TTY. */
struct fxp {
    struct fx f;
    uvs_stream_t *ipc_a, *ipc_b; /* connected IPC pipes */
    uvs_stream_t *pa, *pb;       /* connected plain pipes */
    uvs_stream_t *fresh_pipe;    /* no descriptor */
    uvs_stream_t *cpipe;         /* plain pipe with a descriptor: closing, then closed */
    uvs_stream_t *cpipe_peer;
    uvs_stream_t *cipc;          /* IPC pipe: closing, then closed */
    uvs_stream_t *tty;           /* on a pty slave */
    uvs_stream_t *ctty;          /* closing, then closed */
    int master, slave, slave2;
    struct termios initial;
    int closed;
    char dir[32];
    char path[96];               /* a path in dir nothing may create */
};

static void count_close_p(uvs_handle_t *h, void *u) {
    (void)h;
    ((struct fxp *)u)->closed++;
}

static void setup_p(struct fxp *x) {
    uvs_stream_t *tmp;
    uvs_loop_t *loop;

    memset(x, 0, sizeof(*x));
    setup(&x->f);
    loop = x->f.loop;
    make_pipe_pair(loop, 1, &x->ipc_a, &x->ipc_b);
    make_pipe_pair(loop, 0, &x->pa, &x->pb);
    ASSERT_OK(uvs_pipe_new(loop, 0, &x->fresh_pipe));
    make_pipe_pair(loop, 0, &x->cpipe, &x->cpipe_peer);
    make_pipe_pair(loop, 1, &x->cipc, &tmp);
    open_pty_or_skip(&x->master, &x->slave);
    ASSERT_EQ(tcgetattr(x->slave, &x->initial), 0);
    x->slave2 = dup(x->slave);
    ASSERT_GE(x->slave2, 0);
    ASSERT_OK(uvs_tty_new(loop, x->slave, 1, &x->tty));
    ASSERT_OK(uvs_tty_new(loop, x->slave2, 1, &x->ctty));
    ASSERT_OK(uvs_close(UVS_HANDLE(x->cpipe), count_close_p, x));
    ASSERT_OK(uvs_close(UVS_HANDLE(x->cipc), count_close_p, x));
    ASSERT_OK(uvs_close(UVS_HANDLE(x->ctty), count_close_p, x));
    strcpy(x->dir, "/tmp/uvs_ctest_XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(x->dir));
    snprintf(x->path, sizeof(x->path), "%s/never.sock", x->dir);
}

/* check_closing_then_closed() with the pipes and the TTY closing too. */
static void check_closing_then_closed_p(struct fxp *x, void (*check)(struct fxp *)) {
    check(x); /* closing */
    settle(&x->f);
    RUN_UNTIL(x->f.loop, x->closed == 3);
    check(x); /* closed */
}

/* The misused pipes and TTY still work; nothing was created at x->path; the
 * terminal's mode is unchanged. */
static void teardown_p(struct fxp *x) {
    struct reader r;
    uvs_buf_t b;
    struct termios now;
    int w = 0, h = 0;

    memset(&r, 0, sizeof(r));
    ASSERT_OK(uvs_read_start(x->pb, reader_cb, &r));
    b.base = "pipe ok";
    b.len = 7;
    ASSERT_OK(uvs_write(x->pa, &b, 1, NULL, NULL));
    RUN_UNTIL(x->f.loop, r.len == 7);
    ASSERT(memcmp(r.data, "pipe ok", 7) == 0);
    reader_free(&r);
    ASSERT_EQ(uvs_pipe_pending_count(x->ipc_b), 0);
    ASSERT_UEQ(uvs_write_queue_size(x->ipc_a), 0);
    ASSERT_OK(uvs_tty_get_winsize(x->tty, &w, &h));
    ASSERT_EQ(tcgetattr(x->slave, &now), 0);
    ASSERT_EQ(now.c_lflag, x->initial.c_lflag);
    ASSERT_EQ(access(x->path, F_OK), -1);
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(x->fresh_pipe)), UVS_EBADF);
    rmdir(x->dir);
    teardown(&x->f);
    close(x->master);
    close(x->slave);
    close(x->slave2);
}

static void no_writability_cb(uvs_stream_t *s, int writable, void *u) {
    (void)s;
    (void)writable;
    (void)u;
    FAIL("writability callback registered by a failed call");
}

/* ---- uvs_write2 and flow control ---- */

/* uvs_write2 (s as the stream, then as the handle sent over ipc with send as the
 * valid handle), the watermarks, the writability callback, uvs_is_write_blocked and
 * uvs_is_ipc, given s that is not a stream: EINVAL. */
static void flow_calls_not_a_stream(uvs_stream_t *s, uvs_stream_t *ipc, uvs_stream_t *send) {
    uvs_buf_t b;

    b.base = "x";
    b.len = 1;
    ASSERT_ERR(uvs_write2(s, &b, 1, send, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(ipc, &b, 1, s, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_set_write_watermarks(s, 100, 10), UVS_EINVAL);
    ASSERT_ERR(uvs_on_writability_changed(s, no_writability_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_is_write_blocked(s), UVS_EINVAL);
    ASSERT_ERR(uvs_is_ipc(s), UVS_EINVAL);
}

static void flow_on_closed(struct fxp *x) {
    uvs_buf_t b;
    int r;

    b.base = "x";
    b.len = 1;
    /* A closing or closed stream. */
    ASSERT_ERR(uvs_write2(x->cipc, &b, 1, x->f.pair.conn, no_req_cb, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_set_write_watermarks(x->cipc, 100, 10), UVS_ECLOSED);
    ASSERT_ERR(uvs_set_write_watermarks(x->f.ctcp, 100, 10), UVS_ECLOSED);
    ASSERT_ERR(uvs_on_writability_changed(x->cipc, no_writability_cb, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_on_writability_changed(x->f.ctcp, NULL, NULL), UVS_ECLOSED);
    ASSERT_EQ(uvs_is_write_blocked(x->cipc), 0);
    ASSERT_EQ(uvs_is_write_blocked(x->f.ctcp), 0);
    /* A closing or closed send_handle. */
    ASSERT_ERR(uvs_write2(x->ipc_a, &b, 1, x->f.ctcp, no_req_cb, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_write2(x->ipc_a, &b, 1, x->cpipe, no_req_cb, NULL), UVS_ECLOSED);
    /* Whether a closed IPC pipe still says "IPC" is not specified: 1 or 0. */
    r = uvs_is_ipc(x->cipc);
    ASSERT(r == 0 || r == 1);
    ASSERT_EQ(uvs_is_ipc(x->cpipe), 0);
}

static void test_badinput_flow_functions(void) {
    struct fxp x;
    uvs_stream_t *TS, *LS, *tcp, *send;
    uvs_buf_t b, nullbase, empty;

    setup_p(&x);
    TS = UVS_STREAM(x.f.timer);
    LS = UVS_STREAM(x.f.loop);
    tcp = x.f.pair.client;
    send = x.f.pair.conn;
    b.base = "x";
    b.len = 1;
    nullbase.base = NULL;
    nullbase.len = 2;
    empty.base = "";
    empty.len = 0;

    /* Not a stream: NULL, a timer, a loop. */
    flow_calls_not_a_stream(NULL, x.ipc_a, send);
    flow_calls_not_a_stream(TS, x.ipc_a, send);
    flow_calls_not_a_stream(LS, x.ipc_a, send);
    /* uvs_write2: the stream */
    ASSERT_ERR(uvs_write2(tcp, &b, 1, send, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(x.pa, &b, 1, send, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(x.tty, &b, 1, send, no_req_cb, NULL), UVS_EINVAL);
    /* uvs_write2: the buffers */
    ASSERT_ERR(uvs_write2(x.ipc_a, NULL, 1, send, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(x.ipc_a, NULL, 0, send, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(x.ipc_a, &nullbase, 1, send, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(x.ipc_a, &empty, 1, send, no_req_cb, NULL), UVS_EINVAL);
    /* uvs_write2: the handle to send */
    ASSERT_ERR(uvs_write2(x.ipc_a, &b, 1, x.tty, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(x.ipc_a, &b, 1, x.f.fresh, no_req_cb, NULL), UVS_EBADF);
    ASSERT_ERR(uvs_write2(x.ipc_a, &b, 1, x.fresh_pipe, no_req_cb, NULL), UVS_EBADF);
    /* uvs_set_write_watermarks */
    ASSERT_ERR(uvs_set_write_watermarks(tcp, 10, 100), UVS_EINVAL);
    ASSERT_ERR(uvs_set_write_watermarks(tcp, 0, 1), UVS_EINVAL);
    ASSERT_OK(uvs_set_write_watermarks(x.tty, 100, 10)); /* any stream kind */
    ASSERT_OK(uvs_set_write_watermarks(x.pa, UVS_DEFAULT_HIGH_WATERMARK,
                                       UVS_DEFAULT_LOW_WATERMARK));
    /* uvs_on_writability_changed */
    ASSERT_OK(uvs_on_writability_changed(tcp, NULL, NULL));
    /* uvs_is_write_blocked / uvs_is_ipc */
    ASSERT_EQ(uvs_is_write_blocked(tcp), 0);
    ASSERT_EQ(uvs_is_ipc(tcp), 0);
    ASSERT_EQ(uvs_is_ipc(x.tty), 0);
    ASSERT_EQ(uvs_is_ipc(x.ipc_a), 1);
    /* Nothing was sent or queued. */
    ASSERT_UEQ(uvs_write_queue_size(x.ipc_a), 0);
    ASSERT_EQ(uvs_is_writable(x.ipc_a), 1);

    check_closing_then_closed_p(&x, flow_on_closed);
    {
        /* The IPC pipes still pass a handle. */
        struct reader r;
        int ws = NOT_CALLED;
        memset(&r, 0, sizeof(r));
        ASSERT_OK(uvs_read_start(x.ipc_b, reader_cb, &r));
        ASSERT_OK(uvs_write2(x.ipc_a, &b, 1, send, status_cb, &ws));
        RUN_UNTIL(x.f.loop, r.len == 1 && ws != NOT_CALLED);
        ASSERT_OK(ws);
        ASSERT_EQ(uvs_pipe_pending_count(x.ipc_b), 1);
        {
            uvs_stream_t *got = NULL;
            ASSERT_OK(uvs_tcp_new(x.f.loop, 0, &got));
            ASSERT_OK(uvs_accept(x.ipc_b, got));
        }
        reader_free(&r);
    }
    teardown_p(&x);
}

/* ---- uvs_pipe_* ---- */

/* uvs_pipe_open (which must leave the fd alone), _bind and _connect (to path), _chmod,
 * _sockname, _peername and _pending_instances on s all fail with code. */
static void pipe_calls_fail(uvs_stream_t *s, const char *path, int code) {
    char name[128];
    size_t len = 5;
    int fds[2];

    ASSERT_OK(uvs_socketpair(fds));
    ASSERT_ERR(uvs_pipe_open(s, fds[0]), code);
    ASSERT(fcntl(fds[0], F_GETFD) != -1);
    close(fds[0]);
    close(fds[1]);
    ASSERT_ERR(uvs_pipe_bind(s, path), code);
    ASSERT_ERR(uvs_pipe_connect(s, path, no_req_cb, NULL), code);
    ASSERT_ERR(uvs_pipe_chmod(s, UVS_PIPE_READABLE), code);
    ASSERT_ERR(uvs_pipe_sockname(s, name, sizeof(name), &len), code);
    ASSERT_ERR(uvs_pipe_peername(s, name, sizeof(name), &len), code);
    ASSERT_ERR(uvs_pipe_pending_instances(s, 2), code);
}

static void pipe_on_closed(struct fxp *x) {
    uvs_stream_t *c = x->cpipe;

    pipe_calls_fail(c, x->path, UVS_ECLOSED);
    ASSERT_EQ(uvs_pipe_pending_count(c), 0);
    ASSERT_EQ(uvs_pipe_pending_kind(c), 0);
    ASSERT_EQ(uvs_pipe_pending_count(x->cipc), 0);
    ASSERT_EQ(uvs_pipe_pending_kind(x->cipc), 0);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(c)), UVS_KIND_PIPE);
}

/* Every uvs_pipe_* function that takes a pipe, given s that is not one (another kind
 * of stream or handle, or a pointer the library does not know): EINVAL. */
static void pipe_wrong_kind(uvs_stream_t *s, const char *path) {
    pipe_calls_fail(s, path, UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_count(s), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_kind(s), UVS_EINVAL);
}

static void test_badinput_pipe_functions(void) {
    struct fxp x;
    uvs_stream_t *out;
    uvs_loop_t *closed_loop = make_loop();
    char name[128];
    size_t len = 5;
    int fds[2];

    setup_p(&x);
    ASSERT_OK(uvs_loop_close(closed_loop));

    /* uvs_pipe_new */
    out = (uvs_stream_t *)&x;
    ASSERT_ERR(uvs_pipe_new(NULL, 0, &out), UVS_EINVAL);
    ASSERT_NULL(out);
    ASSERT_ERR(uvs_pipe_new(x.f.loop, 0, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_new(NULL, 1, NULL), UVS_EINVAL);
    out = (uvs_stream_t *)&x;
    ASSERT_ERR(uvs_pipe_new((uvs_loop_t *)x.f.timer, 0, &out), UVS_EINVAL);
    ASSERT_NULL(out);
    out = (uvs_stream_t *)&x;
    ASSERT_ERR(uvs_pipe_new(closed_loop, 1, &out), UVS_ECLOSED);
    ASSERT_NULL(out);
    /* NULL pipe / NULL arguments */
    ASSERT_OK(uvs_socketpair(fds));
    ASSERT_ERR(uvs_pipe_open(NULL, fds[0]), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_open(x.fresh_pipe, -1), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_open(x.fresh_pipe, INT_MIN), UVS_EINVAL);
    close(fds[0]);
    close(fds[1]);
    ASSERT_ERR(uvs_pipe_bind(NULL, x.path), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_bind(x.fresh_pipe, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_connect(NULL, x.path, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_connect(x.fresh_pipe, NULL, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_chmod(NULL, UVS_PIPE_READABLE), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_chmod(x.pa, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_chmod(x.pa, 8), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_chmod(x.pa, INT_MIN), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_sockname(NULL, name, sizeof(name), &len), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_sockname(x.pa, NULL, sizeof(name), &len), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_sockname(x.pa, NULL, 0, &len), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_peername(NULL, name, sizeof(name), &len), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_peername(x.pa, NULL, sizeof(name), &len), UVS_EINVAL);
    ASSERT_OK(uvs_pipe_sockname(x.pa, name, sizeof(name), NULL)); /* length may be NULL */
    ASSERT_ERR(uvs_pipe_pending_instances(NULL, 2), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_instances(x.fresh_pipe, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_instances(x.fresh_pipe, INT_MIN), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_count(NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_kind(NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pair(NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_socketpair(NULL), UVS_EINVAL);
    /* Not a pipe: TCP, TTY, timer, loop. */
    pipe_wrong_kind(x.f.pair.client, x.path);
    pipe_wrong_kind(x.f.fresh, x.path);
    pipe_wrong_kind(x.tty, x.path);
    pipe_wrong_kind(UVS_STREAM(x.f.timer), x.path);
    pipe_wrong_kind(UVS_STREAM(x.f.loop), x.path);
    /* The pipes are untouched. */
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(x.fresh_pipe)), UVS_EBADF);
    ASSERT_EQ(uvs_is_readable(x.fresh_pipe), 0);

    check_closing_then_closed_p(&x, pipe_on_closed);
    run_for(x.f.loop, 10); /* no connect callback of a failed call */
    uvs_loop_release(closed_loop);
    teardown_p(&x);
}

/* ---- uvs_tty_* ---- */

/* uvs_tty_set_mode (raw, normal) and uvs_tty_get_winsize on s fail with code. */
static void tty_calls_fail(uvs_stream_t *s, int code) {
    int w = 0, h = 0;
    ASSERT_ERR(uvs_tty_set_mode(s, UVS_TTY_MODE_RAW), code);
    ASSERT_ERR(uvs_tty_set_mode(s, UVS_TTY_MODE_NORMAL), code);
    ASSERT_ERR(uvs_tty_get_winsize(s, &w, &h), code);
}

static void tty_on_closed(struct fxp *x) {
    tty_calls_fail(x->ctty, UVS_ECLOSED);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(x->ctty)), UVS_KIND_TTY);
}

static void test_badinput_tty_functions(void) {
    struct fxp x;
    uvs_stream_t *out;
    uvs_loop_t *closed_loop = make_loop();
    int w = 0, h = 0;

    setup_p(&x);
    ASSERT_OK(uvs_loop_close(closed_loop));
    /* uvs_tty_new */
    out = (uvs_stream_t *)&x;
    ASSERT_ERR(uvs_tty_new(NULL, x.slave, 1, &out), UVS_EINVAL);
    ASSERT_NULL(out);
    ASSERT_ERR(uvs_tty_new(x.f.loop, x.slave, 1, NULL), UVS_EINVAL);
    out = (uvs_stream_t *)&x;
    ASSERT_ERR(uvs_tty_new((uvs_loop_t *)x.f.timer, x.slave, 1, &out), UVS_EINVAL);
    ASSERT_NULL(out);
    out = (uvs_stream_t *)&x;
    ASSERT_ERR(uvs_tty_new(closed_loop, x.slave, 1, &out), UVS_ECLOSED);
    ASSERT_NULL(out);
    out = (uvs_stream_t *)&x;
    ASSERT_ERR(uvs_tty_new(x.f.loop, -1, 1, &out), UVS_EINVAL);
    ASSERT_NULL(out);
    out = (uvs_stream_t *)&x;
    ASSERT_ERR(uvs_tty_new(x.f.loop, INT_MIN, 0, &out), UVS_EINVAL);
    ASSERT_NULL(out);
    /* uvs_tty_set_mode / uvs_tty_get_winsize */
    ASSERT_ERR(uvs_tty_set_mode(NULL, UVS_TTY_MODE_RAW), UVS_EINVAL);
    ASSERT_ERR(uvs_tty_get_winsize(NULL, &w, &h), UVS_EINVAL);
    ASSERT_ERR(uvs_tty_set_mode(x.tty, (uvs_tty_mode)3), UVS_EINVAL);
    tty_calls_fail(x.f.pair.client, UVS_EINVAL);
    tty_calls_fail(x.f.fresh, UVS_EINVAL);
    tty_calls_fail(x.pa, UVS_EINVAL);
    tty_calls_fail(x.fresh_pipe, UVS_EINVAL);
    tty_calls_fail(UVS_STREAM(x.f.timer), UVS_EINVAL);
    tty_calls_fail(UVS_STREAM(x.f.loop), UVS_EINVAL);
    /* uvs_tty_reset_mode: no arguments to get wrong; nothing to restore. */
    ASSERT_OK(uvs_tty_reset_mode());

    check_closing_then_closed_p(&x, tty_on_closed);
    uvs_loop_release(closed_loop);
    teardown_p(&x);
}

/* ---- foreign and freed pointers given to the new functions ---- */

/* tty_fd: a pty slave, so that only the bad loop can make uvs_tty_new fail. */
static void new_functions_bad_pointer(uvs_stream_t *S, uvs_loop_t *L, uvs_stream_t *good_ipc,
                                      uvs_stream_t *good_send, const char *path, int tty_fd) {
    uvs_buf_t b;
    int w = 0, h = 0;
    uvs_stream_t *out;

    flow_calls_not_a_stream(S, good_ipc, good_send);
    pipe_wrong_kind(S, path);
    ASSERT_ERR(uvs_tty_set_mode(S, UVS_TTY_MODE_RAW), UVS_EINVAL);
    ASSERT_ERR(uvs_tty_get_winsize(S, &w, &h), UVS_EINVAL);
    out = (uvs_stream_t *)&b;
    ASSERT_ERR((uvs_pipe_new)(L, 1, &out), UVS_EINVAL);
    ASSERT_NULL(out);
    out = (uvs_stream_t *)&b;
    ASSERT_ERR((uvs_tty_new)(L, tty_fd, 0, &out), UVS_EINVAL);
    ASSERT_NULL(out);
}

static void test_badinput_new_functions_foreign_pointers(void) {
    static union {
        char bytes[4096];
        void *p;
        long double ld;
    } fake;
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *a, *b;
    char dir[] = "/tmp/uvs_ctest_XXXXXX", path[64];

    int master = -1, slave = -1;

    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/never.sock", dir);
    open_pty_or_skip(&master, &slave);
    make_tcp_pair(loop, &p);
    make_pipe_pair(loop, 1, &a, &b);
    new_functions_bad_pointer((uvs_stream_t *)&fake, (uvs_loop_t *)&fake, a, p.conn, path, slave);
    ASSERT_EQ(access(path, F_OK), -1);
    ASSERT_EQ(uvs_is_writable(a), 1);
    ASSERT_EQ(uvs_loop_handle_count(loop), 6); /* server, client, conn, a, b, guard */
    rmdir(dir);
    finish_loop(loop);
    close(master);
    close(slave);
}

static void test_badinput_new_functions_freed_pointers(void) {
    uvs_loop_t *loop = make_loop();
    uvs_loop_t *gone = make_loop();
    struct tcp_pair p;
    uvs_stream_t *a, *b, *fp = NULL, *ft = NULL;
    int master = -1, slave = -1, closed_p = 0, closed_t = 0;
    char dir[] = "/tmp/uvs_ctest_XXXXXX", path[64];

    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/never.sock", dir);
    make_tcp_pair(loop, &p);
    make_pipe_pair(loop, 1, &a, &b);
    open_pty_or_skip(&master, &slave);
    /* Not through the harness: released here. */
    ASSERT_OK((uvs_pipe_new)(loop, 1, &fp));
    ASSERT_OK((uvs_tty_new)(loop, slave, 1, &ft));
    ASSERT_OK(uvs_close(UVS_HANDLE(fp), flag_close_cb, &closed_p));
    ASSERT_OK(uvs_close(UVS_HANDLE(ft), flag_close_cb, &closed_t));
    (uvs_release)(UVS_HANDLE(fp));
    (uvs_release)(UVS_HANDLE(ft));
    RUN_UNTIL(loop, closed_p && closed_t);
    run_nowait(loop, 2);
    ASSERT_OK(uvs_loop_close(gone));
    uvs_loop_release(gone);

    new_functions_bad_pointer(fp, gone, a, p.conn, path, slave);
    new_functions_bad_pointer(ft, gone, a, p.conn, path, slave);
    ASSERT_EQ(access(path, F_OK), -1);
    ASSERT_EQ(uvs_is_writable(a), 1);
    rmdir(dir);
    finish_loop(loop);
    close(master);
    close(slave);
}


/* Releasing twice: "A second release of the same handle (or loop) does nothing". The
 * handle is still closing when the second release comes, so it is still a live
 * object: giving up one more reference would free it under libuv. */
static void test_badinput_double_release(void) {
    uvs_loop_t *loop = make_loop();
    uvs_loop_t *other = NULL;
    uvs_timer_t *t = NULL;
    uvs_stream_t *s = NULL;
    int closed = 0;

    ASSERT_OK((uvs_timer_new)(loop, &t)); /* not through the harness: released here */
    ASSERT_OK((uvs_tcp_new)(loop, AF_INET, &s));
    ASSERT_OK(uvs_close(UVS_HANDLE(s), flag_close_cb, &closed));
    (uvs_release)(UVS_HANDLE(t));
    (uvs_release)(UVS_HANDLE(t));
    (uvs_release)(UVS_HANDLE(s));
    (uvs_release)(UVS_HANDLE(s));
    RUN_UNTIL(loop, closed);
    run_nowait(loop, 2);
    ASSERT_ERR(uvs_is_closing(UVS_HANDLE(t)), UVS_EINVAL);

    /* A loop kept alive by its handle: the second release must not free it. */
    ASSERT_OK((uvs_loop_new)(&other));
    ASSERT_OK((uvs_timer_new)(other, &t));
    (uvs_loop_release)(other);
    (uvs_loop_release)(other);
    ASSERT_EQ(uvs_handle_loop(UVS_HANDLE(t)), other);
    ASSERT_OK(uvs_close(UVS_HANDLE(t), NULL, NULL));
    ASSERT_EQ(uvs_loop_run(other, UVS_RUN_NOWAIT), 0);
    (uvs_release)(UVS_HANDLE(t)); /* the last reference: frees the timer, then the loop */
    finish_loop(loop);
}

/* ASan's allocator needs address space of its own and ends the process when an
 * allocation fails: the failing allocation below is checked without it. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Many buffers: beyond what fits on the stack the library copies the array to the
 * heap; when that allocation fails the call returns UVS_ENOMEM (it must not end the
 * process). The failure is provoked in a child under an address-space limit. */
static void test_badinput_many_buffers(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    enum { N = 10000 };
    uvs_buf_t *bufs = xcalloc(N, sizeof(*bufs));
    pid_t child;
    int wstatus = 0;

    make_tcp_pair(loop, &p);
    bufs[0].base = "z"; /* writev takes at most IOV_MAX buffers per call */
    bufs[0].len = 1;
    ASSERT_EQ(uvs_try_write(p.client, bufs, N), 1);
    ASSERT_OK(uvs_write(p.client, bufs, N, NULL, NULL));
#ifndef UNDER_ASAN
    child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        struct rlimit limit = {(rlim_t)1 << 32, (rlim_t)1 << 32};
        /* 2^28 buffers need a 4 GiB copy: more than the whole address space allowed. */
        size_t huge = (size_t)1 << 28;
        int ok = setrlimit(RLIMIT_AS, &limit) == 0 &&
                 uvs_try_write(p.client, bufs, huge) == UVS_ENOMEM &&
                 uvs_write(p.client, bufs, huge, NULL, NULL) == UVS_ENOMEM;
        _exit(ok ? 0 : 1);
    }
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    ASSERT(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
#else
    (void)child;
    (void)wstatus;
#endif
    free(bufs);
    finish_loop(loop);
}

/* uvs_tcp_open / uvs_pipe_open of a descriptor that a stream of the loop owns
 * already: UVS_EEXIST, whether or not that stream is active (two owners would both
 * close it, and libuv aborts the process on the stale descriptor). */
static void test_badinput_fd_owned_twice(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *a = NULL, *b = NULL, *t = NULL, *q = NULL;

    make_tcp_pair(loop, &p);
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_OK(uvs_tcp_new(loop, 0, &t));
    ASSERT_OK(uvs_pipe_new(loop, 0, &q));
    ASSERT_ERR(uvs_tcp_open(t, uvs_fileno(UVS_HANDLE(p.client))), UVS_EEXIST);
    ASSERT_ERR(uvs_pipe_open(q, uvs_fileno(UVS_HANDLE(a))), UVS_EEXIST);
    ASSERT_OK(uvs_read_start(a, no_read_cb, NULL));
    ASSERT_ERR(uvs_pipe_open(q, uvs_fileno(UVS_HANDLE(a))), UVS_EEXIST);
    ASSERT_OK(uvs_read_stop(a));
    ASSERT_EQ(uvs_is_writable(p.client), 1);
    ASSERT_EQ(uvs_is_writable(a), 1);
    finish_loop(loop);
}

const struct uvs_test tests_badinput[] = {
    {"badinput_version_and_errors", test_badinput_version_and_errors},
    {"badinput_loop_null", test_badinput_loop_null},
    {"badinput_loop_closed", test_badinput_loop_closed},
    {"badinput_foreign_pointers", test_badinput_foreign_pointers},
    {"badinput_freed_pointers", test_badinput_freed_pointers},
    {"badinput_handle_functions", test_badinput_handle_functions},
    {"badinput_stream_functions", test_badinput_stream_functions},
    {"badinput_tcp_functions", test_badinput_tcp_functions},
    {"badinput_timer_functions", test_badinput_timer_functions},
    {"badinput_flow_functions", test_badinput_flow_functions},
    {"badinput_pipe_functions", test_badinput_pipe_functions},
    {"badinput_tty_functions", test_badinput_tty_functions},
    {"badinput_new_functions_foreign_pointers", test_badinput_new_functions_foreign_pointers},
    {"badinput_new_functions_freed_pointers", test_badinput_new_functions_freed_pointers},
    {"badinput_double_release", test_badinput_double_release},
    {"badinput_many_buffers", test_badinput_many_buffers},
    {"badinput_fd_owned_twice", test_badinput_fd_owned_twice},
    {0, 0},
};
