/*
 * worker_pool.c — the "cluster" pattern on libswiftuvstream: one process listens, a
 * pool of worker processes serves the connections.
 *
 *   worker_pool [--workers N] [--host HOST] PORT
 *
 * The parent listens on HOST (default 127.0.0.1) and PORT (0: any free port), starts N
 * worker processes (default 2), each connected to it by an IPC pipe, and prints
 * "READY <port>" once it listens and every worker has started. It accepts each
 * connection and hands it to the next worker, round-robin, by sending the socket over
 * that worker's pipe (uvs_write2 with a one-byte payload); once the write reports 0 the
 * worker holds its own copy and the parent closes the one it accepted. A worker echoes
 * every connection it receives and closes it after the peer's end of stream (EOF),
 * once the echo is flushed.
 *
 * SIGINT or SIGTERM: the parent stops accepting and shuts down its side of every pipe;
 * a worker sees end of stream there, finishes the connections it has, reports how many
 * it accepted and exits. The parent waits for every worker, prints
 * "worker <i>: <n> connections" for each to stderr (n: connections handed to it) and
 * exits 0. A second SIGINT or SIGTERM during that wait sends SIGTERM to the workers
 * still running, for connections that would never end.
 *
 * A worker that dies is reported on stderr and gets no more connections; a connection
 * whose hand-off failed goes to the next worker. If no worker is left, the parent stops
 * and exits 1.
 *
 * Exit status: 0 after SIGINT/SIGTERM, 1 on errors (including a worker that reports a
 * different number of connections than it was handed, or no worker left), 2 for bad
 * arguments.
 *
 * Worker processes: fork + exec of this same program with a hidden `--worker INDEX FD`
 * argument. Exec (rather than fork alone) gives each worker a fresh process: no copy of
 * the parent's event loop (libuv would need uv_loop_fork(), which this library does not
 * offer), of its threads, of the listening socket, or of the other workers' pipes. Every
 * descriptor the library makes is close-on-exec, so after exec a worker holds exactly its
 * own end of its pipe (FD, whose close-on-exec flag the child clears) and stdio. That is
 * also what makes shutdown work: when the parent ends its side, no other process keeps
 * the pipe open, so the worker does see end of stream.
 * Workers ignore SIGINT, so Ctrl-C in a terminal (sent to the whole process group) leaves
 * the orderly shutdown to the parent; SIGTERM ends a worker at once.
 *
 * Pipe protocol: parent -> worker: one byte 'c' per connection, the socket travelling
 * with it. worker -> parent: text lines, "ready" once the worker runs and
 * "accepted <n>" before it exits.
 *
 * What it shows:
 *   - uvs_socketpair + uvs_pipe_new(loop, 1, ...) + uvs_pipe_open: IPC pipes,
 *   - uvs_write2 to send a TCP handle; uvs_pipe_pending_count / _kind and uvs_accept on
 *     the receiving side,
 *   - half-close (uvs_shutdown) as a "no more work" signal,
 *   - flow control with the write watermarks: the echo stops reading while its write
 *     queue is above the high watermark and resumes on the writability callback.
 *
 * Linux-specific: finds its own executable through /proc/self/exe (argv[0] otherwise).
 *
 * Build: cc -std=c99 worker_pool.c -lswiftuvstream -lpthread -o worker_pool
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <swiftuvstream.h>

#define MAX_WORKERS 64

static const char *prog = "worker_pool";

static void usage(FILE *out) {
    fprintf(out,
            "usage: worker_pool [--workers N] [--host HOST] PORT\n"
            "  Listens on HOST (default 127.0.0.1) and PORT (0: any free port) and hands\n"
            "  each connection to one of N worker processes (default 2, at most %d),\n"
            "  round-robin; the workers echo what they receive. Prints \"READY <port>\"\n"
            "  once listening with every worker started. SIGINT or SIGTERM stops it and\n"
            "  prints \"worker <i>: <n> connections\" for each worker to stderr.\n",
            MAX_WORKERS);
}

static void die(const char *what, int code) {
    fprintf(stderr, "%s: %s: %s\n", prog, what, uvs_strerror(code));
    exit(1);
}

/* Every handle of this program that has nothing else to free ends here. */
static void on_close_release(uvs_handle_t *handle, void *user_data) {
    (void)user_data;
    uvs_release(handle);
}

