/* Threads (header "Threads"; uvs_loop_post). */
#include "harness.h"

#include <fcntl.h>
#include <pthread.h>
#include <termios.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- uvs_loop_post from other threads ---- */

struct poster {
    uvs_loop_t *loop;
    pthread_t loop_thread;
    int id;    /* which poster thread */
    int count; /* how many to post */
    int *next; /* per-thread next expected index (on the loop thread) */
    int *ran;  /* total run */
};

struct post_item {
    struct poster *p;
    int index;
};

static void posted_fn(uvs_loop_t *loop, void *u) {
    struct post_item *it = u;
    struct poster *p = it->p;
    ASSERT_PTR_EQ(loop, p->loop);
    if (!pthread_equal(pthread_self(), p->loop_thread))
        FAIL("posted function ran on another thread than the loop's");
    if (it->index != p->next[p->id])
        FAIL("thread %d: posted function %d ran, expected %d", p->id, it->index, p->next[p->id]);
    p->next[p->id]++;
    (*p->ran)++;
    free(it);
}

static void *poster_main(void *arg) {
    struct poster *p = arg;
    int i;
    for (i = 0; i < p->count; i++) {
        struct post_item *it = malloc(sizeof(*it));
        int r;
        if (it == NULL)
            FAIL("out of memory");
        it->p = p;
        it->index = i;
        r = uvs_loop_post(p->loop, posted_fn, it);
        if (r != 0)
            FAIL("uvs_loop_post from thread %d returned %s", p->id, code_name(r));
    }
    return NULL;
}

static void poster_init(struct poster *p, uvs_loop_t *loop, int id, int count, int *next, int *ran) {
    p->loop = loop;
    p->loop_thread = pthread_self();
    p->id = id;
    p->count = count;
    p->next = next;
    p->ran = ran;
}

static void run_posters(int nthreads, int per_thread) {
    uvs_loop_t *loop = make_loop();
    struct poster p[8];
    pthread_t th[8];
    int next[8] = {0}, ran = 0, i;

    for (i = 0; i < nthreads; i++) {
        poster_init(&p[i], loop, i, per_thread, next, &ran);
        ASSERT_EQ(pthread_create(&th[i], NULL, poster_main, &p[i]), 0);
    }
    /* The loop sleeps in poll (only the guard timer is active): posts must wake it. */
    RUN_UNTIL(loop, ran == nthreads * per_thread);
    for (i = 0; i < nthreads; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
        ASSERT_EQ(next[i], per_thread);
    }
    finish_loop(loop);
}

static void test_threads_post_from_thread(void) {
    run_posters(1, 1000);
}

static void test_threads_post_concurrent(void) {
    run_posters(4, 500);
}

/* ---- calls from a foreign thread while the loop runs: UVS_EWRONGTHREAD ---- */

/* What a foreign thread's calls returned (RECORD). The thread makes them while the
 * loop runs: it waits in wait_running() until mark_running, posted before the run,
 * has run on the loop thread. */
struct calls {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running; /* set on the loop thread inside uvs_loop_run */
    int results[64];
    const char *names[64];
    int n;
};

#define RECORD(f, call)                                                                \
    do {                                                                               \
        (f)->calls.names[(f)->calls.n] = #call;                                        \
        (f)->calls.results[(f)->calls.n++] = (int)(call);                              \
    } while (0)

