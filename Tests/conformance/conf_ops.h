/*
 * conf_ops.h — the operations table of the conformance runner, and what scenarios share.
 *
 * A scenario is written once against `const cf_ops *O`, a table of function pointers,
 * and runs twice: on ops_libuv.c (raw libuv 1.44, <uv.h>, handles and requests malloc'd)
 * and on ops_uvs.c (the uvs_ API of libswiftuvstream). Each run happens in its own child
 * process; the scenario appends lines to a trace, and the runner compares the two traces
 * (see conf_diffs.h for the differences that are deliberate).
 *
 * Conventions
 * - Every operation returns what the backend returned: 0 / a count, or a negative code.
 *   libuv's UV_E* and the library's UVS_E* have the same values on Linux, so one name
 *   table (cf_err_name) serves both.
 * - Every callback has one shape, cf_cb(const cf_event *): the backend translates its
 *   native callback into a cf_event (callback name, handle, status, read data).
 * - A handle (cf_h) is owned by the backend; it stays valid until its close callback has
 *   returned (the backend frees it right after), as in libuv. Handles still open when the
 *   scenario returns are closed by the runner's teardown (O->loop_teardown), which
 *   records how many it closed and what closing the loop returned.
 * - Traces hold no ports, fds, addresses of memory or timings: only what both backends
 *   must agree on. Scenarios drive one handle at a time, or use raw POSIX peers, so that
 *   the order of callbacks never depends on which of two sockets the kernel reports first.
 * - Files: ops_libuv.c and ops_uvs.c (backends), conf_util.c (trace, names, peers),
 *   scenarios_{tcp,pipe,tty,loop}.c, conf_diffs.h (deliberate differences), runner.c.
 * - Operations count their nesting in cf_depth; a callback that runs while an operation
 *   is on the stack (i.e. inside the call that scheduled it) is recorded in the trace.
 */
#ifndef CONF_OPS_H
#define CONF_OPS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cf_loop cf_loop; /* a backend's loop */
typedef struct cf_h cf_h;       /* a backend's handle: TCP, pipe, TTY or timer */

enum cf_kind { CF_NONE = 0, CF_TCP = 1, CF_PIPE = 2, CF_TTY = 3, CF_TIMER = 4 };
enum cf_run_mode { CF_RUN_DEFAULT = 0, CF_RUN_ONCE = 1, CF_RUN_NOWAIT = 2 };
enum cf_tty_mode { CF_TTY_NORMAL = 0, CF_TTY_RAW = 1 };

/* Error codes the scenarios name (libuv's values on Linux = the library's). */
#define CF_EOF (-4095)
#define CF_ECLOSED (-5001)

/* What every callback receives. */
typedef struct cf_event {
    const char *cb;   /* "connect" "write" "shutdown" "read" "connection" "close" "timer" */
    cf_h *h;          /* the handle (borrowed) */
    int status;       /* 0 or a negative code; read: 0 with data, CF_EOF, or an error */
    const char *data; /* read: the bytes (valid during the callback), else NULL */
    size_t len;       /* read: how many */
    void *ud;         /* the user data given with the callback */
} cf_event;

typedef void (*cf_cb)(const cf_event *ev);

typedef struct cf_buf {
    const void *base;
    size_t len;
} cf_buf;

