/*
 * harness.h — the tiny test framework of the C test suite.
 *
 * Each test is a `static void test_xxx(void)` function. Each test file exposes its
 * tests through a table terminated by {0}:
 *
 *     const struct uvs_test tests_tcp[] = {
 *         {"tcp_connect_echo", test_tcp_connect_echo},
 *         {0}
 *     };
 *
 * and runner.c lists the tables. The runner forks a child per test and enforces a
 * timeout, so a test may crash, hang or exit: only that test fails. Inside a test,
 * a failed assertion reports "file:line: what" to the runner and ends the child.
 *
 * Every test creates its loop(s) with make_loop() and ends through finish_loop(),
 * which closes every handle, runs the loop until the close callbacks have run and
 * asserts that the loop closes (no leaked handle).
 *
 * Callbacks, fixtures and assertion helpers that several test files share live in
 * helpers.c (section "Shared test helpers" below): a test file defines only what is
 * its own.
 *
 * Never wait with sleep(): run the loop until a condition holds with RUN_UNTIL(),
 * which fails the test (instead of hanging) when the condition does not come true
 * within UVS_TEST_GUARD_MS. RUN_UNTIL() keeps one guard timer per loop: it counts
 * in uvs_loop_handle_count(), so tests that count handles do so before their first
 * RUN_UNTIL() or compare counts taken after it.
 */
#ifndef UVS_TEST_HARNESS_H
#define UVS_TEST_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* include harness.h first: it must come before any system header */
#endif

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "swiftuvstream.h"

/* ------------------------------------------------------------------------ */
/* Test tables                                                               */
/* ------------------------------------------------------------------------ */

struct uvs_test {
    const char *name;
    void (*fn)(void);
};

/* How long RUN_UNTIL() / run_loop() wait before failing the test (ms). */
#define UVS_TEST_GUARD_MS 10000

/* A mebibyte, for buffer and write sizes. */
#define MIB (1024u * 1024u)

/* ------------------------------------------------------------------------ */
/* Failing                                                                   */
/* ------------------------------------------------------------------------ */

#if defined(__GNUC__)
#define UVS_NORETURN __attribute__((noreturn))
#define UVS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define UVS_NORETURN
#define UVS_PRINTF(a, b)
#endif

/* Reports "file:line: message" to the runner and ends the test (child process). */
UVS_NORETURN UVS_PRINTF(3, 4) void harness_fail(const char *file, int line, const char *fmt, ...);

/* Ends the test as skipped (counted as passed, reported as "ok name # skip: why"). */
UVS_NORETURN UVS_PRINTF(1, 2) void harness_skip(const char *fmt, ...);

/* The symbolic name of an error code from the harness's own table (independent of
 * the library's uvs_err_name(), so that logs stay readable even if it is broken):
 * "0", "ECANCELED", "EOF", ... or the number. Static storage (rotating buffers for
 * numbers). */
const char *code_name(long long code);

/* Every error code of the header: value, name without the prefix, and libuv 1.44's
 * message (NULL for the library's own codes, whose wording is not fixed).
 * Terminated by an entry with name NULL. */
struct uvs_code {
    int code;
    const char *name;
    const char *message;
};
extern const struct uvs_code uvs_test_codes[];

#define FAIL(...) harness_fail(__FILE__, __LINE__, __VA_ARGS__)
#define SKIP(...) harness_skip(__VA_ARGS__)

#define ASSERT(cond)                                                                   \
    do {                                                                               \
        if (!(cond))                                                                   \
            harness_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);           \
    } while (0)