/* ======================================================================== */
/* Worker process                                                            */
/* ======================================================================== */

typedef struct {
    uvs_loop_t *loop;
    uvs_stream_t *ipc;
    int index;
    unsigned long accepted; /* connections received and accepted */
    int active;             /* connections not yet closed */
    int draining;           /* the parent ended the pipe: no more connections */
    int reported;           /* "accepted <n>" was written */
    char report[64];
} worker_state_t;

/* One connection of a worker. Stored as the stream's handle data. */
typedef struct {
    worker_state_t *w;
    int paused; /* reading stopped: the echo's write queue is above the high watermark */
    int ended;  /* end of stream or read error: never read again */
} echo_conn_t;

static void worker_maybe_finish(worker_state_t *w);

static void on_report_written(uvs_stream_t *ipc, int status, void *user_data) {
    (void)status; /* a parent that is gone cannot be told: close all the same */
    (void)user_data;
    uvs_close(UVS_HANDLE(ipc), on_close_release, NULL);
}

/* Once the parent ended the pipe and every connection closed: report, then close the
 * pipe; that was the last handle, so the loop ends and the worker exits. */
static void worker_maybe_finish(worker_state_t *w) {
    uvs_buf_t buf;
    int r;

    if (!w->draining || w->active > 0 || w->reported)
        return;
    w->reported = 1;
    snprintf(w->report, sizeof(w->report), "accepted %lu\n", w->accepted);
    buf.base = w->report;
    buf.len = strlen(w->report);
    r = uvs_write(w->ipc, &buf, 1, on_report_written, w);
    if (r < 0) /* the parent is gone, or never shut down but closed: nothing to say */
        uvs_close(UVS_HANDLE(w->ipc), on_close_release, NULL);
}

static void on_echo_close(uvs_handle_t *handle, void *user_data) {
    echo_conn_t *conn = uvs_handle_data(handle);
    worker_state_t *w = conn->w;

    (void)user_data;
    free(conn);
    uvs_release(handle);
    w->active--;
    worker_maybe_finish(w);
}

static void on_echo_shutdown(uvs_stream_t *stream, int status, void *user_data) {
    (void)status; /* closing is next whatever the outcome */
    (void)user_data;
    uvs_close(UVS_HANDLE(stream), on_echo_close, NULL);
}

static void on_echo_read(uvs_stream_t *stream, int status, const char *data, size_t len,
                         void *user_data) {
    echo_conn_t *conn = user_data;
    uvs_buf_t buf;
    int r;

    if (status == UVS_EOF) {
        /* The peer is done: end our side once the echo is flushed, then close. */
        conn->ended = 1;
        if (uvs_shutdown(stream, on_echo_shutdown, NULL) < 0)
            uvs_close(UVS_HANDLE(stream), on_echo_close, NULL);
        return;
    }
    if (status < 0) {
        conn->ended = 1;
        uvs_close(UVS_HANDLE(stream), on_echo_close, NULL);
        return;
    }
    buf.base = data;
    buf.len = len;
    r = uvs_write(stream, &buf, 1, NULL, NULL);
    if (r < 0)
        uvs_close(UVS_HANDLE(stream), on_echo_close, NULL);
    /* Backpressure is driven by the writability callback alone (below). */
}

/* The echo's write queue rose above the high watermark (writable 0): stop reading until
 * the peer has read enough of its echo; it fell to the low watermark (writable 1):
 * resume. The pause is taken on the callback rather than on uvs_is_write_blocked()
 * right after uvs_write(): the callbacks come in pairs, so every pause is resumed,
 * whereas a rise that drains again before the loop reports it gets no callback at all
 * in this version of the library (see Tests/memory/writability_repro.c). */
