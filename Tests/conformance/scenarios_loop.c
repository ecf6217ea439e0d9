/*
 * scenarios_loop.c — the loop and timers.
 */
#include <stdio.h>
#include <sys/socket.h>

#include "conf_ops.h"

/* Closing a loop with live handles reports EBUSY; after closing every handle and
 * running, it succeeds. */
static void s_loop_close_busy(cf_loop *loop) {
    cf_h *t = cf_tcp(loop, "tcp", 0);
    cf_h *tm = cf_timer(loop, "timer");
    tr_rc("timer_start", tm, O->timer_start(tm, 100000, 0, cf_trace_cb, NULL));
    tr("loop_close -> %s", cf_err_name(O->loop_close(loop)));
    tr_rc("close", t, O->close(t, cf_trace_cb, NULL));
    tr("loop_close (close callback not run yet) -> %s", cf_err_name(O->loop_close(loop)));
    cf_run_mode(loop, CF_RUN_NOWAIT);
    tr("loop_close (timer open) -> %s", cf_err_name(O->loop_close(loop)));
    cf_close_run(loop, tm);
    int rc = O->loop_close(loop);
    tr("loop_close -> %s", cf_err_name(rc));
    if (rc == 0) cf_loop_closed = 1;
}

/* timer_again on a one-shot timer (repeat 0). */
static void s_timer_again_repeat0(cf_loop *loop) {
    cf_h *t = cf_timer(loop, "oneshot");
    tr_rc("timer_start 30ms repeat 0", t, O->timer_start(t, 30, 0, cf_trace_cb, NULL));
    tr_rc("timer_again", t, O->timer_again(t));
    tr("is_active(oneshot) = %d", O->is_active(t));
    cf_run(loop);
    cf_close_run(loop, t);
}

/* timer_again: EINVAL before any start; with a repeat it restarts with the repeat as
 * the timeout; stop inside the callback. */
static int again_count;
static void again_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    if (++again_count == 3) {
        tr_rc("timer_stop in cb", ev->h, O->timer_stop(ev->h));
        tr("is_active(%s) = %d", cf_label(ev->h), O->is_active(ev->h));
    }
}

static void s_timer_again_basics(cf_loop *loop) {
    cf_h *t = cf_timer(loop, "t");
    tr_rc("timer_again (never started)", t, O->timer_again(t));
    tr_rc("timer_start 100s repeat 5ms", t, O->timer_start(t, 100000, 5, again_cb, NULL));
    tr_rc("timer_again", t, O->timer_again(t));
    tr("is_active(t) = %d", O->is_active(t));
    cf_run(loop);
    tr("timer callbacks: %d", again_count);
    tr_rc("timer_stop again", t, O->timer_stop(t));
    cf_close_run(loop, t);
}

/* A handle closed inside its own callback; close callbacks of handles closed one after
 * the other, each run separately. */
static void close_in_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    tr_rc("close in own timer cb", ev->h, O->close(ev->h, cf_trace_cb, NULL));
    tr("is_closing(%s) = %d, is_active = %d", cf_label(ev->h), O->is_closing(ev->h),
       O->is_active(ev->h));
}

static void s_close_in_own_callback(cf_loop *loop) {
    cf_h *t = cf_timer(loop, "t");
    tr_rc("timer_start 1ms repeat 1ms", t, O->timer_start(t, 1, 1, close_in_cb, NULL));
    cf_run(loop);
}


/* A loop closed twice, then run. */
static void s_loop_close_twice(cf_loop *loop) {
    tr("loop_close -> %s", cf_err_name(O->loop_close(loop)));
    cf_loop_closed = 1;
    tr("loop_close again -> %s", cf_err_name(O->loop_close(loop)));
    int rc = O->loop_run(loop, CF_RUN_NOWAIT);
    tr("run nowait on the closed loop -> %s", rc >= 0 ? (rc ? "1" : "0") : cf_err_name(rc));
}

/* Calls on a timer that is closing (before its close callback). */
static void s_timer_ops_on_closing(cf_loop *loop) {
    cf_h *t = cf_timer(loop, "t");
    tr_rc("close", t, O->close(t, cf_trace_cb, NULL));
    tr_rc("timer_start", t, O->timer_start(t, 1, 0, cf_trace_cb, NULL));
    tr_rc("timer_again", t, O->timer_again(t));
    tr_rc("timer_stop", t, O->timer_stop(t));
    cf_run(loop);
}

const cf_scenario cf_scenarios_loop[] = {
    {"loop_close_busy", s_loop_close_busy},
    {"timer_again_repeat0", s_timer_again_repeat0},
    {"timer_again_basics", s_timer_again_basics},
    {"close_in_own_callback", s_close_in_own_callback},
    {"loop_close_twice", s_loop_close_twice},
    {"timer_ops_on_closing", s_timer_ops_on_closing},
    {NULL, NULL},
};
