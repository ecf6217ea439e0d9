/* Timers (header section 7). */
#include "harness.h"

struct tick {
    int n;
    const char *name;
};

static void tick_cb(uvs_timer_t *t, void *user_data) {
    struct tick *k = user_data;
    (void)t;
    ASSERT_NOT_SYNC();
    k->n++;
    if (k->name != NULL)
        ev("%s", k->name);
}

static void test_timer_fires_once(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    ASSERT_OK(uvs_timer_new(loop, &t));
    in_call = 1;
    ASSERT_OK(uvs_timer_start(t, 0, 0, tick_cb, &k)); /* timeout 0: still from the loop */
    in_call = 0;
    ASSERT_EQ(k.n, 0);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 1);
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_EQ(k.n, 1);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);
    ASSERT_UEQ(uvs_timer_repeat(t), 0);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void stop_at_5_cb(uvs_timer_t *t, void *user_data) {
    struct tick *k = user_data;
    if (++k->n == 5)
        ASSERT_OK(uvs_timer_stop(t));
}

static void test_timer_repeat(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    t = start_timer(loop, 1, 1, stop_at_5_cb, &k);
    ASSERT_UEQ(uvs_timer_repeat(t), 1);
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_EQ(k.n, 5);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void test_timer_stop(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_OK(uvs_timer_stop(t)); /* never started: fine */
    ASSERT_OK(uvs_timer_start(t, 1, 0, tick_cb, &k));
    ASSERT_OK(uvs_timer_stop(t));
    ASSERT_OK(uvs_timer_stop(t)); /* repeated: fine */
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);
    ASSERT_ERR(run_loop(loop), 0);
    run_for(loop, 20);
    ASSERT_EQ(k.n, 0);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* Equal timeouts fire in start order; shorter ones first. */
static void test_timer_order(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *a = NULL, *b = NULL, *c = NULL;
    struct tick ka = {0, "a"}, kb = {0, "b"}, kc = {0, "c"};

    ASSERT_OK(uvs_timer_new(loop, &a));
    ASSERT_OK(uvs_timer_new(loop, &b));
    ASSERT_OK(uvs_timer_new(loop, &c));
    ASSERT_OK(uvs_timer_start(a, 10, 0, tick_cb, &ka));
    ASSERT_OK(uvs_timer_start(b, 10, 0, tick_cb, &kb));
    ASSERT_OK(uvs_timer_start(c, 1, 0, tick_cb, &kc));
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_STR_EQ(evlog(), "c a b");
    uvs_release(UVS_HANDLE(a));
    uvs_release(UVS_HANDLE(b));
    uvs_release(UVS_HANDLE(c));
    finish_loop(loop);
}

/* Start on a started timer restarts it with the new values and callback. */
static void test_timer_restart(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k1 = {0, "first"}, k2 = {0, "second"};

    t = start_timer(loop, 60000, 0, tick_cb, &k1);
    ASSERT_OK(uvs_timer_start(t, 1, 0, tick_cb, &k2));
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_STR_EQ(evlog(), "second");
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void restart_in_cb(uvs_timer_t *t, void *user_data) {
    struct tick *k = user_data;
    ev("t%d", k->n);
    if (++k->n < 3)
        ASSERT_OK(uvs_timer_start(t, 1, 0, restart_in_cb, k));
}

static void test_timer_restart_in_callback(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    t = start_timer(loop, 0, 0, restart_in_cb, &k);
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_STR_EQ(evlog(), "t0 t1 t2");
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void test_timer_again_never_started(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_ERR(uvs_timer_again(t), UVS_EINVAL);
    ASSERT_OK(uvs_timer_set_repeat(t, 5));
    ASSERT_ERR(uvs_timer_again(t), UVS_EINVAL); /* a repeat alone is not a start */
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* again: restarts a repeating timer with its repeat value as the timeout. */
static void test_timer_again_repeating(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    t = start_timer(loop, 600000, 1, tick_cb, &k); /* first expiry far away */
    ASSERT_OK(uvs_timer_again(t));                        /* now 1 ms, then every 1 ms */
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 1);
    RUN_UNTIL(loop, k.n >= 3);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* again on a stopped timer that was started before: restarts it (repeat > 0). */
static void test_timer_again_after_stop(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    t = start_timer(loop, 600000, 2, tick_cb, &k);
    ASSERT_OK(uvs_timer_stop(t));
    ASSERT_OK(uvs_timer_again(t));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 1);
    RUN_UNTIL(loop, k.n >= 2);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* again stops a timer whose repeat is 0 (header; raw libuv 1.44 would leave it
 * running). */
static void test_timer_again_zero_repeat_stops(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    t = start_timer(loop, 600000, 0, tick_cb, &k);
    ASSERT_OK(uvs_timer_again(t));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);
    ASSERT_ERR(run_loop(loop), 0); /* would wait 10 minutes if still active */
    ASSERT_EQ(k.n, 0);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void set_repeat_zero_cb(uvs_timer_t *t, void *user_data) {
    struct tick *k = user_data;
    if (++k->n == 2)
        ASSERT_OK(uvs_timer_set_repeat(t, 0)); /* this was the last expiry */
}

static void test_timer_set_repeat(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_UEQ(uvs_timer_repeat(t), 0);
    ASSERT_OK(uvs_timer_set_repeat(t, 7));
    ASSERT_UEQ(uvs_timer_repeat(t), 7);
    ASSERT_OK(uvs_timer_start(t, 1, 1, set_repeat_zero_cb, &k));
    ASSERT_UEQ(uvs_timer_repeat(t), 1);
    ASSERT_ERR(run_loop(loop), 0);
    /* "Takes effect at the next expiry": libuv reschedules a repeating timer before
     * its callback runs, so one more expiry may already be scheduled. */
    ASSERT(k.n == 2 || k.n == 3);
    ASSERT_UEQ(uvs_timer_repeat(t), 0);
    ASSERT_OK(uvs_timer_set_repeat(t, UINT64_C(123456789012)));
    ASSERT_UEQ(uvs_timer_repeat(t), UINT64_C(123456789012));
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

static void close_in_cb(uvs_timer_t *t, void *user_data) {
    struct tick *k = user_data;
    k->n++;
    ASSERT_OK(uvs_close(UVS_HANDLE(t), NULL, NULL));
    ASSERT_ERR(uvs_timer_start(t, 1, 1, tick_cb, k), UVS_ECLOSED);
}

/* A repeating timer closed in its callback never fires again. */
static void test_timer_close_in_callback(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    t = start_timer(loop, 1, 1, close_in_cb, &k);
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_EQ(k.n, 1);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(t)), 1);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* Huge timeouts do not overflow into "now". */
static void test_timer_huge_timeout(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct tick k = {0, NULL};

    t = start_timer(loop, UINT64_MAX, 0, tick_cb, &k);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_NOWAIT), 1);
    ASSERT_EQ(k.n, 0);
    ASSERT_OK(uvs_timer_stop(t));
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

const struct uvs_test tests_timer[] = {
    {"timer_fires_once", test_timer_fires_once},
    {"timer_repeat", test_timer_repeat},
    {"timer_stop", test_timer_stop},
    {"timer_order", test_timer_order},
    {"timer_restart", test_timer_restart},
    {"timer_restart_in_callback", test_timer_restart_in_callback},
    {"timer_again_never_started", test_timer_again_never_started},
    {"timer_again_repeating", test_timer_again_repeating},
    {"timer_again_after_stop", test_timer_again_after_stop},
    {"timer_again_zero_repeat_stops", test_timer_again_zero_repeat_stops},
    {"timer_set_repeat", test_timer_set_repeat},
    {"timer_close_in_callback", test_timer_close_in_callback},
    {"timer_huge_timeout", test_timer_huge_timeout},
    {0, 0},
};