typedef struct cf_ops {
    const char *name; /* "libuv" or "uvs" */

    /* Loop */
    int (*loop_new)(cf_loop **out);
    int (*loop_run)(cf_loop *loop, int mode);
    int (*loop_close)(cf_loop *loop);
    /* Closes every handle that is not closing yet (no user close callback), runs the loop
     * until they are closed, closes and frees the loop. Returns the number of handles it
     * closed (>= 0) and stores loop_close's result in *close_rc. */
    int (*loop_teardown)(cf_loop *loop, int *close_rc);
    /* Frees a loop that the scenario closed successfully itself. */
    void (*loop_free)(cf_loop *loop);

    /* TCP. family: 0 (socket made later) or AF_INET (socket made now). */
    int (*tcp_new)(cf_loop *loop, const char *label, int family, cf_h **out);
    int (*tcp_open)(cf_h *tcp, int fd);
    int (*tcp_bind)(cf_h *tcp, const char *ip, int port);
    int (*tcp_connect)(cf_h *tcp, const char *ip, int port, cf_cb cb, void *ud);
    int (*tcp_port)(cf_h *tcp);                          /* local port, or an error */
    int (*tcp_sockname_ip)(cf_h *tcp, char *ip, size_t n); /* local address as text */

    /* Pipes */
    int (*pipe_new)(cf_loop *loop, const char *label, int ipc, cf_h **out);
    int (*pipe_open)(cf_h *pipe, int fd);
    int (*pipe_bind)(cf_h *pipe, const char *path);
    int (*pipe_connect)(cf_h *pipe, const char *path, cf_cb cb, void *ud);
    int (*pipe_pending_count)(cf_h *pipe);
    int (*pipe_pending_kind)(cf_h *pipe); /* CF_TCP, CF_PIPE or CF_NONE */

    /* TTYs */
    int (*tty_new)(cf_loop *loop, const char *label, int fd, int readable, cf_h **out);
    int (*tty_set_mode)(cf_h *tty, int mode);
    int (*tty_winsize)(cf_h *tty, int *width, int *height);

    /* Streams */
    int (*listen)(cf_h *server, int backlog, cf_cb cb, void *ud);
    int (*accept)(cf_h *server, cf_h *client);
    int (*read_start)(cf_h *stream, cf_cb cb, void *ud);
    int (*read_stop)(cf_h *stream);
    int (*write)(cf_h *stream, const cf_buf *bufs, size_t nbufs, cf_cb cb, void *ud);
    int (*write2)(cf_h *stream, const cf_buf *bufs, size_t nbufs, cf_h *send, cf_cb cb,
                  void *ud);
    int (*try_write)(cf_h *stream, const cf_buf *bufs, size_t nbufs);
    int (*shutdown)(cf_h *stream, cf_cb cb, void *ud);
    int (*is_readable)(cf_h *stream);
    int (*is_writable)(cf_h *stream);
    size_t (*write_queue_size)(cf_h *stream);

    /* Any handle */
    int (*close)(cf_h *h, cf_cb cb, void *ud);
    int (*is_active)(cf_h *h);
    int (*is_closing)(cf_h *h);
    int (*fileno)(cf_h *h);
    const char *(*label)(const cf_h *h); /* the label given at creation */

    /* Timers */
    int (*timer_new)(cf_loop *loop, const char *label, cf_h **out);
    int (*timer_start)(cf_h *timer, uint64_t timeout_ms, uint64_t repeat_ms, cf_cb cb,
                       void *ud);
    int (*timer_stop)(cf_h *timer);
    int (*timer_again)(cf_h *timer);
} cf_ops;

extern const cf_ops cf_ops_libuv;
extern const cf_ops cf_ops_uvs;

/* ------------------------------------------------------------------------ */
/* Shared by backends and scenarios (conf_util.c)                            */
/* ------------------------------------------------------------------------ */

/* The backend of the current child process. */
extern const cf_ops *O;

/* Operations on the stack right now (backends: CF_ENTER / CF_LEAVE around each op). */
extern int cf_depth;
#define CF_ENTER() (cf_depth++)
#define CF_LEAVE(rc) (cf_depth--, (rc))

/* Backends call this first in every callback trampoline: records a callback that runs
 * inside an operation (it must never happen). */
void cf_callback_entered(const char *cb, const char *label);

/* The name of a status: "OK" for 0, "EAGAIN", "EOF", "ECLOSED", or the number. */
const char *cf_err_name(int code);

/* The label given when the handle was made (O->label). */
const char *cf_label(const cf_h *h);

/* Trace --------------------------------------------------------------------- */