/* Integer comparisons; both values are printed on failure. */
#define ASSERT_CMP_(a, op, b)                                                          \
    do {                                                                               \
        long long a_ = (long long)(a);                                                 \
        long long b_ = (long long)(b);                                                 \
        if (!(a_ op b_))                                                               \
            harness_fail(__FILE__, __LINE__, "assertion failed: %s %s %s (%lld %s %lld)", \
                         #a, #op, #b, a_, #op, b_);                                     \
    } while (0)
#define ASSERT_EQ(a, b) ASSERT_CMP_(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_CMP_(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_CMP_(a, <, b)
#define ASSERT_LE(a, b) ASSERT_CMP_(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_CMP_(a, >, b)
#define ASSERT_GE(a, b) ASSERT_CMP_(a, >=, b)

/* Unsigned comparisons (size_t, uint64_t). */
#define ASSERT_UEQ(a, b)                                                               \
    do {                                                                               \
        unsigned long long a_ = (unsigned long long)(a);                               \
        unsigned long long b_ = (unsigned long long)(b);                               \
        if (a_ != b_)                                                                  \
            harness_fail(__FILE__, __LINE__, "assertion failed: %s == %s (%llu != %llu)", \
                         #a, #b, a_, b_);                                               \
    } while (0)

/* An int-returning call that must give the error code `code` (0 for success);
 * prints both codes by name on failure. */
#define ASSERT_ERR(expr, code)                                                         \
    do {                                                                               \
        long long got_ = (long long)(expr);                                            \
        long long want_ = (long long)(code);                                           \
        if (got_ != want_)                                                             \
            harness_fail(__FILE__, __LINE__, "%s returned %s (%lld), expected %s (%lld)", \
                         #expr, code_name(got_), got_, code_name(want_), want_);       \
    } while (0)
#define ASSERT_OK(expr) ASSERT_ERR(expr, 0)

/* Two acceptable codes (where the header allows either). */
#define ASSERT_ERR2(expr, code1, code2)                                                \
    do {                                                                               \
        long long got_ = (long long)(expr);                                            \
        if (got_ != (long long)(code1) && got_ != (long long)(code2))                  \
            harness_fail(__FILE__, __LINE__, "%s returned %s (%lld), expected %s or %s", \
                         #expr, code_name(got_), got_, code_name(code1), code_name(code2)); \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                            \
    do {                                                                               \
        const char *a_ = (a);                                                          \
        const char *b_ = (b);                                                          \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                           \
            harness_fail(__FILE__, __LINE__, "assertion failed: %s == %s (\"%s\" != \"%s\")", \
                         #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");              \
    } while (0)

#define ASSERT_PTR_EQ(a, b)                                                            \
    do {                                                                               \
        const void *a_ = (const void *)(a);                                            \
        const void *b_ = (const void *)(b);                                            \
        if (a_ != b_)                                                                  \
            harness_fail(__FILE__, __LINE__, "assertion failed: %s == %s (%p != %p)",  \
                         #a, #b, a_, b_);                                               \
    } while (0)
#define ASSERT_NULL(a) ASSERT_PTR_EQ(a, NULL)
#define ASSERT_NOT_NULL(a)                                                             \
    do {                                                                               \
        if ((a) == NULL)                                                               \
            harness_fail(__FILE__, __LINE__, "assertion failed: %s != NULL", #a);      \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Event log: callbacks append short tokens, the test compares the whole log.  */
/* ------------------------------------------------------------------------ */

/* Appends one token (printf format) to the log, separated by a space. */
UVS_PRINTF(1, 2) void ev(const char *fmt, ...);
/* The log so far ("" when empty). */
const char *evlog(void);
/* Clears the log. */
void ev_reset(void);

/* Set around a call that schedules a callback; callbacks assert it is 0 with
 * ASSERT_NOT_SYNC() to prove they never run inside the scheduling call. */
extern int in_call;
#define ASSERT_NOT_SYNC()                                                              \
    do {                                                                               \
        if (in_call)                                                                   \
            harness_fail(__FILE__, __LINE__, "callback ran inside the call that scheduled it"); \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Loop helpers                                                              */
/* ------------------------------------------------------------------------ */

/* A new loop (asserts success). */
uvs_loop_t *make_loop(void);

/* Closes every handle (uvs_loop_close_all), runs the loop until it stops, asserts
 * that no handle is left and uvs_loop_close() == 0, then releases the loop.
 * Every test ends through it. */
#define finish_loop(loop) finish_loop_at(__FILE__, __LINE__, (loop))
void finish_loop_at(const char *file, int line, uvs_loop_t *loop);

/* Runs the loop with uvs_loop_run(UVS_RUN_ONCE) until cond holds; fails the test if
 * it does not within UVS_TEST_GUARD_MS (a referenced guard timer keeps the loop
 * polling meanwhile). */
#define RUN_UNTIL(loop, cond)                                                          \
    do {                                                                               \
        guard_arm(loop, __FILE__, __LINE__, #cond, 1);                                 \
        while (!(cond)) {                                                              \
            int r_ = uvs_loop_run((loop), UVS_RUN_ONCE);                               \
            if (r_ < 0)                                                                \
                harness_fail(__FILE__, __LINE__, "uvs_loop_run returned %s while waiting for %s", \
                             code_name(r_), #cond);                                    \
        }                                                                              \
        guard_disarm(loop);                                                            \
    } while (0)

/* Runs the loop with UVS_RUN_DEFAULT until it has no more work; fails the test if
 * that takes longer than UVS_TEST_GUARD_MS (the guard timer is unreferenced, so it
 * does not keep the loop alive). Returns what uvs_loop_run() returned. */
#define run_loop(loop) run_loop_at(__FILE__, __LINE__, (loop))
int run_loop_at(const char *file, int line, uvs_loop_t *loop);

/* Runs `n` iterations of UVS_RUN_NOWAIT (used to give a callback that must NOT come
 * a chance to come). */
void run_nowait(uvs_loop_t *loop, int n);

/* Lets the loop run for about `ms` milliseconds (a timer), for negative checks
 * ("no further callback arrives"), never as synchronisation. */
void run_for(uvs_loop_t *loop, uint64_t ms);

void guard_arm(uvs_loop_t *loop, const char *file, int line, const char *what, int ref);
void guard_disarm(uvs_loop_t *loop);

/* ------------------------------------------------------------------------ */
/* TCP helpers                                                               */
/* ------------------------------------------------------------------------ */

/* A TCP stream listening on ip ("127.0.0.1", "::1") port 0; returns its port.
 * cb/user_data are passed to uvs_listen(). */
int make_server(uvs_loop_t *loop, const char *ip, uvs_stream_t **out, uvs_connection_cb cb,
                void *user_data);

/* A connected pair over 127.0.0.1: `client` connected to `server`, whose connection
 * was accepted into `conn`. The listener stays open (finish_loop() closes it); later
 * connections to it are left waiting (not accepted). */
struct tcp_pair {
    uvs_stream_t *server;
    uvs_stream_t *client;
    uvs_stream_t *conn;
    int port;
    int connected;      /* connect callback ran */
    int connect_status; /* its status */
    int accepted;       /* connection accepted into conn */
};
void make_tcp_pair(uvs_loop_t *loop, struct tcp_pair *pair);

/* A port on 127.0.0.1 where nothing listens: a raw socket bound there and never
 * listening, so a connect is refused (RST) deterministically. Close *fd at the end. */
int refused_port(int *fd);

/* A blocking raw socket connected to 127.0.0.1:port (the kernel completes the
 * handshake without the loop running). */
#define raw_connect(port) raw_connect_at(__FILE__, __LINE__, (port))
int raw_connect_at(const char *file, int line, int port);

/* errno of a blocking connect to 127.0.0.1:port (0 if it connected); the socket is
 * closed again. */
int raw_connect_errno(int port);

/* Collects what a stream reads. Use reader_cb as the read callback with a
 * `struct reader *` as user_data. */
struct reader {
    char *data;
    size_t len;
    size_t cap;
    int chunks;    /* read callbacks with data */
    int eofs;      /* UVS_EOF callbacks */
    int errors;    /* other negative statuses */
    int last_error;
    int after_end; /* callbacks after EOF or an error (must stay 0) */
    int bad_args;  /* callbacks whose (status, data, len) broke the contract */
};
void reader_cb(uvs_stream_t *stream, int status, const char *data, size_t len, void *user_data);
void reader_free(struct reader *r);

/* A write/shutdown/connect callback storing its status into the int user_data
 * points to (set it to 1 before: 1 means "not called yet"); fails the test if it is
 * called twice. */
void status_cb(uvs_stream_t *stream, int status, void *user_data);
#define NOT_CALLED 1

/* A deterministic byte pattern depending on the absolute offset in the stream, to
 * detect lost, duplicated or reordered bytes. */
void fill_pattern(char *buf, size_t len, size_t offset);
/* Index of the first byte that differs from the pattern, or (size_t)-1. */
size_t check_pattern(const char *buf, size_t len, size_t offset);

/* The struct reader r (a variable or member: r, st.r) holds exactly `total` bytes,
 * the pattern from stream offset 0. */
#define ASSERT_PATTERN(r, total)                                                       \
    do {                                                                               \
        ASSERT_UEQ(r.len, total);                                                      \
        ASSERT_UEQ(check_pattern(r.data, r.len, 0), (size_t)-1);                       \
    } while (0)

/* A zero-filled allocation that fails the test on ENOMEM. */
void *xcalloc(size_t n, size_t size);

/* ------------------------------------------------------------------------ */
/* Pipe helpers                                                              */
/* ------------------------------------------------------------------------ */

/* Two connected pipe streams over uvs_socketpair(), opened with uvs_pipe_open() (as
 * IPC pipes if ipc): what *a writes, *b reads, and back. */
void make_pipe_pair(uvs_loop_t *loop, int ipc, uvs_stream_t **a, uvs_stream_t **b);

/* ------------------------------------------------------------------------ */
/* Shared test helpers (helpers.c)                                           */
/* ------------------------------------------------------------------------ */

/* Callbacks that log one token to the event log; all but log_closed_cb assert that
 * they do not run inside the call that scheduled them (ASSERT_NOT_SYNC). */
void log_connect_cb(uvs_stream_t *stream, int status, void *user_data);  /* "connect:<status>" */
void log_write_cb(uvs_stream_t *stream, int status, void *user_data);    /* "write<u>:<status>" */
void log_shutdown_cb(uvs_stream_t *stream, int status, void *user_data); /* "shutdown:<status>" */
void log_close_cb(uvs_handle_t *handle, void *user_data);                /* "close<u>" */
void log_closed_cb(uvs_handle_t *handle, void *user_data);               /* "closed" */
/* (<u>: user_data, a string; log_close_cb takes NULL for "".) */

/* A close callback setting the int user_data points to to 1. */
void flag_close_cb(uvs_handle_t *handle, void *user_data);
/* A close callback adding one to the int user_data points to (ASSERT_NOT_SYNC). */
void count_close_cb(uvs_handle_t *handle, void *user_data);
/* Callbacks that do nothing. */
void nop_connection_cb(uvs_stream_t *server, int status, void *user_data);
void nop_timer_cb(uvs_timer_t *timer, void *user_data);
/* A posted function that stops the loop (uvs_loop_post(loop, stop_loop_cb, NULL)). */
void stop_loop_cb(uvs_loop_t *loop, void *user_data);

/* Writes the string `text`; with status (set to NOT_CALLED here), the write callback is
 * status_cb storing into it; without (NULL), there is no callback. */
void write_str(uvs_stream_t *s, const char *text, int *status);
/* Writes len pattern bytes starting at stream offset off (the library copies what it
 * keeps, so the temporary buffer is freed at once). */
void write_pattern_at(uvs_stream_t *s, size_t off, size_t len, uvs_write_cb cb, void *user_data);
/* Writes len zero bytes, the same way. */
void write_zeros(uvs_stream_t *s, size_t len, uvs_write_cb cb, void *user_data);

/* Per-write record: wrec_cb counts the calls, keeps the status and logs
 * "w<index>:<status>" (ASSERT_NOT_SYNC). wrec_init numbers n records 0..n-1 and
 * zeroes their calls. */
struct wrec {
    int index;
    int calls;
    int status;
};
void wrec_init(struct wrec *w, int n);
void wrec_cb(uvs_stream_t *stream, int status, void *user_data);
/* Each of the n writes called back once, with 0, and the event log is exactly
 * "w0:0 w1:0 ... w<n-1>:0". */
void expect_writes_ok_in_order(const struct wrec *w, int n);

/* A read callback that collects (reader_cb) into the `struct reader` user_data and
 * writes back every chunk it reads. */
void echo_back_cb(uvs_stream_t *s, int status, const char *data, size_t len, void *user_data);

/* A read callback for the half-close tests (user_data: a zeroed struct half): collects
 * into `in` and, at EOF, records the stream's state and what a new read_start returns,
 * then logs eof_event if it is set. */
struct half {
    struct reader in;
    int eof_readable, eof_writable, eof_reading, restart;
    const char *eof_event;
};
void half_read(uvs_stream_t *s, int status, const char *data, size_t len, void *user_data);

/* A read callback (user_data: a zeroed struct stopper) that collects into r and calls
 * uvs_read_stop twice in the callback, recording uvs_is_reading afterwards. */
struct stopper {
    struct reader r;
    int reading_after_stop;
};
void stop_on_first_chunk(uvs_stream_t *s, int status, const char *data, size_t len,
                         void *user_data);
/* After uvs_read_start(s, stop_on_first_chunk, st) with more than one chunk of `total`
 * bytes waiting: runs the loop until the first chunk; reading stopped inside the
 * callback and stays stopped, s is still readable, and no further chunk arrives
 * within ms. */
void expect_stop_on_first_chunk(uvs_loop_t *loop, uvs_stream_t *s, struct stopper *st,
                                size_t total, uint64_t ms);

/* s reads into r (reader_cb) and its peer resets the connection: runs the loop until
 * r reports it, once, as ECONNRESET (no EOF); s is then neither readable, nor
 * writable, nor reading, and uvs_read_start reports ENOTCONN. */
void expect_reset_once(uvs_loop_t *loop, uvs_stream_t *s, struct reader *r);

/* Runs the loop until r holds `total` bytes and the write callback has stored its
 * status into *ws (status_cb); that status is 0 and r holds the pattern
 * (ASSERT_PATTERN). */
void expect_pattern_read(uvs_loop_t *loop, struct reader *r, size_t total, const int *ws);

/* A connection callback accepting into a new TCP stream stored in the
 * `uvs_stream_t *` user_data points to. */
void accept_into_cb(uvs_stream_t *server, int status, void *user_data);
/* A connection callback (user_data: a zeroed struct accept_read) accepting one
 * connection into conn (a second fails the test) and reading it into `in`. */
struct accept_read {
    uvs_stream_t *conn;
    struct reader in;
};
void accept_read_cb(uvs_stream_t *server, int status, void *user_data);

/* A new timer, started with uvs_timer_start(timeout, repeat, cb, user_data). */
uvs_timer_t *start_timer(uvs_loop_t *loop, uint64_t timeout, uint64_t repeat, uvs_timer_cb cb,
                         void *user_data);

/* A new TCP stream (family 0) connecting to 127.0.0.1:port with cb/user_data. */
uvs_stream_t *tcp_connect_to(uvs_loop_t *loop, int port, uvs_connect_cb cb, void *user_data);

/* SO_LINGER 0: closing the stream resets the connection (RST). */
void set_linger0(uvs_stream_t *s);

/* openpty(), or the test is skipped. */
void open_pty_or_skip(int *master, int *slave);

/* Reads exactly n bytes from the raw fd (blocking in poll; the timeout is only a
 * safety net). `from` completes the failure messages ("no data<from> after ...",
 * "read<from>: ..."): "" or, say, " from the pty master". */
void read_exactly(int fd, char *buf, size_t n, const char *from);

/* ------------------------------------------------------------------------ */
/* Handle ownership                                                          */
/* ------------------------------------------------------------------------ */

/* In the test files, uvs_tcp_new(), uvs_timer_new(), uvs_pipe_new(), uvs_tty_new() and
 * uvs_release() go through
 * these wrappers, which remember every reference a test got and did not return:
 * finish_loop() returns them after the loop closed, so tests need not release every
 * handle they make and LeakSanitizer still sees real leaks. The wrappers call the
 * library unchanged. */
int harness_tcp_new(uvs_loop_t *loop, int family, uvs_stream_t **out);
int harness_timer_new(uvs_loop_t *loop, uvs_timer_t **out);
int harness_pipe_new(uvs_loop_t *loop, int ipc, uvs_stream_t **out);
int harness_tty_new(uvs_loop_t *loop, int fd, int readable, uvs_stream_t **out);
void harness_release(uvs_handle_t *handle);
#ifndef UVS_HARNESS_IMPL
#define uvs_tcp_new(loop, family, out) harness_tcp_new((loop), (family), (out))
#define uvs_timer_new(loop, out) harness_timer_new((loop), (out))
#define uvs_pipe_new(loop, ipc, out) harness_pipe_new((loop), (ipc), (out))
#define uvs_tty_new(loop, fd, readable, out) harness_tty_new((loop), (fd), (readable), (out))
#define uvs_release(handle) harness_release(handle)
#endif

#endif /* UVS_TEST_HARNESS_H */