static void on_echo_writability(uvs_stream_t *stream, int writable, void *user_data) {
    echo_conn_t *conn = user_data;

    if (!writable) {
        conn->paused = 1;
        uvs_read_stop(stream);
        return;
    }
    if (conn->paused && !conn->ended) {
        conn->paused = 0;
        if (uvs_read_start(stream, on_echo_read, conn) < 0)
            uvs_close(UVS_HANDLE(stream), on_echo_close, NULL);
    }
}

/* Accepts one handle received over the pipe; 0, or -1 if it could not be taken. */
static int worker_accept_one(worker_state_t *w) {
    int kind = uvs_pipe_pending_kind(w->ipc);
    uvs_stream_t *client = NULL;
    echo_conn_t *conn;
    int r;

    if (kind == UVS_KIND_TCP)
        r = uvs_tcp_new(w->loop, 0, &client);
    else /* not sent by our parent; take it off the queue and drop it */
        r = uvs_pipe_new(w->loop, 0, &client);
    if (r < 0)
        die("worker: new handle", r);
    r = uvs_accept(w->ipc, client);
    if (r < 0) {
        fprintf(stderr, "%s: worker %d: accept: %s\n", prog, w->index, uvs_strerror(r));
        uvs_release(UVS_HANDLE(client));
        return -1;
    }
    if (kind != UVS_KIND_TCP) {
        fprintf(stderr, "%s: worker %d: dropped a received handle of kind %d\n", prog,
                w->index, kind);
        uvs_close(UVS_HANDLE(client), on_close_release, NULL);
        return 0;
    }
    conn = calloc(1, sizeof(*conn));
    if (conn == NULL)
        die("worker", UVS_ENOMEM);
    conn->w = w;
    uvs_handle_set_data(UVS_HANDLE(client), conn);
    w->accepted++;
    w->active++;
    r = uvs_on_writability_changed(client, on_echo_writability, conn);
    if (r == 0)
        r = uvs_read_start(client, on_echo_read, conn);
    if (r < 0) {
        fprintf(stderr, "%s: worker %d: connection: %s\n", prog, w->index, uvs_strerror(r));
        uvs_close(UVS_HANDLE(client), on_echo_close, NULL);
    }
    return 0;
}

static void on_worker_ipc_read(uvs_stream_t *ipc, int status, const char *data, size_t len,
                               void *user_data) {
    worker_state_t *w = user_data;

    (void)data; /* one 'c' per connection: the handles are what matter */
    (void)len;
    if (status < 0) {
        /* UVS_EOF: the parent shut its side down (or exited). Any other error: the
         * parent is gone. Either way, no more connections. */
        if (status != UVS_EOF)
            fprintf(stderr, "%s: worker %d: pipe: %s\n", prog, w->index, uvs_strerror(status));
        w->draining = 1;
        worker_maybe_finish(w);
        return;
    }
    while (uvs_pipe_pending_count(ipc) > 0)
        if (worker_accept_one(w) < 0)
            break; /* reported; do not spin on a handle that cannot be taken */
}

static int worker_main(int argc, char **argv) {
    worker_state_t w;
    static const char ready[] = "ready\n";
    uvs_buf_t buf;
    char *end;
    long fd;
    int r;

    memset(&w, 0, sizeof(w));
    if (argc != 4) {
        fprintf(stderr, "%s: --worker INDEX FD is for the pool's own use\n", prog);
        return 2;
    }
    w.index = (int)strtol(argv[2], &end, 10);
    fd = strtol(argv[3], &end, 10);
    if (*end != '\0' || fd < 3 || fd > INT_MAX) {
        fprintf(stderr, "%s: --worker: bad descriptor '%s'\n", prog, argv[3]);
        return 2;
    }
    if ((r = uvs_loop_new(&w.loop)) < 0)
        die("worker: loop", r);
    if ((r = uvs_pipe_new(w.loop, 1, &w.ipc)) < 0)
        die("worker: pipe", r);
    if ((r = uvs_pipe_open(w.ipc, (int)fd)) < 0)
        die("worker: pipe open", r);
    if ((r = uvs_read_start(w.ipc, on_worker_ipc_read, &w)) < 0)
        die("worker: pipe read", r);
    buf.base = ready;
    buf.len = sizeof(ready) - 1;
    if ((r = uvs_write(w.ipc, &buf, 1, NULL, NULL)) < 0)
        die("worker: pipe write", r);

    r = uvs_loop_run(w.loop, UVS_RUN_DEFAULT); /* until the pipe and every connection closed */
    if (r < 0)
        die("worker: run", r);
    uvs_loop_close_all(w.loop, on_close_release, NULL);
    uvs_loop_run(w.loop, UVS_RUN_DEFAULT);
    if ((r = uvs_loop_close(w.loop)) < 0)
        die("worker: loop close", r);
    uvs_loop_release(w.loop);
    return 0;
}