/* Appends one line to the trace (written at once, so it survives an abort). */
void tr(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* "what(label) -> NAME", returns rc. */
int tr_rc(const char *what, cf_h *h, int rc);
/* "flags(label) r=1 w=0" */
void tr_flags(cf_h *h);
/* "writable(label) = 1" */
void tr_writable(cf_h *h);

/* The common callback: records "cb label STATUS [n=bytes 'data'] [r= w=]". The
 * readable/writable flags are recorded for read, connect and shutdown callbacks that
 * succeed; after an error, EOF or cancellation the scenarios that are about the flags
 * record them explicitly (tr_flags), so that each known difference shows in one place. */
void cf_trace_cb(const cf_event *ev);

/* Helpers for scenarios ----------------------------------------------------- */

/* A path for a Unix socket or file in the run's temporary directory: "<dir>/<name>". */
const char *cf_path(const char *name);
extern const char *cf_tmpdir;

/* Test data: byte k of a stream is cf_pattern_byte(k). */
unsigned char cf_pattern_byte(size_t k);
void cf_pattern_fill(unsigned char *dst, size_t len, size_t offset);

/* Raw POSIX peers (the same for both backends; not part of what is compared, only what
 * they observe is traced). All blocking calls wait at most CF_PEER_TIMEOUT_MS. */
#define CF_PEER_TIMEOUT_MS 5000
int cf_peer_listen(int *port, int rcvbuf);        /* listening TCP socket on 127.0.0.1 */
int cf_peer_bound(int *port);                     /* bound, not listening: refuses */
int cf_peer_connect(int port);                    /* blocking connect to 127.0.0.1:port */
int cf_peer_accept(int lfd);                      /* accept with a timeout; -errno */
int cf_peer_unix_listen(const char *path);        /* listening Unix socket */
int cf_peer_write(int fd, const void *p, size_t n);
/* Reads until want bytes, EOF, error or timeout; returns bytes read, *eof = 1 on EOF,
 * -errno on error. */
long cf_peer_read(int fd, void *buf, size_t want, int *eof);
void cf_peer_reset(int fd); /* SO_LINGER 0 and close: the peer sees ECONNRESET */
void cf_peer_close(int fd);

/* A thread that reads fd until EOF and checks every byte against cf_pattern_byte(). */
typedef struct cf_sink cf_sink;
cf_sink *cf_sink_start(int fd);
/* Joins the thread and records "peer: N bytes, pattern ok|BAD at k, EOF|error". */
void cf_sink_join(cf_sink *s, const char *who);

/* A thread that writes n bytes of cf_pattern_byte() to fd, then shuts the write side
 * down if shut is 1. */
typedef struct cf_source cf_source;
cf_source *cf_source_start(int fd, size_t n, int shut);
void cf_source_join(cf_source *s);

/* Reads from a raw peer fd: exactly want bytes (until_eof 0) or until EOF (until_eof 1),
 * and records "who got N bytes 'preview', EOF|no EOF|error". */
void cf_peer_expect(int fd, size_t want, int until_eof, const char *who);

/* Scenario shorthands ------------------------------------------------------- */

/* Record "run -> N" and return N (cf_run_mode: "run nowait -> N", "run once -> N"). */
int cf_run(cf_loop *loop);
int cf_run_mode(cf_loop *loop, int mode);
/* Create a handle and record "tcp_new(label) -> OK" (NULL on error). */
cf_h *cf_tcp(cf_loop *loop, const char *label, int family);
cf_h *cf_pipe(cf_loop *loop, const char *label, int ipc);
cf_h *cf_timer(cf_loop *loop, const char *label);
/* A TCP client connected to a raw peer: connects (connect callback traced), accepts on
 * the peer side and runs the loop until the connect callback ran. peer_rcvbuf > 0 sets
 * the peer's receive buffer. *peer is the peer's fd. */
cf_h *cf_connected_client(cf_loop *loop, const char *label, int *peer, int peer_rcvbuf);
/* A callback that records "cb write label STATUS [tag]" with ud a const char * tag. */
void cf_trace_cb_tag(const cf_event *ev);
/* One buffer over a string. */
cf_buf cf_str(const char *s);
/* Writes a string (callback cf_trace_cb_tag with tag), records "write(label) 'tag' -> RC". */
int cf_write_str(cf_h *h, const char *s, const char *tag);
/* Closes without a callback (cleanup whose order does not matter). */
void cf_close_quiet(cf_h *h);
/* Closes with cf_trace_cb, records "close(label) -> RC", then cf_run(loop). */
void cf_close_run(cf_loop *loop, cf_h *h);
/* Set by a scenario that closed the loop itself: the runner frees it instead of
 * tearing it down. */
extern int cf_loop_closed;
/* Set by a scenario whose loop can never become idle (a backend lost a request): the
 * runner ends the child without a teardown. */
extern int cf_loop_abandoned;
/* Runs the loop with CF_RUN_NOWAIT up to max times, until it reports no more work;
 * records "loop idle" or "loop still busy after N nowait runs". Returns 1 if idle. Use it
 * only where every event is already pending (no network latency involved). */
int cf_run_until_idle(cf_loop *loop, int max);
/* Runs the loop with CF_RUN_ONCE until *flag is set (at most max times); records nothing. */
void cf_run_once_until(cf_loop *loop, const int *flag, int max);

/* Scenarios ----------------------------------------------------------------- */

typedef struct cf_scenario {
    const char *name;
    void (*run)(cf_loop *loop);
} cf_scenario;

extern const cf_scenario cf_scenarios_tcp[];
extern const cf_scenario cf_scenarios_pipe[];
extern const cf_scenario cf_scenarios_tty[];
extern const cf_scenario cf_scenarios_loop[];

#endif /* CONF_OPS_H */
