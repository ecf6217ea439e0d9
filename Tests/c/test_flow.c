/*
 * Flow control (header section 5, "Flow control"): write-queue watermarks, the
 * writability callback, uvs_is_write_blocked; coalescing of small writes (counted
 * by interposing write/writev); uvs_is_reading across read_start/read_stop.
 *
 * The streams are socket pairs opened as pipes: a Unix socket whose peer does not
 * read takes bytes only until its send buffer is full, after which every write gets
 * EAGAIN until the peer reads, so queue sizes are exact (no TCP window dynamics).
 */
#include "harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

/* ======================================================================== */
/* write/writev interposition                                                */
/* ======================================================================== */

/* The executable's definitions come first in symbol lookup, so the library's (and
 * libuv's) calls to write/writev land here; they count the calls on one fd and
 * forward to the next definition (libc's, or the sanitizer's interceptor). This
 * works because the linker exports an executable's definition of a symbol that a
 * linked shared library also defines; if it ever stops working, the coalescing test
 * fails with "no write or writev call was seen" (link uvs_ctest with -rdynamic,
 * i.e. set_target_properties(uvs_ctest PROPERTIES ENABLE_EXPORTS ON)). */
static volatile int counted_fd = -1;
static volatile int write_calls;
static volatile int writev_calls;

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);

/* The next definition of `name` after the executable's, into the function pointer
 * *fn (of `size` bytes); without one there is nothing to forward to: exit. */
static void next_definition(const char *name, void *fn, size_t size) {
    void *sym = dlsym(RTLD_NEXT, name);
    memcpy(fn, &sym, size);
    if (sym == NULL)
        _exit(99);
}

static void count_call(int fd, volatile int *calls) {
    if (fd >= 0 && fd == counted_fd)
        (*calls)++;
}

ssize_t write(int fd, const void *buf, size_t n) {
    static write_fn real;
    if (real == NULL)
        next_definition("write", &real, sizeof(real));
    count_call(fd, &write_calls);
    return real(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    static writev_fn real;
    if (real == NULL)
        next_definition("writev", &real, sizeof(real));
    count_call(fd, &writev_calls);
    return real(fd, iov, iovcnt);
}

/* ======================================================================== */
/* Helpers                                                                   */
/* ======================================================================== */

/* Fills the kernel send buffer of a with pattern bytes (try_write until EAGAIN);
 * stream offsets start..; returns how many were written. With b not reading, every later write of a
 * queues in the library, byte for byte. */
static size_t fill_kernel_at(uvs_stream_t *a, size_t start) {
    char *chunk = xcalloc(1, 65536);
    size_t off = start;
    int rounds = 0;

    for (;;) {
        uvs_buf_t b;
        int r;
        fill_pattern(chunk, 65536, off);
        b.base = chunk;
        b.len = 65536;
        r = uvs_try_write(a, &b, 1);
        if (r == UVS_EAGAIN)
            break;
        ASSERT_GT(r, 0);
        off += (size_t)r;
        if (++rounds > 10000)
            FAIL("the kernel took 640 MB without EAGAIN");
    }
    free(chunk);
    ASSERT(off > start);
    ASSERT_UEQ(uvs_write_queue_size(a), 0);
    return off - start;
}

#define fill_kernel(a) fill_kernel_at((a), 0)

/* Writability callback: logs "wr:<writable>", checks the 0/1 alternation, records
 * the queue size it saw. */
struct wstate {
    int calls;
    int last;          /* last value reported (-1: none) */
    size_t queue_at[16];
    int blocked_at[16]; /* uvs_is_write_blocked inside the callback */
};

static void wstate_init(struct wstate *w) {
    memset(w, 0, sizeof(*w));
    w->last = -1;
}

static void writability_cb(uvs_stream_t *s, int writable, void *u) {
    struct wstate *w = u;
    ASSERT_NOT_SYNC();
    if (writable != 0 && writable != 1)
        FAIL("writability callback with %d", writable);
    if (writable == w->last)
        FAIL("writability callback reported %d twice in a row", writable);
    w->last = writable;
    if (w->calls < 16) {
        w->queue_at[w->calls] = uvs_write_queue_size(s);
        w->blocked_at[w->calls] = uvs_is_write_blocked(s);
    }
    w->calls++;
    ev("wr:%d", writable);
}

/* A write callback logging "w<user_data>:<status>". */
static void log_w_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    ASSERT_NOT_SYNC();
    ev("w%s:%s", (const char *)u, code_name(status));
}

/* ======================================================================== */
/* Watermarks                                                                */
/* ======================================================================== */