/* ======================================================================== */
/* Parent process                                                            */
/* ======================================================================== */

typedef struct {
    int index;
    pid_t pid;
    uvs_stream_t *ipc;    /* NULL once closed */
    int ready;            /* said "ready" */
    int usable;           /* alive as far as we know: gets connections */
    int reaped;           /* waitpid() collected it */
    int wstatus;          /* from waitpid(), once reaped */
    unsigned long handed; /* hand-offs whose write reported 0 */
    long reported;        /* the worker's own "accepted <n>", -1 until it says */
    char line[64];        /* a partial line read from the worker */
    size_t line_len;
} worker_t;

/* A connection being handed to a worker. */
typedef struct {
    uvs_stream_t *client;
    int worker;
} handoff_t;

static uvs_loop_t *loop;
static uvs_stream_t *server;
static worker_t workers[MAX_WORKERS];
static int nworkers = 2;
static int next_worker;
static int stopping;
static int announced; /* READY printed */
static int listen_port;
static int exit_status;

static void stop_pool(int status);

/* Tells how a reaped worker ended ("exited with status 1", "killed by signal 9"). */
static const char *describe_exit(int wstatus, char *buf, size_t size) {
    if (WIFEXITED(wstatus))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(wstatus));
    else if (WIFSIGNALED(wstatus))
        snprintf(buf, size, "killed by signal %d", WTERMSIG(wstatus));
    else
        snprintf(buf, size, "ended (wait status %d)", wstatus);
    return buf;
}

/* READY once listening and every worker is running (or known dead). */
static void maybe_announce(void) {
    int i, usable = 0;

    if (announced || stopping)
        return;
    for (i = 0; i < nworkers; i++) {
        if (workers[i].usable && !workers[i].ready)
            return;
        usable += workers[i].usable;
    }
    if (usable == 0)
        return; /* stop_pool() is on its way */
    announced = 1;
    printf("READY %d\n", listen_port);
    fflush(stdout);
}

/* A worker gets no more connections: it died, or its pipe failed. Its pipe stays open
 * until it reports end of stream, so what the worker wrote before is still read (a
 * write to a dead worker fails, and every hand-off queued behind it goes elsewhere). */
static void worker_lost(worker_t *w, const char *why) {
    int i, usable = 0;

    if (!w->usable)
        return;
    w->usable = 0;
    if (!stopping)
        fprintf(stderr, "%s: worker %d (pid %ld): %s; not using it any more\n", prog,
                w->index, (long)w->pid, why);
    for (i = 0; i < nworkers; i++)
        usable += workers[i].usable;
    if (usable == 0 && !stopping) {
        fprintf(stderr, "%s: no worker left\n", prog);
        stop_pool(1);
    }
    maybe_announce();
}

static void dispatch(uvs_stream_t *client);

static void on_handoff(uvs_stream_t *ipc, int status, void *user_data) {
    handoff_t *h = user_data;
    worker_t *w = &workers[h->worker];
    uvs_stream_t *client = h->client;

    (void)ipc;
    free(h);
    if (status == 0) {
        /* The socket is in the worker's hands (or in its pipe): ours can go. */
        w->handed++;
        uvs_close(UVS_HANDLE(client), on_close_release, NULL);
        return;
    }
    if (status != UVS_ECANCELED)
        worker_lost(w, uvs_strerror(status));
    dispatch(client); /* the connection is still ours: give it to someone else */
}