static void calls_init(struct calls *c) {
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static void calls_destroy(struct calls *c) {
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static void mark_running(uvs_loop_t *loop, void *u) {
    struct calls *c = u;
    (void)loop;
    pthread_mutex_lock(&c->mu);
    c->running = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void wait_running(struct calls *c) {
    pthread_mutex_lock(&c->mu);
    while (!c->running)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

/* The one thread-safe call ends the test. */
static void post_stop_from_foreign_thread(uvs_loop_t *loop) {
    if (uvs_loop_post(loop, stop_loop_cb, NULL) != 0)
        FAIL("uvs_loop_post from the foreign thread failed");
}

static void fail_timer(uvs_timer_t *t, void *u) {
    (void)t;
    (void)u;
    FAIL("the keep-alive timer expired: the foreign thread never finished");
}

/* Runs the loop (kept alive by the started timer `keep`) while thread_main(arg)
 * makes its calls, until the thread posts the stop; then every recorded call must
 * have returned UVS_EWRONGTHREAD. */
static void run_foreign_thread(uvs_loop_t *loop, uvs_timer_t *keep, struct calls *c,
                               void *(*thread_main)(void *), void *arg) {
    pthread_t th;
    char bad[1500];
    size_t len = 0;
    int nbad = 0, i;

    ASSERT_OK(uvs_timer_start(keep, 60000, 0, fail_timer, NULL));
    ASSERT_OK(uvs_loop_post(loop, mark_running, c));
    ASSERT_EQ(pthread_create(&th, NULL, thread_main, arg), 0);
    /* Stays inside uvs_loop_run until the foreign thread posts stop_loop_cb. */
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 1);
    ASSERT_EQ(pthread_join(th, NULL), 0);

    bad[0] = '\0';
    for (i = 0; i < c->n; i++) {
        if (c->results[i] == UVS_EWRONGTHREAD)
            continue;
        nbad++;
        if (len < sizeof(bad) - 100) {
            const char *name = c->names[i];
            const char *paren = strchr(name, '(');
            int nlen = paren ? (int)(paren - name) : (int)strlen(name);
            len += (size_t)snprintf(bad + len, sizeof(bad) - len, "%s%.*s=%s", nbad > 1 ? ", " : "",
                                    nlen, name, code_name(c->results[i]));
        }
    }
    if (nbad > 0)
        FAIL("%d of %d calls from a foreign thread did not return EWRONGTHREAD: %s", nbad, c->n,
             bad);
}

struct foreign {
    uvs_loop_t *loop;
    uvs_timer_t *timer;     /* started, referenced: keeps the loop running */
    uvs_stream_t *server;   /* listening */
    uvs_stream_t *client;   /* connected */
    uvs_stream_t *fresh;    /* family 0 */
    struct calls calls;
    int write_called;
    uvs_stream_t *made_tcp;
    uvs_timer_t *made_timer;
};

static void never_cb(uvs_stream_t *s, int status, void *u) {
    struct foreign *f = u;
    (void)s;
    (void)status;
    f->write_called = 1;
}

static void never_read(uvs_stream_t *s, int status, const char *d, size_t l, void *u) {
    (void)s;
    (void)status;
    (void)d;
    (void)l;
    (void)u;
}

static void never_close(uvs_handle_t *h, void *u) {
    (void)h;
    (void)u;
}

static void *foreign_main(void *arg) {
    struct foreign *f = arg;
    char ip[UVS_IP_MAX];
    int port, family;
    uvs_buf_t b;

    wait_running(&f->calls);

    b.base = "x";
    b.len = 1;
    /* Loop. */
    RECORD(f, uvs_loop_run(f->loop, UVS_RUN_NOWAIT));
    RECORD(f, uvs_loop_stop(f->loop));
    RECORD(f, uvs_loop_alive(f->loop));
    RECORD(f, uvs_loop_update_time(f->loop));
    RECORD(f, uvs_loop_handle_count(f->loop));
    RECORD(f, uvs_loop_close_all(f->loop, never_close, NULL));
    RECORD(f, uvs_loop_close(f->loop));
    RECORD(f, uvs_tcp_new(f->loop, 0, &f->made_tcp));
    RECORD(f, uvs_timer_new(f->loop, &f->made_timer));
    /* Handles. */
    RECORD(f, uvs_close(UVS_HANDLE(f->fresh), never_close, NULL));
    RECORD(f, uvs_ref(UVS_HANDLE(f->timer)));
    RECORD(f, uvs_unref(UVS_HANDLE(f->timer)));
    RECORD(f, uvs_send_buffer_size(UVS_HANDLE(f->client)));
    RECORD(f, uvs_set_send_buffer_size(UVS_HANDLE(f->client), 65536));
    RECORD(f, uvs_receive_buffer_size(UVS_HANDLE(f->client)));
    RECORD(f, uvs_set_receive_buffer_size(UVS_HANDLE(f->client), 65536));
    /* Streams. */
    RECORD(f, uvs_listen(f->fresh, 5, nop_connection_cb, NULL));
    RECORD(f, uvs_accept(f->server, f->fresh));
    RECORD(f, uvs_read_start(f->client, never_read, NULL));
    RECORD(f, uvs_read_stop(f->client));
    RECORD(f, uvs_write(f->client, &b, 1, never_cb, f));
    RECORD(f, uvs_try_write(f->client, &b, 1));
    RECORD(f, uvs_shutdown(f->client, never_cb, f));
    /* TCP. */
    RECORD(f, uvs_tcp_open(f->fresh, 0));
    RECORD(f, uvs_tcp_bind(f->fresh, "127.0.0.1", 0, 0));
    RECORD(f, uvs_tcp_connect(f->fresh, "127.0.0.1", 1, never_cb, f));
    RECORD(f, uvs_tcp_nodelay(f->client, 1));
    RECORD(f, uvs_tcp_keepalive(f->client, 1, 30));
    RECORD(f, uvs_tcp_simultaneous_accepts(f->server, 1));
    RECORD(f, uvs_tcp_sockname(f->client, ip, sizeof(ip), &port, &family));
    RECORD(f, uvs_tcp_peername(f->client, ip, sizeof(ip), &port, &family));
    /* Timer. */
    RECORD(f, uvs_timer_start(f->timer, 1, 0, nop_timer_cb, NULL));
    RECORD(f, uvs_timer_stop(f->timer));
    RECORD(f, uvs_timer_again(f->timer));
    RECORD(f, uvs_timer_set_repeat(f->timer, 1));

    post_stop_from_foreign_thread(f->loop);
    return NULL;
}

static void test_threads_foreign_calls_wrongthread(void) {
    uvs_loop_t *loop = make_loop();
    struct foreign f;
    struct tcp_pair p;

    memset(&f, 0, sizeof(f));
    calls_init(&f.calls);
    make_tcp_pair(loop, &p);
    f.loop = loop;
    f.server = p.server;
    f.client = p.client;
    f.made_tcp = (uvs_stream_t *)&f; /* must be set to NULL */
    f.made_timer = NULL; /* the header promises *out = NULL on error for tcp_new only */
    ASSERT_OK(uvs_tcp_new(loop, 0, &f.fresh));
    ASSERT_OK(uvs_timer_new(loop, &f.timer));
    run_foreign_thread(loop, f.timer, &f.calls, foreign_main, &f);
    ASSERT_EQ(f.calls.n, 35);
    ASSERT_NULL(f.made_tcp);
    ASSERT_NULL(f.made_timer);
    /* Nothing happened to the handles. */
    run_nowait(loop, 3);
    ASSERT_EQ(f.write_called, 0);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(f.fresh)), 0);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(f.timer)), 1);
    ASSERT_EQ(uvs_has_ref(UVS_HANDLE(f.timer)), 1);
    ASSERT_EQ(uvs_is_writable(p.client), 1);
    ASSERT_EQ(uvs_is_reading(p.client), 0);
    ASSERT_UEQ(uvs_timer_repeat(f.timer), 0);
    ASSERT_EQ(uvs_loop_handle_count(loop), 6); /* server, client, conn, fresh, timer, guard */
    calls_destroy(&f.calls);
    finish_loop(loop);
}

