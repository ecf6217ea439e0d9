/* The loop (header section 3). */
#include "harness.h"

#include <limits.h>
#include <signal.h>
#include <stdint.h>

static void test_loop_new_run_close(void) {
    uvs_loop_t *loop = make_loop();

    ASSERT_EQ(uvs_loop_alive(loop), 0);
    ASSERT_EQ(uvs_loop_handle_count(loop), 0);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_ONCE), 0);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_NOWAIT), 0);
    ASSERT_OK(uvs_loop_close(loop));
    /* Idempotent. */
    ASSERT_OK(uvs_loop_close(loop));
    /* Every later call: ECLOSED, queries neutral. */
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), UVS_ECLOSED);
    ASSERT_ERR(uvs_loop_stop(loop), UVS_ECLOSED);
    ASSERT_ERR(uvs_loop_update_time(loop), UVS_ECLOSED);
    ASSERT_ERR(uvs_loop_close_all(loop, NULL, NULL), UVS_ECLOSED);
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    ASSERT_EQ(uvs_loop_handle_count(loop), 0);
    ASSERT_UEQ(uvs_loop_now(loop), 0);
    uvs_loop_release(loop);
}

static void test_loop_new_null_out(void) {
    ASSERT_ERR(uvs_loop_new(NULL), UVS_EINVAL);
}

/* A read callback that remembers the largest chunk, then collects like reader_cb. */
struct sized_reader {
    struct reader r;
    size_t largest;
};

static void sized_read_cb(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct sized_reader *sr = u;
    if (status == 0 && len > sr->largest) sr->largest = len;
    reader_cb(s, status, data, len, &sr->r);
}

static void test_loop_new_with_buffer_size(void) {
    uvs_loop_t *loop = NULL;
    struct tcp_pair p;
    struct sized_reader sr;
    int ws = NOT_CALLED;

    ASSERT_OK(uvs_loop_new_with_buffer_size(1000, &loop));
    ASSERT_NOT_NULL(loop);
    make_tcp_pair(loop, &p);
    memset(&sr, 0, sizeof(sr));
    ASSERT_OK(uvs_read_start(p.conn, sized_read_cb, &sr));
    write_pattern_at(p.client, 0, 100000, status_cb, &ws);
    expect_pattern_read(loop, &sr.r, 100000, &ws);
    /* No read hands over more than the loop's buffer holds. */
    ASSERT_GT(sr.largest, 0);
    ASSERT_LE(sr.largest, 1000);
    ASSERT_GE(sr.r.chunks, 100);
    reader_free(&sr.r);
    finish_loop(loop);
}

static void test_loop_new_with_buffer_size_bad_input(void) {
    uvs_loop_t *loop = (uvs_loop_t *)&loop;

    ASSERT_ERR(uvs_loop_new_with_buffer_size(1000, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_new_with_buffer_size(0, &loop), UVS_EINVAL);
    ASSERT_NULL(loop);
    loop = (uvs_loop_t *)&loop;
    ASSERT_ERR(uvs_loop_new_with_buffer_size((size_t)INT_MAX + 1, &loop), UVS_EINVAL);
    ASSERT_NULL(loop);
    ASSERT_ERR(uvs_loop_new_with_buffer_size(SIZE_MAX, &loop), UVS_EINVAL);
    ASSERT_NULL(loop);
}

static void test_loop_several_independent(void) {
    uvs_loop_t *a = make_loop();
    uvs_loop_t *b = make_loop();
    uvs_timer_t *t = NULL;

    ASSERT(a != b);
    ASSERT_OK(uvs_timer_new(a, &t));
    ASSERT_EQ(uvs_loop_handle_count(a), 1);
    ASSERT_EQ(uvs_loop_handle_count(b), 0);
    ASSERT_PTR_EQ(uvs_handle_loop(UVS_HANDLE(t)), a);
    uvs_release(UVS_HANDLE(t));
    finish_loop(b);
    finish_loop(a);
}

static void test_loop_run_bad_mode(void) {
    uvs_loop_t *loop = make_loop();
    ASSERT_ERR(uvs_loop_run(loop, (uvs_run_mode)3), UVS_EINVAL);
    ASSERT_ERR(uvs_loop_run(loop, (uvs_run_mode)-1), UVS_EINVAL);
    finish_loop(loop);
}

/* ---- SIGPIPE disposition (header "Signals") ---- */

static void test_loop_new_ignores_sigpipe(void) {
    struct sigaction sa;
    uvs_loop_t *loop;

    signal(SIGPIPE, SIG_DFL);
    loop = make_loop();
    ASSERT_EQ(sigaction(SIGPIPE, NULL, &sa), 0);
    ASSERT(sa.sa_handler == SIG_IGN);
    finish_loop(loop);
}

static void my_sigpipe_handler(int sig) {
    (void)sig;
}

static void test_loop_new_keeps_sigpipe_handler(void) {
    struct sigaction sa;
    uvs_loop_t *loop;

    signal(SIGPIPE, my_sigpipe_handler);
    loop = make_loop();
    ASSERT_EQ(sigaction(SIGPIPE, NULL, &sa), 0);
    ASSERT(sa.sa_handler == my_sigpipe_handler);
    finish_loop(loop);
}

/* ---- run modes, stop, alive ---- */

static void count_cb(uvs_timer_t *timer, void *user_data) {
    (void)timer;
    ASSERT_NOT_SYNC();
    (*(int *)user_data)++;
}

static void test_loop_run_default_returns_0_when_done(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    int fired = 0;

    t = start_timer(loop, 1, 0, count_cb, &fired);
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_EQ(fired, 1);
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void test_loop_run_nowait_returns_1_with_work(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    int fired = 0;

    t = start_timer(loop, 60000, 0, count_cb, &fired);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_NOWAIT), 1);
    ASSERT_EQ(fired, 0);
    ASSERT_OK(uvs_timer_stop(t));
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_NOWAIT), 0);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void stop_at_3_cb(uvs_timer_t *timer, void *user_data) {
    int *n = user_data;
    (*n)++;
    if (*n == 3)
        ASSERT_OK(uvs_loop_stop(uvs_handle_loop(UVS_HANDLE(timer))));
}