/* Hands client to the next usable worker, round-robin; closes it if none takes it. */
static void dispatch(uvs_stream_t *client) {
    static const char payload = 'c';
    int tries, r;

    for (tries = 0; tries < nworkers; tries++) {
        worker_t *w = &workers[next_worker];
        handoff_t *h;
        uvs_buf_t buf;

        next_worker = (next_worker + 1) % nworkers;
        if (!w->usable || w->ipc == NULL || !uvs_is_writable(w->ipc))
            continue;
        h = malloc(sizeof(*h));
        if (h == NULL)
            break;
        h->client = client;
        h->worker = w->index;
        buf.base = &payload;
        buf.len = 1;
        r = uvs_write2(w->ipc, &buf, 1, client, on_handoff, h);
        if (r == 0)
            return;
        free(h);
        worker_lost(w, uvs_strerror(r));
    }
    uvs_close(UVS_HANDLE(client), on_close_release, NULL);
}

static void on_connection(uvs_stream_t *srv, int status, void *user_data) {
    uvs_stream_t *client = NULL;
    int r;

    (void)user_data;
    if (status < 0) {
        fprintf(stderr, "%s: listen: %s\n", prog, uvs_strerror(status));
        return;
    }
    if ((r = uvs_tcp_new(loop, 0, &client)) < 0) {
        fprintf(stderr, "%s: new connection: %s\n", prog, uvs_strerror(r));
        return;
    }
    if ((r = uvs_accept(srv, client)) < 0) {
        fprintf(stderr, "%s: accept: %s\n", prog, uvs_strerror(r));
        uvs_release(UVS_HANDLE(client));
        return;
    }
    dispatch(client);
}

/* A line from a worker: "ready" or "accepted <n>". */
static void worker_line(worker_t *w, const char *line) {
    if (strcmp(line, "ready") == 0) {
        w->ready = 1;
        maybe_announce();
    } else if (strncmp(line, "accepted ", 9) == 0) {
        w->reported = strtol(line + 9, NULL, 10);
    } else {
        fprintf(stderr, "%s: worker %d said something unexpected: '%s'\n", prog, w->index, line);
    }
}

static void on_parent_ipc_read(uvs_stream_t *ipc, int status, const char *data, size_t len,
                               void *user_data) {
    worker_t *w = user_data;
    size_t i;

    (void)ipc;
    if (status < 0) {
        /* The worker closed its end: it is exiting (after our shutdown) or it died.
         * Hand-offs still queued on the pipe report UVS_ECANCELED and go elsewhere. */
        worker_lost(w, status == UVS_EOF ? "its pipe closed" : uvs_strerror(status));
        uvs_close(UVS_HANDLE(w->ipc), on_close_release, NULL);
        w->ipc = NULL;
        return;
    }
    for (i = 0; i < len; i++) {
        if (data[i] == '\n') {
            w->line[w->line_len] = '\0';
            worker_line(w, w->line);
            w->line_len = 0;
        } else if (w->line_len + 1 < sizeof(w->line)) {
            w->line[w->line_len++] = data[i];
        }
    }
}

/* Stop accepting; end every pipe (queued hand-offs are sent first). The loop returns
 * once every worker has closed its end. */
static void stop_pool(int status) {
    int i;

    if (status > exit_status)
        exit_status = status;
    if (stopping)
        return;
    stopping = 1;
    uvs_close(UVS_HANDLE(server), on_close_release, NULL);
    for (i = 0; i < nworkers; i++) {
        worker_t *w = &workers[i];
        if (w->ipc != NULL && uvs_shutdown(w->ipc, NULL, NULL) < 0) {
            uvs_close(UVS_HANDLE(w->ipc), on_close_release, NULL);
            w->ipc = NULL;
        }
    }
}