/* Default high watermark: 65536 queued bytes are not "above" it, 65537 are. The
 * callback comes from the loop (never inside uvs_write), once; more writes while
 * blocked do not repeat it; when the peer reads it reports 1 once, with the queue
 * at UVS_DEFAULT_LOW_WATERMARK or below. */
static void test_flow_default_high_watermark(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct wstate w;
    struct reader r;
    size_t off;

    wstate_init(&w);
    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_EQ(uvs_is_write_blocked(a), 0);
    ASSERT_OK(uvs_on_writability_changed(a, writability_cb, &w));
    off = fill_kernel(a);

    in_call = 1;
    write_pattern_at(a, off, UVS_DEFAULT_HIGH_WATERMARK, NULL, NULL);
    off += UVS_DEFAULT_HIGH_WATERMARK;
    ASSERT_UEQ(uvs_write_queue_size(a), UVS_DEFAULT_HIGH_WATERMARK);
    ASSERT_EQ(uvs_is_write_blocked(a), 0);
    write_pattern_at(a, off, 1, NULL, NULL);
    off += 1;
    ASSERT_UEQ(uvs_write_queue_size(a), UVS_DEFAULT_HIGH_WATERMARK + 1);
    ASSERT_EQ(uvs_is_write_blocked(a), 1);
    in_call = 0;
    ASSERT_EQ(w.calls, 0);
    RUN_UNTIL(loop, w.calls == 1);
    ASSERT_STR_EQ(evlog(), "wr:0");
    ASSERT_EQ(w.blocked_at[0], 1);

    /* Still above: more writes, no second report. */
    write_pattern_at(a, off, 5000, NULL, NULL);
    off += 5000;
    ASSERT_EQ(uvs_is_write_blocked(a), 1);
    run_for(loop, 20);
    ASSERT_EQ(w.calls, 1);

    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, r.len == off && w.calls == 2);
    ASSERT_STR_EQ(evlog(), "wr:0 wr:1");
    ASSERT(w.queue_at[1] <= UVS_DEFAULT_LOW_WATERMARK);
    ASSERT_EQ(w.blocked_at[1], 0);
    ASSERT_EQ(uvs_is_write_blocked(a), 0);
    ASSERT_UEQ(check_pattern(r.data, r.len, 0), (size_t)-1);
    run_for(loop, 20);
    ASSERT_EQ(w.calls, 2);
    reader_free(&r);
    finish_loop(loop);
}

/* Default low watermark: a queue of A (in flight) + B (waiting) bytes above the
 * high watermark. When A completes the queue is B: with B == 16384 it has fallen to
 * the low watermark, so "wr:1" comes before B completes; with B == 16385 it has
 * not, and whenever "wr:1" comes the queue is at 16384 or below. */
static void run_low_case(size_t bsize, const char *must_contain) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct wstate w;
    struct reader r;
    size_t off, asize = 60000;

    wstate_init(&w);
    memset(&r, 0, sizeof(r));
    ev_reset();
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_OK(uvs_on_writability_changed(a, writability_cb, &w));
    off = fill_kernel(a);
    write_pattern_at(a, off, asize, log_w_cb, "A");
    off += asize;
    write_pattern_at(a, off, bsize, log_w_cb, "B");
    off += bsize;
    ASSERT_UEQ(uvs_write_queue_size(a), asize + bsize);
    ASSERT_EQ(uvs_is_write_blocked(a), 1);
    RUN_UNTIL(loop, w.calls == 1);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, r.len == off && w.calls == 2 && strstr(evlog(), "wB") != NULL);
    if (strstr(evlog(), must_contain) == NULL)
        FAIL("B = %zu: event log \"%s\" lacks \"%s\"", bsize, evlog(), must_contain);
    if (w.queue_at[1] > UVS_DEFAULT_LOW_WATERMARK)
        FAIL("B = %zu: writable reported with %zu bytes queued (low watermark %d)", bsize,
             w.queue_at[1], UVS_DEFAULT_LOW_WATERMARK);
    ASSERT_UEQ(check_pattern(r.data, r.len, 0), (size_t)-1);
    reader_free(&r);
    finish_loop(loop);
}

static void test_flow_default_low_watermark(void) {
    run_low_case(UVS_DEFAULT_LOW_WATERMARK, "wr:0 wA:0 wr:1 wB:0");
    run_low_case(UVS_DEFAULT_LOW_WATERMARK + 1, "wr:0 wA:0");
}

/* uvs_set_write_watermarks: low > high is EINVAL; low == high and 0/0 are fine;
 * custom values take effect (exactly at the boundaries). */