static void test_loop_stop_in_callback(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    int n = 0;

    t = start_timer(loop, 1, 1, stop_at_3_cb, &n);
    /* Stopped with an active timer: returns 1 (work left). */
    ASSERT_ERR(run_loop(loop), 1);
    ASSERT_EQ(n, 3);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 1);
    /* It runs again normally afterwards. */
    RUN_UNTIL(loop, n >= 5);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* A stop with the loop not running makes the next run return after (at most) one
 * iteration instead of running forever; the run after that is normal. */
static void test_loop_stop_before_run(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    int n = 0;

    t = start_timer(loop, 1, 1, count_cb, &n);
    ASSERT_OK(uvs_loop_stop(loop));
    ASSERT_ERR(run_loop(loop), 1);
    ASSERT_LE(n, 1);
    RUN_UNTIL(loop, n >= 3);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void reenter_cb(uvs_timer_t *timer, void *user_data) {
    uvs_loop_t *loop = uvs_handle_loop(UVS_HANDLE(timer));
    (void)user_data;
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_NOWAIT), UVS_EBUSY);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), UVS_EBUSY);
    /* The loop is running: it cannot close. */
    ASSERT_ERR(uvs_loop_close(loop), UVS_EBUSY);
    ev("reenter");
}

static void test_loop_run_not_reentrant(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;

    t = start_timer(loop, 0, 0, reenter_cb, NULL);
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_STR_EQ(evlog(), "reenter");
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void test_loop_alive_and_unref(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    int n = 0;

    ASSERT_OK(uvs_timer_new(loop, &t));
    /* An inactive handle does not keep the loop alive. */
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    ASSERT_OK(uvs_timer_start(t, 60000, 0, count_cb, &n));
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    ASSERT_OK(uvs_unref(UVS_HANDLE(t)));
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    /* An unreferenced active timer does not keep DEFAULT running. */
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_EQ(n, 0);
    ASSERT_OK(uvs_ref(UVS_HANDLE(t)));
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void test_loop_now_and_update_time(void) {
    uvs_loop_t *loop = make_loop();
    uint64_t a, b;

    a = uvs_loop_now(loop);
    ASSERT_OK(uvs_loop_update_time(loop));
    b = uvs_loop_now(loop);
    ASSERT(b >= a);
    ASSERT_OK(uvs_loop_run(loop, UVS_RUN_NOWAIT));
    ASSERT(uvs_loop_now(loop) >= b);
    ASSERT_UEQ(uvs_loop_now(NULL), 0);
    finish_loop(loop);
}

/* A timer of 50 ms: the loop's time moves forward by at least that much. */
static void test_loop_now_advances(void) {
    uvs_loop_t *loop = make_loop();
    uint64_t before;

    ASSERT_OK(uvs_loop_update_time(loop));
    before = uvs_loop_now(loop);
    run_for(loop, 50);
    ASSERT(uvs_loop_now(loop) >= before + 50);
    finish_loop(loop);
}

/* ---- handle counting, close_all, close ---- */

static void test_loop_handle_count(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    uvs_stream_t *s = NULL;

    ASSERT_EQ(uvs_loop_handle_count(loop), 0);
    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_EQ(uvs_loop_handle_count(loop), 1);
    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    ASSERT_EQ(uvs_loop_handle_count(loop), 2);
    ASSERT_OK(uvs_close(UVS_HANDLE(t), NULL, NULL));
    /* Counts until its close callback has run. */
    ASSERT_EQ(uvs_loop_handle_count(loop), 2);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    ASSERT_EQ(uvs_loop_handle_count(loop), 1);
    uvs_release(UVS_HANDLE(t));
    uvs_release(UVS_HANDLE(s));
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    ASSERT_EQ(uvs_loop_handle_count(loop), 0);
    finish_loop(loop);
}

static void close_all_cb(uvs_handle_t *h, void *user_data) {
    ASSERT_NOT_SYNC();
    ev("%s:%s", (const char *)user_data, uvs_handle_kind(h) == UVS_KIND_TIMER ? "timer" : "tcp");
}

static void own_close_cb(uvs_handle_t *h, void *user_data) {
    (void)h;
    ev("own:%s", (const char *)user_data);
}

static void test_loop_close_all(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t1 = NULL, *t2 = NULL;
    uvs_stream_t *s = NULL;

    ASSERT_OK(uvs_timer_new(loop, &t1));
    ASSERT_OK(uvs_timer_new(loop, &t2));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &s));
    ASSERT_OK(uvs_close(UVS_HANDLE(t2), own_close_cb, "t2"));
    in_call = 1;
    /* t2 is already closing: not counted, its callback not replaced. */
    ASSERT_ERR(uvs_loop_close_all(loop, close_all_cb, "all"), 2);
    in_call = 0;
    ASSERT_STR_EQ(evlog(), "");
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(t1)), 1);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(s)), 1);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    /* Each callback once; which order the loop closes them in is its business. */
    {
        const char *log = evlog();
        ASSERT(strstr(log, "own:t2") != NULL);
        ASSERT(strstr(log, "all:timer") != NULL);
        ASSERT(strstr(log, "all:tcp") != NULL);
        ASSERT_EQ(strlen(log), strlen("own:t2 all:timer all:tcp"));
    }
    ASSERT_EQ(uvs_loop_handle_count(loop), 0);
    /* Nothing left to close. */
    ASSERT_ERR(uvs_loop_close_all(loop, NULL, NULL), 0);
    uvs_release(UVS_HANDLE(t1));
    uvs_release(UVS_HANDLE(t2));
    uvs_release(UVS_HANDLE(s));
    finish_loop(loop);
}

