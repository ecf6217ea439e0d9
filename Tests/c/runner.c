/*
 * runner.c — runs the C tests (see harness.h) and implements the harness helpers.
 *
 *   uvs_ctest [--list] [FILTER...]
 *
 * Runs every test whose name contains one of the FILTER substrings (all tests
 * without a filter), each in a forked child with a timeout (UVS_TEST_TIMEOUT
 * seconds, default 20). Prints "ok NAME" or "FAIL NAME: reason" per test and, as
 * the last line, "N passed, N failed". Exits 1 if a test failed (or none matched).
 * UVS_TEST_NOFORK=1 runs the tests in-process (for a debugger; stops at the first
 * failure).
 */
#define UVS_HARNESS_IMPL 1 /* the real uvs_tcp_new/uvs_timer_new/uvs_release here */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ======================================================================== */
/* The test tables                                                           */
/* ======================================================================== */

extern const struct uvs_test tests_version_errors[];
extern const struct uvs_test tests_loop[];
extern const struct uvs_test tests_handle[];
extern const struct uvs_test tests_timer[];
extern const struct uvs_test tests_tcp[];
extern const struct uvs_test tests_read[];
extern const struct uvs_test tests_write[];
extern const struct uvs_test tests_shutdown[];
extern const struct uvs_test tests_close[];
extern const struct uvs_test tests_listen[];
extern const struct uvs_test tests_threads[];
extern const struct uvs_test tests_pipe[];
extern const struct uvs_test tests_ipc[];
extern const struct uvs_test tests_tty[];
extern const struct uvs_test tests_flow[];
extern const struct uvs_test tests_stdio[];
extern const struct uvs_test tests_badinput[];

static const struct uvs_test *const all_tables[] = {
    tests_version_errors, tests_loop,  tests_handle, tests_timer,   tests_tcp,     tests_read,
    tests_write,          tests_shutdown, tests_close, tests_listen, tests_pipe,   tests_ipc,
    tests_tty,            tests_flow,  tests_stdio,  tests_threads, tests_badinput,
};
#define NTABLES (sizeof(all_tables) / sizeof(all_tables[0]))

/* ======================================================================== */
/* Error codes                                                               */
/* ======================================================================== */