/* ---- a loop handed to another thread ---- */

struct handoff {
    uvs_loop_t *loop;
    pthread_t runner;
    int fired;
    int run_result;
};

static void handoff_timer(uvs_timer_t *t, void *u) {
    struct handoff *h = u;
    (void)t;
    if (!pthread_equal(pthread_self(), h->runner))
        FAIL("the timer callback ran on a thread that is not running the loop");
    h->fired++;
}

static void *handoff_main(void *arg) {
    struct handoff *h = arg;
    h->run_result = uvs_loop_run(h->loop, UVS_RUN_DEFAULT);
    return NULL;
}

/* Created on this thread, run by another, then closed here again once that thread
 * is done with it. */
static void test_threads_loop_runs_on_other_thread(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    struct handoff h;

    memset(&h, 0, sizeof(h));
    h.loop = loop;
    t = start_timer(loop, 1, 0, handoff_timer, &h);
    ASSERT_EQ(pthread_create(&h.runner, NULL, handoff_main, &h), 0);
    ASSERT_EQ(pthread_join(h.runner, NULL), 0);
    ASSERT_ERR(h.run_result, 0);
    ASSERT_EQ(h.fired, 1);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* Posting from another thread before the loop runs: the function runs at the start
 * of the next uvs_loop_run, on the thread that runs it. */
static void test_threads_post_before_run(void) {
    uvs_loop_t *loop = make_loop();
    struct poster p;
    pthread_t th;
    int next[1] = {0}, ran = 0;

    poster_init(&p, loop, 0, 1, next, &ran);
    ASSERT_EQ(pthread_create(&th, NULL, poster_main, &p), 0);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_EQ(ran, 0);
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_NOWAIT), 0);
    ASSERT_EQ(ran, 1);
    finish_loop(loop);
}