static void test_flow_set_watermarks(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct wstate w;
    struct reader r;
    size_t off;

    wstate_init(&w);
    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_ERR(uvs_set_write_watermarks(a, 100, 101), UVS_EINVAL);
    ASSERT_ERR(uvs_set_write_watermarks(a, 0, 1), UVS_EINVAL);
    ASSERT_OK(uvs_set_write_watermarks(a, 0, 0));
    ASSERT_OK(uvs_set_write_watermarks(a, 500, 500));
    ASSERT_OK(uvs_set_write_watermarks(a, 1000, 100));
    ASSERT_ERR(uvs_set_write_watermarks(a, 10, 20), UVS_EINVAL); /* 1000/100 stay */
    ASSERT_OK(uvs_on_writability_changed(a, writability_cb, &w));
    off = fill_kernel(a);
    write_pattern_at(a, off, 1000, NULL, NULL);
    off += 1000;
    ASSERT_EQ(uvs_is_write_blocked(a), 0);
    write_pattern_at(a, off, 1, NULL, NULL);
    off += 1;
    ASSERT_EQ(uvs_is_write_blocked(a), 1);
    RUN_UNTIL(loop, w.calls == 1);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, r.len == off && w.calls == 2);
    ASSERT_STR_EQ(evlog(), "wr:0 wr:1");
    ASSERT(w.queue_at[1] <= 100);
    reader_free(&r);
    finish_loop(loop);
}

/* The watermarks are size_t with one constraint (low <= high): the largest values
 * are valid, and a high watermark of SIZE_MAX never blocks. */
static void test_flow_watermarks_size_max(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    size_t off;

    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_OK(uvs_set_write_watermarks(a, SIZE_MAX, 0));
    ASSERT_OK(uvs_set_write_watermarks(a, SIZE_MAX, SIZE_MAX));
    ASSERT_OK(uvs_set_write_watermarks(a, SIZE_MAX, SIZE_MAX / 2));
    ASSERT_ERR(uvs_set_write_watermarks(a, SIZE_MAX - 1, SIZE_MAX), UVS_EINVAL);
    off = fill_kernel(a);
    write_pattern_at(a, off, 4u * 1024 * 1024, NULL, NULL);
    ASSERT_EQ(uvs_is_write_blocked(a), 0);
    finish_loop(loop);
}

/* Flow control through its whole cycle, several times: a producer that writes
 * 16 KiB chunks until uvs_is_write_blocked() and resumes in the writability
 * callback keeps the queue within the high watermark + one chunk; all 8 MiB arrive
 * in order; the callbacks alternate 0/1, each crossing reported once. */
struct producer {
    uvs_stream_t *s;
    size_t sent, total, max_queue;
    int resumes;
    char chunk[16384];
    struct wstate w;
};

static void produce(struct producer *p) {
    while (p->sent < p->total) {
        size_t n = p->total - p->sent < sizeof(p->chunk) ? p->total - p->sent : sizeof(p->chunk);
        size_t q;
        uvs_buf_t b;
        fill_pattern(p->chunk, n, p->sent);
        b.base = p->chunk;
        b.len = n;
        ASSERT_OK(uvs_write(p->s, &b, 1, NULL, NULL));
        p->sent += n;
        q = uvs_write_queue_size(p->s);
        if (q > p->max_queue)
            p->max_queue = q;
        if (uvs_is_write_blocked(p->s))
            return;
    }
}

static void producer_writability(uvs_stream_t *s, int writable, void *u) {
    struct producer *p = u;
    writability_cb(s, writable, &p->w);
    if (writable) {
        p->resumes++;
        produce(p);
    }
}

static void test_flow_producer_bounded(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct producer *p = xcalloc(1, sizeof(*p));
    struct reader r;

    memset(&r, 0, sizeof(r));
    wstate_init(&p->w);
    make_pipe_pair(loop, 0, &a, &b);
    p->s = a;
    p->total = 8u * 1024 * 1024;
    ASSERT_OK(uvs_on_writability_changed(a, producer_writability, p));
    produce(p);
    ASSERT_EQ(uvs_is_write_blocked(a), 1); /* the kernel buffer is far below 8 MiB */
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, r.len == p->total);
    ASSERT_UEQ(p->sent, p->total);
    ASSERT_UEQ(check_pattern(r.data, r.len, 0), (size_t)-1);
    if (p->max_queue > UVS_DEFAULT_HIGH_WATERMARK + sizeof(p->chunk))
        FAIL("the write queue reached %zu bytes (high watermark %d + one write of %zu)",
             p->max_queue, UVS_DEFAULT_HIGH_WATERMARK, sizeof(p->chunk));
    ASSERT_GE(p->resumes, 1);
    ASSERT_EQ(p->w.last, 1); /* drained: the last report is "writable" */
    ASSERT_EQ(p->w.calls, 2 * p->resumes);
    reader_free(&r);
    free(p);
    finish_loop(loop);
}