/* Collects workers that have exited, without blocking. */
static void reap_workers(void) {
    char how[64];
    int i;

    for (i = 0; i < nworkers; i++) {
        worker_t *w = &workers[i];
        if (w->reaped || w->pid <= 0)
            continue;
        if (waitpid(w->pid, &w->wstatus, WNOHANG) != w->pid)
            continue;
        w->reaped = 1;
        describe_exit(w->wstatus, how, sizeof(how));
        if (w->usable && !stopping) {
            worker_lost(w, how); /* says how it ended */
            continue;
        }
        if (!stopping || !WIFEXITED(w->wstatus) || WEXITSTATUS(w->wstatus) != 0)
            fprintf(stderr, "%s: worker %d (pid %ld) %s\n", prog, w->index, (long)w->pid, how);
        worker_lost(w, how);
    }
}

/* ------------------------------------------------------------------------ */
/* Signals                                                                   */
/* ------------------------------------------------------------------------ */

/* SIGINT, SIGTERM and SIGCHLD are blocked in every thread of the parent and taken by
 * sigwait() in a thread of their own, which asks the loop's thread to act through
 * uvs_loop_post(), the one thread-safe call. */
static sigset_t handled_signals;
static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;
static int exiting; /* main() is done with the loop: the signal thread must not post */
static int stop_requests;

static void on_post_stop(uvs_loop_t *l, void *user_data) {
    int i;

    (void)l;
    (void)user_data;
    if (++stop_requests == 1) {
        stop_pool(0);
        return;
    }
    /* A second request: end the workers that still wait for their connections. */
    fprintf(stderr, "%s: stopping the workers now (SIGTERM)\n", prog);
    for (i = 0; i < nworkers; i++)
        if (!workers[i].reaped && workers[i].pid > 0)
            kill(workers[i].pid, SIGTERM);
}

static void on_post_child(uvs_loop_t *l, void *user_data) {
    (void)l;
    (void)user_data;
    reap_workers();
}