/* ---- uvs_loop_post drains its whole queue on each wake ---- */

/* The loop thread is held inside a posted "gate" function while other threads post
 * their functions; once released, one wake must run every function waiting (a
 * queue that ran one function per wake would leave the rest: libuv coalesces the
 * wake-ups). All run in each thread's posting order, on the loop thread. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered;  /* the loop thread is inside the gate */
    int posted;   /* poster threads done */
    int nthreads;
};

static void gate_fn(uvs_loop_t *loop, void *u) {
    struct gate *g = u;
    (void)loop;
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (g->posted < g->nthreads)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

struct gated_poster {
    struct poster p;
    struct gate *g;
};

static void *gated_poster_main(void *arg) {
    struct gated_poster *gp = arg;
    pthread_mutex_lock(&gp->g->mu);
    while (!gp->g->entered)
        pthread_cond_wait(&gp->g->cv, &gp->g->mu);
    pthread_mutex_unlock(&gp->g->mu);
    poster_main(&gp->p);
    pthread_mutex_lock(&gp->g->mu);
    gp->g->posted++;
    pthread_cond_broadcast(&gp->g->cv);
    pthread_mutex_unlock(&gp->g->mu);
    return NULL;
}

static void run_gated_posters(int nthreads, int per_thread) {
    uvs_loop_t *loop = make_loop();
    struct gate g;
    struct gated_poster gp[8];
    pthread_t th[8];
    int next[8] = {0}, ran = 0, i, runs = 0;

    memset(&g, 0, sizeof(g));
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    g.nthreads = nthreads;
    ASSERT_OK(uvs_loop_post(loop, gate_fn, &g));
    for (i = 0; i < nthreads; i++) {
        gp[i].g = &g;
        poster_init(&gp[i].p, loop, i, per_thread, next, &ran);
        ASSERT_EQ(pthread_create(&th[i], NULL, gated_poster_main, &gp[i]), 0);
    }
    /* The first run starts with the gate; the functions posted meanwhile must all
     * run within that run or the next one. */
    guard_arm(loop, __FILE__, __LINE__, "the posted functions", 1);
    while (ran < nthreads * per_thread && runs < 2) {
        ASSERT_GE(uvs_loop_run(loop, UVS_RUN_ONCE), 0);
        runs++;
    }
    guard_disarm(loop);
    for (i = 0; i < nthreads; i++)
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    if (ran != nthreads * per_thread)
        FAIL("%d of %d posted functions ran in %d loop runs: the queue is not drained on each "
             "wake",
             ran, nthreads * per_thread, runs);
    for (i = 0; i < nthreads; i++)
        ASSERT_EQ(next[i], per_thread);
    ASSERT_EQ(uvs_loop_alive(loop), 0); /* nothing left waiting (guard stopped) */
    pthread_mutex_destroy(&g.mu);
    pthread_cond_destroy(&g.cv);
    finish_loop(loop);
}

static void test_threads_post_drains_queue(void) {
    run_gated_posters(1, 1000);
}

static void test_threads_post_drains_several_threads(void) {
    run_gated_posters(4, 250);
}

/* A function posted from the loop thread itself (inside a posted function) never
 * runs inside that uvs_loop_post call; it runs later, in order. */
static void second_fn(uvs_loop_t *loop, void *u) {
    (void)loop;
    (void)u;
    ASSERT_NOT_SYNC();
    ev("second");
}

static void first_fn(uvs_loop_t *loop, void *u) {
    (void)u;
    ev("first");
    in_call = 1;
    ASSERT_OK(uvs_loop_post(loop, second_fn, NULL));
    ASSERT_OK(uvs_loop_post(loop, second_fn, NULL));
    in_call = 0;
    ev("first-done");
}

static void test_threads_post_from_loop_thread(void) {
    uvs_loop_t *loop = make_loop();

    ASSERT_OK(uvs_loop_post(loop, first_fn, NULL));
    RUN_UNTIL(loop, strstr(evlog(), "second second") != NULL);
    ASSERT_STR_EQ(evlog(), "first first-done second second");
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    finish_loop(loop);
}

/* ---- the new functions from a foreign thread while the loop runs ---- */

struct foreign2 {
    uvs_loop_t *loop;
    uvs_stream_t *ipc_tx, *send, *pair_a, *fresh_pipe, *bound, *tty;
    char path[128];
    int spare_fd, slave;
    struct calls calls;
    int callbacks;
    uvs_stream_t *made_pipe, *made_tty;
    int anythread[3];
    int fds_pair[2], fds_sock[2];
};

static void never_cb2(uvs_stream_t *s, int status, void *u) {
    (void)s;
    (void)status;
    ((struct foreign2 *)u)->callbacks++;
}

static void never_writability(uvs_stream_t *s, int writable, void *u) {
    (void)s;
    (void)writable;
    ((struct foreign2 *)u)->callbacks++;
}

static void *foreign2_main(void *arg) {
    struct foreign2 *f = arg;
    char name[128];
    size_t len;
    int w, h;
    uvs_buf_t b;

    wait_running(&f->calls);
    b.base = "x";
    b.len = 1;
    RECORD(f, uvs_write2(f->ipc_tx, &b, 1, f->send, never_cb2, f));
    RECORD(f, uvs_set_write_watermarks(f->pair_a, 100, 10));
    RECORD(f, uvs_on_writability_changed(f->pair_a, never_writability, f));
    RECORD(f, uvs_pipe_new(f->loop, 0, &f->made_pipe));
    RECORD(f, uvs_pipe_open(f->fresh_pipe, f->spare_fd));
    RECORD(f, uvs_pipe_bind(f->fresh_pipe, f->path));
    RECORD(f, uvs_pipe_connect(f->fresh_pipe, f->path, never_cb2, f));
    RECORD(f, uvs_pipe_chmod(f->bound, UVS_PIPE_READABLE));
    RECORD(f, uvs_pipe_sockname(f->bound, name, sizeof(name), &len));
    RECORD(f, uvs_pipe_peername(f->pair_a, name, sizeof(name), &len));
    RECORD(f, uvs_pipe_pending_instances(f->bound, 2));
    RECORD(f, uvs_tty_new(f->loop, f->slave, 0, &f->made_tty));
    RECORD(f, uvs_tty_set_mode(f->tty, UVS_TTY_MODE_RAW));
    RECORD(f, uvs_tty_get_winsize(f->tty, &w, &h));
    /* Any thread. */
    f->anythread[0] = uvs_pipe_pair(f->fds_pair);
    f->anythread[1] = uvs_socketpair(f->fds_sock);
    f->anythread[2] = uvs_tty_reset_mode();
    post_stop_from_foreign_thread(f->loop);
    return NULL;
}

static void test_threads_foreign_calls_new_functions(void) {
    uvs_loop_t *loop = make_loop();
    struct foreign2 f;
    struct tcp_pair p;
    uvs_stream_t *rx, *pair_b;
    uvs_timer_t *keep = NULL;
    char dir[] = "/tmp/uvs_ctest_XXXXXX";
    int master = -1, sv[2], i;
    struct termios before, after;

    memset(&f, 0, sizeof(f));
    calls_init(&f.calls);
    f.loop = loop;
    f.made_pipe = (uvs_stream_t *)&f; /* must be set to NULL */
    f.made_tty = (uvs_stream_t *)&f;
    make_tcp_pair(loop, &p);
    f.send = p.conn;
    make_pipe_pair(loop, 1, &f.ipc_tx, &rx);
    make_pipe_pair(loop, 0, &f.pair_a, &pair_b);
    ASSERT_OK(uvs_pipe_new(loop, 0, &f.fresh_pipe));
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(f.path, sizeof(f.path), "%s/bound.sock", dir);
    ASSERT_OK(uvs_pipe_new(loop, 0, &f.bound));
    ASSERT_OK(uvs_pipe_bind(f.bound, f.path));
    snprintf(f.path, sizeof(f.path), "%s/other.sock", dir);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f.spare_fd = sv[0];
    open_pty_or_skip(&master, &f.slave);
    ASSERT_OK(uvs_tty_new(loop, f.slave, 1, &f.tty));
    ASSERT_EQ(tcgetattr(f.slave, &before), 0);
    ASSERT_OK(uvs_timer_new(loop, &keep));
    run_foreign_thread(loop, keep, &f.calls, foreign2_main, &f);
    ASSERT_EQ(f.calls.n, 14);
    ASSERT_NULL(f.made_pipe);
    ASSERT_NULL(f.made_tty);
    /* The any-thread functions worked there. */
    ASSERT_OK(f.anythread[0]);
    ASSERT_OK(f.anythread[1]);
    ASSERT_OK(f.anythread[2]);
    for (i = 0; i < 2; i++) {
        close(f.fds_pair[i]);
        close(f.fds_sock[i]);
    }
    /* Nothing happened to the handles. */
    run_nowait(loop, 3);
    ASSERT_EQ(f.callbacks, 0);
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(f.fresh_pipe)), UVS_EBADF);
    ASSERT(fcntl(f.spare_fd, F_GETFD) != -1);
    ASSERT_EQ(access(f.path, F_OK), -1);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 0);
    ASSERT_EQ(tcgetattr(f.slave, &after), 0);
    ASSERT_EQ(after.c_lflag, before.c_lflag);
    close(sv[0]);
    close(sv[1]);
    finish_loop(loop);
    close(master);
    close(f.slave);
    snprintf(f.path, sizeof(f.path), "%s/bound.sock", dir);
    unlink(f.path);
    rmdir(dir);
    calls_destroy(&f.calls);
}

const struct uvs_test tests_threads[] = {
    {"threads_post_from_thread", test_threads_post_from_thread},
    {"threads_post_concurrent", test_threads_post_concurrent},
    {"threads_foreign_calls_wrongthread", test_threads_foreign_calls_wrongthread},
    {"threads_loop_runs_on_other_thread", test_threads_loop_runs_on_other_thread},
    {"threads_post_before_run", test_threads_post_before_run},
    {"threads_post_drains_queue", test_threads_post_drains_queue},
    {"threads_post_drains_several_threads", test_threads_post_drains_several_threads},
    {"threads_post_from_loop_thread", test_threads_post_from_loop_thread},
    {"threads_foreign_calls_new_functions", test_threads_foreign_calls_new_functions},
    {0, 0},
};