/* uvs_on_writability_changed(NULL) unregisters: the state still changes, nothing is
 * called; a new registration replaces the old one. */
static void other_cb(uvs_stream_t *s, int writable, void *u) {
    (void)s;
    (void)u;
    ASSERT_NOT_SYNC();
    ev("other:%d", writable);
}

static void test_flow_unregister(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct wstate w;
    struct reader r;
    size_t off;

    wstate_init(&w);
    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_OK(uvs_set_write_watermarks(a, 1000, 0));
    ASSERT_OK(uvs_on_writability_changed(a, writability_cb, &w));
    ASSERT_OK(uvs_on_writability_changed(a, NULL, NULL));
    ASSERT_OK(uvs_on_writability_changed(a, NULL, &w)); /* again, with user_data */
    off = fill_kernel(a);
    write_pattern_at(a, off, 2000, NULL, NULL);
    off += 2000;
    ASSERT_EQ(uvs_is_write_blocked(a), 1);
    run_for(loop, 20);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, r.len == off);
    RUN_UNTIL(loop, uvs_write_queue_size(a) == 0);
    ASSERT_EQ(uvs_is_write_blocked(a), 0);
    run_for(loop, 20);
    ASSERT_EQ(w.calls, 0);
    ASSERT_STR_EQ(evlog(), "");

    /* Replaced: only the newest callback hears of the next crossings. */
    ASSERT_OK(uvs_read_stop(b));
    ASSERT_OK(uvs_on_writability_changed(a, writability_cb, &w));
    ASSERT_OK(uvs_on_writability_changed(a, other_cb, NULL));
    off += fill_kernel_at(a, off);
    write_pattern_at(a, off, 2000, NULL, NULL);
    off += 2000;
    RUN_UNTIL(loop, strstr(evlog(), "other:0") != NULL);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, r.len == off && strstr(evlog(), "other:1") != NULL);
    ASSERT_STR_EQ(evlog(), "other:0 other:1");
    ASSERT_EQ(w.calls, 0);
    ASSERT_UEQ(check_pattern(r.data, r.len, 0), (size_t)-1);
    reader_free(&r);
    finish_loop(loop);
}

/* "... then with 1 when it falls to the low watermark or below (or the stream can
 * no longer be written)": a blocked stream whose peer goes away reports 1 once. */
static void test_flow_writable_on_error(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct wstate w;
    int ws = NOT_CALLED;
    size_t off;

    wstate_init(&w);
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_OK(uvs_on_writability_changed(a, writability_cb, &w));
    off = fill_kernel(a);
    write_pattern_at(a, off, 100000, status_cb, &ws);
    RUN_UNTIL(loop, w.calls == 1);
    ASSERT_OK(uvs_close(UVS_HANDLE(b), NULL, NULL));
    RUN_UNTIL(loop, ws != NOT_CALLED && w.calls == 2);
    ASSERT_ERR2(ws, UVS_EPIPE, UVS_ECONNRESET);
    ASSERT_STR_EQ(evlog(), "wr:0 wr:1");
    ASSERT_EQ(uvs_is_write_blocked(a), 0);
    ASSERT_EQ(uvs_is_writable(a), 0);
    run_for(loop, 20);
    ASSERT_EQ(w.calls, 2);
    finish_loop(loop);
}

/* ======================================================================== */
/* Coalescing                                                                */
/* ======================================================================== */

/* 1000 small writes issued in one loop turn while a write is in flight go out in a
 * few system calls (not one each), every byte in order, every callback once in
 * order. */
struct order {
    int next;
    int bad;
};

static void order_cb(uvs_stream_t *s, int status, void *u) {
    struct order *o = u;
    (void)s;
    ASSERT_NOT_SYNC();
    ASSERT_OK(status);
    o->next++;
}