static void *signal_thread(void *arg) {
    (void)arg;
    for (;;) {
        int sig = 0, done;

        sigwait(&handled_signals, &sig);
        pthread_mutex_lock(&exit_lock);
        done = exiting;
        if (!done)
            uvs_loop_post(loop, sig == SIGCHLD ? on_post_child : on_post_stop, NULL);
        pthread_mutex_unlock(&exit_lock);
        if (done)
            return NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* Starting workers                                                          */
/* ------------------------------------------------------------------------ */

static char self_path[PATH_MAX];

static void start_worker(int index) {
    worker_t *w = &workers[index];
    char index_arg[16], fd_arg[16];
    char *args[5];
    int fds[2], r;
    pid_t pid;

    w->index = index;
    w->reported = -1;
    if ((r = uvs_socketpair(fds)) < 0)
        die("socketpair", r);
    snprintf(index_arg, sizeof(index_arg), "%d", index);
    snprintf(fd_arg, sizeof(fd_arg), "%d", fds[1]);
    args[0] = self_path;
    args[1] = "--worker";
    args[2] = index_arg;
    args[3] = fd_arg;
    args[4] = NULL;

    pid = fork();
    if (pid < 0) {
        perror("worker_pool: fork");
        exit(1);
    }
    if (pid == 0) {
        /* The child: only async-signal-safe calls until exec. */
        sigset_t none;
        sigemptyset(&none);
        signal(SIGINT, SIG_IGN); /* see the comment at the top */
        sigprocmask(SIG_SETMASK, &none, NULL);
        fcntl(fds[1], F_SETFD, 0); /* keep our end across exec; everything else closes */
        execv(self_path, args);
        _exit(127);
    }
    close(fds[1]);
    w->pid = pid;
    w->usable = 1;
    if ((r = uvs_pipe_new(loop, 1, &w->ipc)) < 0 || (r = uvs_pipe_open(w->ipc, fds[0])) < 0 ||
        (r = uvs_read_start(w->ipc, on_parent_ipc_read, w)) < 0)
        die("worker pipe", r);
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

static long parse_number(const char *text, long min, long max) {
    char *end;
    long value = strtol(text, &end, 10);

    if (*end != '\0' || end == text || value < min || value > max) {
        usage(stderr);
        exit(2);
    }
    return value;
}

static void parse_args(int argc, char **argv, const char **host, int *port) {
    int i, have_port = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            *host = argv[++i];
        } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            nworkers = (int)parse_number(argv[++i], 1, MAX_WORKERS);
        } else if (argv[i][0] != '-' && !have_port) {
            *port = (int)parse_number(argv[i], 0, 65535);
            have_port = 1;
        } else {
            usage(stderr);
            exit(2);
        }
    }
    if (!have_port) {
        usage(stderr);
        exit(2);
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 0, r, i;
    pthread_t signals;
    char ip[UVS_IP_MAX];
    ssize_t n;

    if (argc > 1 && strcmp(argv[1], "--worker") == 0) {
        prog = "worker_pool (worker)";
        return worker_main(argc, argv);
    }
    parse_args(argc, argv, &host, &port);

    n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
    if (n > 0)
        self_path[n] = '\0';
    else
        snprintf(self_path, sizeof(self_path), "%s", argv[0]);

    /* Block the signals before any thread exists, so every thread inherits the mask.
     * (A started worker unblocks them again before exec.) */
    sigemptyset(&handled_signals);
    sigaddset(&handled_signals, SIGINT);
    sigaddset(&handled_signals, SIGTERM);
    sigaddset(&handled_signals, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &handled_signals, NULL);

    if ((r = uvs_loop_new(&loop)) < 0)
        die("loop", r);
    if ((r = uvs_tcp_new(loop, 0, &server)) < 0)
        die("tcp", r);
    if ((r = uvs_tcp_bind(server, host, port, 0)) < 0)
        die("bind", r);
    if ((r = uvs_listen(server, 511, on_connection, NULL)) < 0)
        die("listen", r); /* a busy port is reported here (libuv defers it from bind) */
    if ((r = uvs_tcp_sockname(server, ip, sizeof(ip), &listen_port, NULL)) < 0)
        die("sockname", r);

    for (i = 0; i < nworkers; i++)
        start_worker(i);
    if (pthread_create(&signals, NULL, signal_thread, NULL) != 0) {
        fprintf(stderr, "%s: cannot start the signal thread\n", prog);
        return 1;
    }
    /* A worker that died before the signal thread started left a SIGCHLD pending: it is
     * taken by sigwait() then. READY comes from maybe_announce(). */

    r = uvs_loop_run(loop, UVS_RUN_DEFAULT); /* until stopped and every pipe closed */

    pthread_mutex_lock(&exit_lock);
    exiting = 1;
    pthread_mutex_unlock(&exit_lock);
    pthread_kill(signals, SIGTERM); /* wake it if it still waits */
    pthread_join(signals, NULL);
    if (r < 0)
        die("run", r);

    /* Every worker has closed its pipe: it is exiting. Wait for each. */
    for (i = 0; i < nworkers; i++) {
        worker_t *w = &workers[i];
        if (!w->reaped && w->pid > 0) {
            while (waitpid(w->pid, &w->wstatus, 0) < 0 && errno == EINTR) {
            }
            w->reaped = 1;
            if (!WIFEXITED(w->wstatus) || WEXITSTATUS(w->wstatus) != 0) {
                char how[64];
                fprintf(stderr, "%s: worker %d (pid %ld) %s\n", prog, w->index, (long)w->pid,
                        describe_exit(w->wstatus, how, sizeof(how)));
            }
        }
    }
    for (i = 0; i < nworkers; i++) {
        worker_t *w = &workers[i];
        fprintf(stderr, "worker %d: %lu connections", i, w->handed);
        if (w->reported >= 0 && (unsigned long)w->reported != w->handed) {
            fprintf(stderr, " (but the worker accepted %ld)", w->reported);
            exit_status = 1;
        } else if (w->reported < 0) {
            fprintf(stderr, " (worker died)");
        }
        fputc('\n', stderr);
    }

    uvs_loop_close_all(loop, on_close_release, NULL);
    uvs_loop_run(loop, UVS_RUN_DEFAULT); /* close callbacks and late posted functions */
    if ((r = uvs_loop_close(loop)) < 0)
        die("loop close", r);
    uvs_loop_release(loop);
    return exit_status;
}