/* CONFORMANCE 11: closing a loop with live handles reports EBUSY; closing every
 * handle and running once then succeeds. */
static void test_loop_close_busy(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    uvs_stream_t *s = NULL;
    int n = 0;

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    /* Even an inactive handle keeps the loop from closing. */
    ASSERT_ERR(uvs_loop_close(loop), UVS_EBUSY);
    ASSERT_OK(uvs_timer_start(t, 60000, 0, count_cb, &n));
    ASSERT_ERR(uvs_loop_close(loop), UVS_EBUSY);
    /* The loop is still usable after EBUSY. */
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    ASSERT_ERR(uvs_loop_close_all(loop, NULL, NULL), 2);
    /* Closing but not closed yet: still busy. */
    ASSERT_ERR(uvs_loop_close(loop), UVS_EBUSY);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_ONCE), 0);
    ASSERT_EQ(uvs_loop_handle_count(loop), 0);
    ASSERT_OK(uvs_loop_close(loop));
    ASSERT_EQ(n, 0);
    /* The handles outlive the closed loop; calls on them report ECLOSED. */
    ASSERT_ERR(uvs_timer_start(t, 1, 0, count_cb, &n), UVS_ECLOSED);
    ASSERT_ERR(uvs_read_stop(s), UVS_ECLOSED);
    uvs_release(UVS_HANDLE(t));
    uvs_release(UVS_HANDLE(s));
    uvs_loop_release(loop);
}

static void test_loop_close_busy_released_handle(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = NULL;

    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &s));
    /* Released (so closing) but its close callback has not run. */
    uvs_release(UVS_HANDLE(s));
    ASSERT_ERR(uvs_loop_close(loop), UVS_EBUSY);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    ASSERT_OK(uvs_loop_close(loop));
    uvs_loop_release(loop);
}

/* Handles keep their loop alive: release the loop first, the handle's borrowed loop
 * stays usable; releasing the last handle frees (and closes) the loop. Under ASan,
 * LeakSanitizer checks that nothing is left. */
static void test_loop_release_before_handles(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    uvs_loop_t *borrowed;
    int n = 0;

    ASSERT_OK(uvs_timer_new(loop, &t));
    uvs_loop_release(loop);
    borrowed = uvs_handle_loop(UVS_HANDLE(t));
    ASSERT_PTR_EQ(borrowed, loop);
    ASSERT_OK(uvs_timer_start(t, 1, 0, count_cb, &n));
    ASSERT_ERR(uvs_loop_run(borrowed, UVS_RUN_DEFAULT), 0);
    ASSERT_EQ(n, 1);
    ASSERT_OK(uvs_close(UVS_HANDLE(t), NULL, NULL));
    ASSERT_ERR(uvs_loop_run(borrowed, UVS_RUN_DEFAULT), 0);
    ASSERT_EQ(uvs_loop_handle_count(borrowed), 0);
    uvs_release(UVS_HANDLE(t)); /* the last reference: the loop goes too */
}