const struct uvs_code uvs_test_codes[] = {
    {UVS_E2BIG, "E2BIG", "argument list too long"},
    {UVS_EACCES, "EACCES", "permission denied"},
    {UVS_EADDRINUSE, "EADDRINUSE", "address already in use"},
    {UVS_EADDRNOTAVAIL, "EADDRNOTAVAIL", "address not available"},
    {UVS_EAFNOSUPPORT, "EAFNOSUPPORT", "address family not supported"},
    {UVS_EAGAIN, "EAGAIN", "resource temporarily unavailable"},
    {UVS_EAI_ADDRFAMILY, "EAI_ADDRFAMILY", "address family not supported"},
    {UVS_EAI_AGAIN, "EAI_AGAIN", "temporary failure"},
    {UVS_EAI_BADFLAGS, "EAI_BADFLAGS", "bad ai_flags value"},
    {UVS_EAI_BADHINTS, "EAI_BADHINTS", "invalid value for hints"},
    {UVS_EAI_CANCELED, "EAI_CANCELED", "request canceled"},
    {UVS_EAI_FAIL, "EAI_FAIL", "permanent failure"},
    {UVS_EAI_FAMILY, "EAI_FAMILY", "ai_family not supported"},
    {UVS_EAI_MEMORY, "EAI_MEMORY", "out of memory"},
    {UVS_EAI_NODATA, "EAI_NODATA", "no address"},
    {UVS_EAI_NONAME, "EAI_NONAME", "unknown node or service"},
    {UVS_EAI_OVERFLOW, "EAI_OVERFLOW", "argument buffer overflow"},
    {UVS_EAI_PROTOCOL, "EAI_PROTOCOL", "resolved protocol is unknown"},
    {UVS_EAI_SERVICE, "EAI_SERVICE", "service not available for socket type"},
    {UVS_EAI_SOCKTYPE, "EAI_SOCKTYPE", "socket type not supported"},
    {UVS_EALREADY, "EALREADY", "connection already in progress"},
    {UVS_EBADF, "EBADF", "bad file descriptor"},
    {UVS_EBUSY, "EBUSY", "resource busy or locked"},
    {UVS_ECANCELED, "ECANCELED", "operation canceled"},
    {UVS_ECHARSET, "ECHARSET", "invalid Unicode character"},
    {UVS_ECONNABORTED, "ECONNABORTED", "software caused connection abort"},
    {UVS_ECONNREFUSED, "ECONNREFUSED", "connection refused"},
    {UVS_ECONNRESET, "ECONNRESET", "connection reset by peer"},
    {UVS_EDESTADDRREQ, "EDESTADDRREQ", "destination address required"},
    {UVS_EEXIST, "EEXIST", "file already exists"},
    {UVS_EFAULT, "EFAULT", "bad address in system call argument"},
    {UVS_EFBIG, "EFBIG", "file too large"},
    {UVS_EHOSTUNREACH, "EHOSTUNREACH", "host is unreachable"},
    {UVS_EINTR, "EINTR", "interrupted system call"},
    {UVS_EINVAL, "EINVAL", "invalid argument"},
    {UVS_EIO, "EIO", "i/o error"},
    {UVS_EISCONN, "EISCONN", "socket is already connected"},
    {UVS_EISDIR, "EISDIR", "illegal operation on a directory"},
    {UVS_ELOOP, "ELOOP", "too many symbolic links encountered"},
    {UVS_EMFILE, "EMFILE", "too many open files"},
    {UVS_EMSGSIZE, "EMSGSIZE", "message too long"},
    {UVS_ENAMETOOLONG, "ENAMETOOLONG", "name too long"},
    {UVS_ENETDOWN, "ENETDOWN", "network is down"},
    {UVS_ENETUNREACH, "ENETUNREACH", "network is unreachable"},
    {UVS_ENFILE, "ENFILE", "file table overflow"},
    {UVS_ENOBUFS, "ENOBUFS", "no buffer space available"},
    {UVS_ENODEV, "ENODEV", "no such device"},
    {UVS_ENOENT, "ENOENT", "no such file or directory"},
    {UVS_ENOMEM, "ENOMEM", "not enough memory"},
    {UVS_ENONET, "ENONET", "machine is not on the network"},
    {UVS_ENOPROTOOPT, "ENOPROTOOPT", "protocol not available"},
    {UVS_ENOSPC, "ENOSPC", "no space left on device"},
    {UVS_ENOSYS, "ENOSYS", "function not implemented"},
    {UVS_ENOTCONN, "ENOTCONN", "socket is not connected"},
    {UVS_ENOTDIR, "ENOTDIR", "not a directory"},
    {UVS_ENOTEMPTY, "ENOTEMPTY", "directory not empty"},
    {UVS_ENOTSOCK, "ENOTSOCK", "socket operation on non-socket"},
    {UVS_ENOTSUP, "ENOTSUP", "operation not supported on socket"},
    {UVS_EOVERFLOW, "EOVERFLOW", "value too large for defined data type"},
    {UVS_EPERM, "EPERM", "operation not permitted"},
    {UVS_EPIPE, "EPIPE", "broken pipe"},
    {UVS_EPROTO, "EPROTO", "protocol error"},
    {UVS_EPROTONOSUPPORT, "EPROTONOSUPPORT", "protocol not supported"},
    {UVS_EPROTOTYPE, "EPROTOTYPE", "protocol wrong type for socket"},
    {UVS_ERANGE, "ERANGE", "result too large"},
    {UVS_EROFS, "EROFS", "read-only file system"},
    {UVS_ESHUTDOWN, "ESHUTDOWN", "cannot send after transport endpoint shutdown"},
    {UVS_ESPIPE, "ESPIPE", "invalid seek"},
    {UVS_ESRCH, "ESRCH", "no such process"},
    {UVS_ETIMEDOUT, "ETIMEDOUT", "connection timed out"},
    {UVS_ETXTBSY, "ETXTBSY", "text file is busy"},
    {UVS_EXDEV, "EXDEV", "cross-device link not permitted"},
    {UVS_UNKNOWN, "UNKNOWN", "unknown error"},
    {UVS_EOF, "EOF", "end of file"},
    {UVS_ENXIO, "ENXIO", "no such device or address"},
    {UVS_EMLINK, "EMLINK", "too many links"},
    {UVS_EHOSTDOWN, "EHOSTDOWN", "host is down"},
    {UVS_EREMOTEIO, "EREMOTEIO", "remote I/O error"},
    {UVS_ENOTTY, "ENOTTY", "inappropriate ioctl for device"},
    {UVS_EFTYPE, "EFTYPE", "inappropriate file type or format"},
    {UVS_EILSEQ, "EILSEQ", "illegal byte sequence"},
    {UVS_ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", "socket type not supported"},
    {UVS_ECLOSED, "ECLOSED", NULL},
    {UVS_EWRONGTHREAD, "EWRONGTHREAD", NULL},
    {0, NULL, NULL},
};

const char *code_name(long long code) {
    static char bufs[8][32];
    static int next;
    const struct uvs_code *c;
    char *buf;

    if (code == 0)
        return "0";
    for (c = uvs_test_codes; c->name != NULL; c++)
        if (c->code == code)
            return c->name;
    buf = bufs[next++ % 8];
    snprintf(buf, sizeof(bufs[0]), "%lld", code);
    return buf;
}

/* ======================================================================== */
/* Failing and skipping (in the child)                                       */
/* ======================================================================== */

/* Where the child reports why it failed; -1 in-process. */
static int reason_fd = -1;
/* In-process (UVS_TEST_NOFORK=1), SKIP() jumps back to main(). */
static jmp_buf skip_jump;

static void report(char kind, const char *msg) {
    char line[2048];
    int n;

    n = snprintf(line, sizeof(line), "%c%s", kind, msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1;
    if (reason_fd >= 0) {
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(reason_fd, line + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += w;
        }
    } else {
        fprintf(stderr, "%s: %s\n", kind == 'S' ? "skip" : "FAIL", msg);
    }
}

void harness_fail(const char *file, int line, const char *fmt, ...) {
    char msg[1800];
    char full[2000];
    va_list ap;
    const char *base = strrchr(file, '/');

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "%s:%d: %s", base ? base + 1 : file, line, msg);
    fflush(stdout);
    report('F', full);
    _exit(1);
}

void harness_skip(const char *fmt, ...) {
    char msg[1800];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fflush(stdout);
    report('S', msg);
    if (reason_fd < 0)
        longjmp(skip_jump, 1); /* in-process: back to main() */
    exit(0);
}

/* ======================================================================== */
/* Event log                                                                 */
/* ======================================================================== */

static char log_buf[16384];
static size_t log_len;
int in_call;

void ev(const char *fmt, ...) {
    va_list ap;
    int n;

    if (log_len > 0 && log_len < sizeof(log_buf) - 1)
        log_buf[log_len++] = ' ';
    va_start(ap, fmt);
    n = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        log_len += (size_t)n;
    if (log_len >= sizeof(log_buf))
        FAIL("event log overflow");
}

const char *evlog(void) {
    log_buf[log_len] = '\0';
    return log_buf;
}

void ev_reset(void) {
    log_len = 0;
    log_buf[0] = '\0';
}

/* ======================================================================== */
/* Handle ownership                                                          */
/* ======================================================================== */

struct owned {
    uvs_handle_t *handle;
    uvs_loop_t *loop;
};
static struct owned *owned;
static size_t nowned, capowned;

static void own(uvs_handle_t *h, uvs_loop_t *loop) {
    if (nowned == capowned) {
        capowned = capowned ? capowned * 2 : 64;
        owned = realloc(owned, capowned * sizeof(*owned));
        if (owned == NULL)
            FAIL("out of memory");
    }
    owned[nowned].handle = h;
    owned[nowned].loop = loop;
    nowned++;
}

int harness_tcp_new(uvs_loop_t *loop, int family, uvs_stream_t **out) {
    int r = uvs_tcp_new(loop, family, out);
    if (r == 0 && out != NULL && *out != NULL)
        own(UVS_HANDLE(*out), loop);
    return r;
}

int harness_timer_new(uvs_loop_t *loop, uvs_timer_t **out) {
    int r = uvs_timer_new(loop, out);
    if (r == 0 && out != NULL && *out != NULL)
        own(UVS_HANDLE(*out), loop);
    return r;
}

int harness_pipe_new(uvs_loop_t *loop, int ipc, uvs_stream_t **out) {
    int r = uvs_pipe_new(loop, ipc, out);
    if (r == 0 && out != NULL && *out != NULL)
        own(UVS_HANDLE(*out), loop);
    return r;
}

int harness_tty_new(uvs_loop_t *loop, int fd, int readable, uvs_stream_t **out) {
    int r = uvs_tty_new(loop, fd, readable, out);
    if (r == 0 && out != NULL && *out != NULL)
        own(UVS_HANDLE(*out), loop);
    return r;
}

void harness_release(uvs_handle_t *h) {
    size_t i;
    for (i = 0; i < nowned; i++) {
        if (owned[i].handle == h) {
            owned[i] = owned[--nowned];
            break;
        }
    }
    uvs_release(h);
}

/* Returns the references the tests kept on handles of `loop`. */
static void release_owned(uvs_loop_t *loop) {
    size_t i = 0;
    while (i < nowned) {
        if (owned[i].loop == loop) {
            uvs_handle_t *h = owned[i].handle;
            owned[i] = owned[--nowned];
            uvs_release(h);
        } else {
            i++;
        }
    }
    if (nowned == 0) {
        free(owned);
        owned = NULL;
        capowned = 0;
    }
}

/* ======================================================================== */
/* Loops and guard timers                                                    */
/* ======================================================================== */

struct guard {
    uvs_loop_t *loop;
    uvs_timer_t *timer;
    const char *file;
    int line;
    const char *what;
};
static struct guard guards[8];

uvs_loop_t *make_loop(void) {
    uvs_loop_t *loop = NULL;
    int r = uvs_loop_new(&loop);
    if (r != 0)
        FAIL("uvs_loop_new returned %s", code_name(r));
    if (loop == NULL)
        FAIL("uvs_loop_new returned 0 but no loop");
    return loop;
}

static void guard_cb(uvs_timer_t *timer, void *user_data) {
    struct guard *g = user_data;
    (void)timer;
    harness_fail(g->file, g->line, "timed out after %d ms waiting for %s (event log: \"%s\")",
                 UVS_TEST_GUARD_MS, g->what, evlog());
}

static struct guard *guard_for(uvs_loop_t *loop, int create) {
    size_t i;
    struct guard *free_slot = NULL;

    for (i = 0; i < sizeof(guards) / sizeof(guards[0]); i++) {
        if (guards[i].loop == loop)
            return &guards[i];
        if (guards[i].loop == NULL && free_slot == NULL)
            free_slot = &guards[i];
    }
    if (!create)
        return NULL;
    if (free_slot == NULL)
        FAIL("harness: too many loops with guard timers");
    free_slot->loop = loop;
    free_slot->timer = NULL;
    return free_slot;
}

static void guard_forget(uvs_loop_t *loop) {
    struct guard *g = guard_for(loop, 0);
    if (g == NULL)
        return;
    uvs_release(UVS_HANDLE(g->timer));
    memset(g, 0, sizeof(*g));
}

void guard_arm(uvs_loop_t *loop, const char *file, int line, const char *what, int ref) {
    struct guard *g = guard_for(loop, 1);
    int r;

    /* The test may have closed the guard (uvs_loop_close_all): make a new one. */
    if (g->timer != NULL && uvs_is_closing(UVS_HANDLE(g->timer)) != 0) {
        uvs_release(UVS_HANDLE(g->timer));
        g->timer = NULL;
    }
    if (g->timer == NULL) {
        r = uvs_timer_new(loop, &g->timer);
        if (r != 0)
            harness_fail(file, line, "harness: uvs_timer_new for the guard returned %s",
                         code_name(r));
    }
    g->file = file;
    g->line = line;
    g->what = what;
    r = uvs_timer_start(g->timer, UVS_TEST_GUARD_MS, 0, guard_cb, g);
    if (r != 0)
        harness_fail(file, line, "harness: uvs_timer_start for the guard returned %s",
                     code_name(r));
    r = ref ? uvs_ref(UVS_HANDLE(g->timer)) : uvs_unref(UVS_HANDLE(g->timer));
    if (r != 0)
        harness_fail(file, line, "harness: uvs_ref/unref for the guard returned %s",
                     code_name(r));
}

void guard_disarm(uvs_loop_t *loop) {
    struct guard *g = guard_for(loop, 0);
    if (g != NULL && g->timer != NULL)
        uvs_timer_stop(g->timer);
}

int run_loop_at(const char *file, int line, uvs_loop_t *loop) {
    int r;
    guard_arm(loop, file, line, "uvs_loop_run(UVS_RUN_DEFAULT) to return", 0);
    r = uvs_loop_run(loop, UVS_RUN_DEFAULT);
    guard_disarm(loop);
    return r;
}

void run_nowait(uvs_loop_t *loop, int n) {
    while (n-- > 0) {
        int r = uvs_loop_run(loop, UVS_RUN_NOWAIT);
        if (r < 0)
            FAIL("uvs_loop_run(UVS_RUN_NOWAIT) returned %s", code_name(r));
    }
}

static void run_for_cb(uvs_timer_t *timer, void *user_data) {
    (void)timer;
    *(int *)user_data = 1;
}

void run_for(uvs_loop_t *loop, uint64_t ms) {
    uvs_timer_t *t = NULL;
    int done = 0;

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_OK(uvs_timer_start(t, ms, 0, run_for_cb, &done));
    RUN_UNTIL(loop, done);
    uvs_release(UVS_HANDLE(t)); /* closes it */
}

void finish_loop_at(const char *file, int line, uvs_loop_t *loop) {
    int r;

    r = uvs_loop_close_all(loop, NULL, NULL);
    if (r < 0)
        harness_fail(file, line, "finish_loop: uvs_loop_close_all returned %s", code_name(r));
    guard_forget(loop);
    r = uvs_loop_run(loop, UVS_RUN_DEFAULT);
    if (r < 0)
        harness_fail(file, line, "finish_loop: uvs_loop_run returned %s", code_name(r));
    r = uvs_loop_handle_count(loop);
    if (r != 0)
        harness_fail(file, line, "finish_loop: %d handle(s) left after close_all and run", r);
    r = uvs_loop_close(loop);
    if (r != 0)
        harness_fail(file, line, "finish_loop: uvs_loop_close returned %s", code_name(r));
    release_owned(loop);
    uvs_loop_release(loop);
}

/* ======================================================================== */
/* TCP helpers                                                               */
/* ======================================================================== */

int make_server(uvs_loop_t *loop, const char *ip, uvs_stream_t **out, uvs_connection_cb cb,
                void *user_data) {
    uvs_stream_t *server = NULL;
    char addr[UVS_IP_MAX];
    int port = -1, family = -1;

    ASSERT_OK(harness_tcp_new(loop, 0, &server));
    ASSERT_OK(uvs_tcp_bind(server, ip, 0, 0));
    ASSERT_OK(uvs_listen(server, 128, cb, user_data));
    ASSERT_OK(uvs_tcp_sockname(server, addr, sizeof(addr), &port, &family));
    ASSERT_STR_EQ(addr, ip);
    ASSERT_GT(port, 0);
    *out = server;
    return port;
}

static void pair_connection_cb(uvs_stream_t *server, int status, void *user_data) {
    struct tcp_pair *p = user_data;

    ASSERT_OK(status);
    if (p->conn != NULL)
        return; /* a later connection: the test accepts it (or not) itself */
    ASSERT_OK(harness_tcp_new(uvs_handle_loop(UVS_HANDLE(server)), 0, &p->conn));
    ASSERT_OK(uvs_accept(server, p->conn));
    p->accepted = 1;
}

static void pair_connect_cb(uvs_stream_t *stream, int status, void *user_data) {
    struct tcp_pair *p = user_data;
    (void)stream;
    p->connected = 1;
    p->connect_status = status;
}

void make_tcp_pair(uvs_loop_t *loop, struct tcp_pair *p) {
    memset(p, 0, sizeof(*p));
    p->port = make_server(loop, "127.0.0.1", &p->server, pair_connection_cb, p);
    ASSERT_OK(harness_tcp_new(loop, 0, &p->client));
    ASSERT_OK(uvs_tcp_connect(p->client, "127.0.0.1", p->port, pair_connect_cb, p));
    RUN_UNTIL(loop, p->connected && p->accepted);
    ASSERT_OK(p->connect_status);
}

/* 127.0.0.1:port. */
static void loopback_addr(struct sockaddr_in *sa, int port) {
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa->sin_port = htons((uint16_t)port);
}

int refused_port(int *fd) {
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int s = socket(AF_INET, SOCK_STREAM, 0);

    ASSERT_GE(s, 0);
    loopback_addr(&sa, 0);
    ASSERT_EQ(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ASSERT_EQ(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    *fd = s;
    return ntohs(sa.sin_port);
}

/* A blocking connect to 127.0.0.1:port: 0 and the socket in *fd, or the connect's
 * errno (the socket is closed then). */
static int loopback_connect(int port, int *fd) {
    struct sockaddr_in sa;
    int s = socket(AF_INET, SOCK_STREAM, 0), err;

    ASSERT_GE(s, 0);
    loopback_addr(&sa, port);
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        *fd = s;
        return 0;
    }
    err = errno;
    close(s);
    return err;
}

int raw_connect_at(const char *file, int line, int port) {
    int fd = -1, err = loopback_connect(port, &fd);

    if (err != 0)
        harness_fail(file, line, "connect to 127.0.0.1 port %d: %s", port, strerror(err));
    return fd;
}

int raw_connect_errno(int port) {
    int fd = -1, err = loopback_connect(port, &fd);

    if (err == 0)
        close(fd);
    return err;
}

void reader_cb(uvs_stream_t *stream, int status, const char *data, size_t len, void *user_data) {
    struct reader *r = user_data;
    (void)stream;

    ASSERT_NOT_SYNC();
    if (r->eofs > 0 || r->errors > 0)
        r->after_end++;
    if (status == 0) {
        if (data == NULL || len == 0) {
            r->bad_args++;
            return;
        }
        if (r->len + len > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + len)
                cap *= 2;
            r->data = realloc(r->data, cap);
            if (r->data == NULL)
                FAIL("out of memory");
            r->cap = cap;
        }
        memcpy(r->data + r->len, data, len);
        r->len += len;
        r->chunks++;
    } else {
        if (data != NULL || len != 0 || status > 0)
            r->bad_args++;
        if (status == UVS_EOF) {
            r->eofs++;
        } else {
            r->errors++;
            r->last_error = status;
        }
    }
}

void reader_free(struct reader *r) {
    free(r->data);
    memset(r, 0, sizeof(*r));
}

void status_cb(uvs_stream_t *stream, int status, void *user_data) {
    int *out = user_data;
    (void)stream;
    ASSERT_NOT_SYNC();
    if (*out != NOT_CALLED)
        FAIL("callback called twice (first %s, then %s)", code_name(*out), code_name(status));
    *out = status;
}

void fill_pattern(char *buf, size_t len, size_t offset) {
    size_t i;
    for (i = 0; i < len; i++) {
        size_t k = offset + i;
        buf[i] = (char)((k % 251) ^ ((k >> 12) & 0xff));
    }
}

size_t check_pattern(const char *buf, size_t len, size_t offset) {
    size_t i;
    for (i = 0; i < len; i++) {
        size_t k = offset + i;
        if (buf[i] != (char)((k % 251) ^ ((k >> 12) & 0xff)))
            return i;
    }
    return (size_t)-1;
}

void make_pipe_pair(uvs_loop_t *loop, int ipc, uvs_stream_t **a, uvs_stream_t **b) {
    int fds[2] = {-1, -1};

    ASSERT_OK(uvs_socketpair(fds));
    ASSERT_OK(harness_pipe_new(loop, ipc, a));
    ASSERT_OK(harness_pipe_new(loop, ipc, b));
    ASSERT_OK(uvs_pipe_open(*a, fds[0]));
    ASSERT_OK(uvs_pipe_open(*b, fds[1]));
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (p == NULL)
        FAIL("out of memory (%zu x %zu)", n, size);
    return p;
}

/* ======================================================================== */
/* The runner                                                                */
/* ======================================================================== */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int matches(const char *name, int nfilters, char **filters) {
    int i;
    if (nfilters == 0)
        return 1;
    for (i = 0; i < nfilters; i++)
        if (strstr(name, filters[i]) != NULL)
            return 1;
    return 0;
}

/* Runs one test in a child. Returns 1 if it passed. */
static int run_one(const struct uvs_test *t, int timeout_s) {
    int fds[2];
    pid_t pid;
    char reason[4096];
    size_t rlen = 0;
    int status = 0;
    int timed_out = 0;
    double deadline;

    fflush(stdout);
    fflush(stderr);
    if (pipe(fds) != 0) {
        printf("FAIL %s: runner: pipe: %s\n", t->name, strerror(errno));
        return 0;
    }
    pid = fork();
    if (pid < 0) {
        printf("FAIL %s: runner: fork: %s\n", t->name, strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    if (pid == 0) {
        close(fds[0]);
        reason_fd = fds[1];
        signal(SIGPIPE, SIG_DFL); /* as a fresh program has it */
        t->fn();
        fflush(stdout);
        exit(0); /* exit(), not _exit(): LeakSanitizer checks at exit */
    }
    close(fds[1]);

    deadline = now_seconds() + timeout_s;
    for (;;) {
        struct pollfd pfd;
        double left = deadline - now_seconds();
        int pr;

        if (left <= 0) {
            timed_out = 1;
            kill(pid, SIGKILL);
            break;
        }
        pfd.fd = fds[0];
        pfd.events = POLLIN;
        pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        {
            ssize_t n = read(fds[0], reason + rlen, sizeof(reason) - 1 - rlen);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; /* EOF: the child exited */
            rlen += (size_t)n;
            if (rlen == sizeof(reason) - 1)
                break;
        }
    }
    close(fds[0]);
    reason[rlen] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }

    if (timed_out) {
        printf("FAIL %s: timed out after %d s%s%s\n", t->name, timeout_s, rlen ? " after: " : "",
               rlen ? reason + 1 : "");
        return 0;
    }
    if (rlen > 0 && reason[0] == 'F') {
        printf("FAIL %s: %s\n", t->name, reason + 1);
        return 0;
    }
    if (WIFSIGNALED(status)) {
        printf("FAIL %s: killed by signal %d (%s)\n", t->name, WTERMSIG(status),
               strsignal(WTERMSIG(status)));
        return 0;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("FAIL %s: exited with status %d\n", t->name, WEXITSTATUS(status));
        return 0;
    }
    if (rlen > 0 && reason[0] == 'S')
        printf("ok %s # skip: %s\n", t->name, reason + 1);
    else
        printf("ok %s\n", t->name);
    return 1;
}

/* UVS_TEST_NOFORK=1: a failure exits the runner, a skip comes back here. */
static void run_in_process(const struct uvs_test *t) {
    if (setjmp(skip_jump) == 0)
        t->fn();
}

static void usage(FILE *f) {
    fprintf(f, "usage: uvs_ctest [--list] [FILTER...]\n"
               "  Runs the tests whose name contains one of the FILTER substrings (all without).\n"
               "  UVS_TEST_TIMEOUT=seconds per test (default 20); UVS_TEST_NOFORK=1 runs in-process.\n");
}

int main(int argc, char **argv) {
    int list = 0, nfilters = 0, passed = 0, failed = 0, timeout_s = 20, nofork = 0;
    char **filters = xcalloc((size_t)argc + 1, sizeof(char *));
    const char *env;
    size_t ti;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0) {
            list = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            usage(stderr);
            return 2;
        } else {
            filters[nfilters++] = argv[i];
        }
    }
    env = getenv("UVS_TEST_TIMEOUT");
    if (env != NULL && atoi(env) > 0)
        timeout_s = atoi(env);
    env = getenv("UVS_TEST_NOFORK");
    nofork = env != NULL && strcmp(env, "1") == 0;

    /* Names must be unique: a filter or a CTest entry names exactly one test. */
    for (ti = 0; ti < NTABLES; ti++) {
        const struct uvs_test *t;
        for (t = all_tables[ti]; t->name != NULL; t++) {
            size_t tj;
            for (tj = 0; tj <= ti; tj++) {
                const struct uvs_test *u;
                for (u = all_tables[tj]; u->name != NULL && u != t; u++)
                    if (strcmp(u->name, t->name) == 0) {
                        fprintf(stderr, "uvs_ctest: duplicate test name %s\n", t->name);
                        return 2;
                    }
            }
        }
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (ti = 0; ti < NTABLES; ti++) {
        const struct uvs_test *t;
        for (t = all_tables[ti]; t->name != NULL; t++) {
            if (!matches(t->name, nfilters, filters))
                continue;
            if (list) {
                printf("%s\n", t->name);
                continue;
            }
            if (nofork) {
                run_in_process(t);
                printf("ok %s\n", t->name);
                passed++;
                continue;
            }
            if (run_one(t, timeout_s))
                passed++;
            else
                failed++;
        }
    }
    free(filters);
    if (list)
        return 0;
    printf("%d passed, %d failed\n", passed, failed);
    if (passed + failed == 0) {
        fprintf(stderr, "uvs_ctest: no test matches\n");
        return 1;
    }
    return failed > 0 ? 1 : 0;
}