static void test_flow_coalescing(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct reader r;
    struct order o = {0, 0};
    size_t off;
    int i, calls;
    enum { N = 1000, SMALL = 10, FIRST = 1000 };

    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    off = fill_kernel(a);
    /* The write in flight: the kernel is full, so libuv waits for POLLOUT. */
    write_pattern_at(a, off, FIRST, NULL, NULL);
    off += FIRST;
    ASSERT_UEQ(uvs_write_queue_size(a), FIRST);

    counted_fd = uvs_fileno(UVS_HANDLE(a));
    ASSERT_GE(counted_fd, 0);
    write_calls = writev_calls = 0;
    for (i = 0; i < N; i++) {
        write_pattern_at(a, off, SMALL, order_cb, &o);
        off += SMALL;
    }
    ASSERT_UEQ(uvs_write_queue_size(a), FIRST + N * SMALL);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, r.len == off && o.next == N);
    calls = write_calls + writev_calls;
    counted_fd = -1;
    ASSERT_UEQ(check_pattern(r.data, r.len, 0), (size_t)-1);
    if (calls == 0)
        FAIL("no write or writev call was seen on the stream's fd: the interposition is not "
             "active (link uvs_ctest with -rdynamic / ENABLE_EXPORTS)");
    if (calls >= 20)
        FAIL("%d small writes took %d system calls (%d write, %d writev): not coalesced", N, calls,
             write_calls, writev_calls);
    reader_free(&r);
    finish_loop(loop);
}

/* The interposition itself works (so a low count above means coalescing). */
static void test_flow_interposition_active(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct reader r;
    int i, ws = NOT_CALLED;

    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    counted_fd = uvs_fileno(UVS_HANDLE(a));
    write_calls = writev_calls = 0;
    /* Idle stream, one write per loop turn: each goes to the kernel at once. */
    for (i = 0; i < 5; i++) {
        ws = NOT_CALLED;
        write_pattern_at(a, (size_t)i * 10, 10, status_cb, &ws);
        RUN_UNTIL(loop, ws != NOT_CALLED && r.len == (size_t)(i + 1) * 10);
    }
    counted_fd = -1;
    if (write_calls + writev_calls != 5)
        FAIL("5 writes on an idle stream: %d write + %d writev calls counted (expected 5; 0 "
             "means the interposition is not active)",
             write_calls, writev_calls);
    reader_free(&r);
    finish_loop(loop);
}

/* ======================================================================== */
/* is_reading                                                                */
/* ======================================================================== */

static void test_flow_is_reading(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct reader r;
    int ss = NOT_CALLED;

    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_EQ(uvs_is_reading(b), 0);
    ASSERT_OK(uvs_read_stop(b));
    ASSERT_EQ(uvs_is_reading(b), 0);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    ASSERT_EQ(uvs_is_reading(b), 1);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    ASSERT_EQ(uvs_is_reading(b), 1);
    ASSERT_OK(uvs_read_stop(b));
    ASSERT_EQ(uvs_is_reading(b), 0);
    ASSERT_OK(uvs_read_stop(b));
    ASSERT_EQ(uvs_is_reading(b), 0);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    ASSERT_EQ(uvs_is_reading(b), 1);
    run_nowait(loop, 2);
    ASSERT_EQ(uvs_is_reading(b), 1);
    ASSERT_EQ(uvs_is_reading(a), 0);
    /* EOF stops reading. */
    ASSERT_OK(uvs_shutdown(a, status_cb, &ss));
    RUN_UNTIL(loop, r.eofs == 1);
    ASSERT_EQ(uvs_is_reading(b), 0);
    ASSERT_ERR(uvs_read_start(b, reader_cb, &r), UVS_ENOTCONN);
    ASSERT_EQ(uvs_is_reading(b), 0);
    ASSERT_OK(uvs_read_stop(b));
    /* Closed: 0. */
    ASSERT_OK(uvs_read_start(a, reader_cb, &r));
    ASSERT_EQ(uvs_is_reading(a), 1);
    ASSERT_OK(uvs_close(UVS_HANDLE(a), NULL, NULL));
    ASSERT_EQ(uvs_is_reading(a), 0);
    reader_free(&r);
    finish_loop(loop);
}

const struct uvs_test tests_flow[] = {
    {"flow_default_high_watermark", test_flow_default_high_watermark},
    {"flow_default_low_watermark", test_flow_default_low_watermark},
    {"flow_set_watermarks", test_flow_set_watermarks},
    {"flow_watermarks_size_max", test_flow_watermarks_size_max},
    {"flow_producer_bounded", test_flow_producer_bounded},
    {"flow_unregister", test_flow_unregister},
    {"flow_writable_on_error", test_flow_writable_on_error},
    {"flow_interposition_active", test_flow_interposition_active},
    {"flow_coalescing", test_flow_coalescing},
    {"flow_is_reading", test_flow_is_reading},
    {0, 0},
};