/* ---- uvs_loop_post on the loop's own thread (threads: test_threads.c) ---- */

struct post_rec {
    uvs_loop_t *loop;
    int n;
};

static void post_log_cb(uvs_loop_t *loop, void *user_data) {
    struct post_rec *p = user_data;
    ASSERT_NOT_SYNC();
    ASSERT_PTR_EQ(loop, p->loop);
    ev("p%d", p->n);
}

static void test_loop_post_order_and_first(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct post_rec p[3];
    int i, n = 0;

    t = start_timer(loop, 0, 0, count_cb, &n);
    for (i = 0; i < 3; i++) {
        p[i].loop = loop;
        p[i].n = i;
        in_call = 1;
        ASSERT_OK(uvs_loop_post(loop, post_log_cb, &p[i]));
        in_call = 0;
    }
    ASSERT_STR_EQ(evlog(), "");
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    ASSERT_ERR(run_loop(loop), 0);
    /* In order, and before the timer callback (posted functions run first). */
    ASSERT_STR_EQ(evlog(), "p0 p1 p2");
    ASSERT_EQ(n, 1);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void test_loop_post_keeps_alive(void) {
    uvs_loop_t *loop = make_loop();
    struct post_rec p = {NULL, 7};

    p.loop = loop;
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    ASSERT_OK(uvs_loop_post(loop, post_log_cb, &p));
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    /* A waiting posted function keeps the loop from closing. */
    ASSERT_ERR(uvs_loop_close(loop), UVS_EBUSY);
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_STR_EQ(evlog(), "p7");
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    finish_loop(loop);
}

static void post_again_cb(uvs_loop_t *loop, void *user_data) {
    int *n = user_data;
    ev("post%d", *n);
    if (++*n < 3) {
        in_call = 1;
        ASSERT_OK(uvs_loop_post(loop, post_again_cb, n));
        in_call = 0;
    }
}

/* A function posted from a posted function runs later, not inside the post call. */
static void test_loop_post_from_posted(void) {
    uvs_loop_t *loop = make_loop();
    int n = 0;

    ASSERT_OK(uvs_loop_post(loop, post_again_cb, &n));
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_STR_EQ(evlog(), "post0 post1 post2");
    finish_loop(loop);
}

static void test_loop_post_closed(void) {
    uvs_loop_t *loop = make_loop();
    struct post_rec p = {NULL, 0};

    ASSERT_OK(uvs_loop_close(loop));
    ASSERT_ERR(uvs_loop_post(loop, post_log_cb, &p), UVS_ECLOSED);
    uvs_loop_release(loop);
}

const struct uvs_test tests_loop[] = {
    {"loop_new_run_close", test_loop_new_run_close},
    {"loop_new_null_out", test_loop_new_null_out},
    {"loop_new_with_buffer_size", test_loop_new_with_buffer_size},
    {"loop_new_with_buffer_size_bad_input", test_loop_new_with_buffer_size_bad_input},
    {"loop_several_independent", test_loop_several_independent},
    {"loop_run_bad_mode", test_loop_run_bad_mode},
    {"loop_new_ignores_sigpipe", test_loop_new_ignores_sigpipe},
    {"loop_new_keeps_sigpipe_handler", test_loop_new_keeps_sigpipe_handler},
    {"loop_run_default_returns_0_when_done", test_loop_run_default_returns_0_when_done},
    {"loop_run_nowait_returns_1_with_work", test_loop_run_nowait_returns_1_with_work},
    {"loop_stop_in_callback", test_loop_stop_in_callback},
    {"loop_stop_before_run", test_loop_stop_before_run},
    {"loop_run_not_reentrant", test_loop_run_not_reentrant},
    {"loop_alive_and_unref", test_loop_alive_and_unref},
    {"loop_now_and_update_time", test_loop_now_and_update_time},
    {"loop_now_advances", test_loop_now_advances},
    {"loop_handle_count", test_loop_handle_count},
    {"loop_close_all", test_loop_close_all},
    {"loop_close_busy", test_loop_close_busy},
    {"loop_close_busy_released_handle", test_loop_close_busy_released_handle},
    {"loop_release_before_handles", test_loop_release_before_handles},
    {"loop_post_order_and_first", test_loop_post_order_and_first},
    {"loop_post_keeps_alive", test_loop_post_keeps_alive},
    {"loop_post_from_posted", test_loop_post_from_posted},
    {"loop_post_closed", test_loop_post_closed},
    {0, 0},
};
