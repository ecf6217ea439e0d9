/*
 * echo_server.c — a TCP echo server on libswiftuvstream.
 *
 *   echo_server [--host HOST] [PORT]
 *
 * Listens on HOST (default 127.0.0.1) and PORT (default 0: any free port), prints
 * "READY <port>" once listening, and sends every connection back what it receives.
 * When a peer ends its side (EOF), the server shuts down its own side after the echo
 * is flushed and then closes the connection; a connection that fails is closed.
 * SIGINT or SIGTERM stops the server cleanly: every handle is closed, the loop is
 * closed, and the program exits 0.
 *
 * What it shows:
 *   - the loop / handle / callback model and reference ownership (uvs_release),
 *   - backpressure: stop reading while too much echo is queued, resume when drained,
 *   - the one thread-safe call, uvs_loop_post(), used by a signal-handling thread.
 *
 * Build: cc -std=c99 echo_server.c -lswiftuvstream -lpthread -o echo_server
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swiftuvstream.h>

/* Stop reading from a peer while more than this much echo waits to be sent... */
#define HIGH_WATERMARK (1024u * 1024u)
/* ...and resume once the queue is below this. */
#define LOW_WATERMARK (64u * 1024u)

/* One accepted connection. Stored as the stream's handle data. */
typedef struct {
    int paused; /* reading stopped for backpressure */
    int ended;  /* the peer sent EOF, or reading failed */
} conn_t;

static uvs_loop_t *loop;

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

static void usage(FILE *out) {
    fprintf(out, "usage: echo_server [--host HOST] [PORT]\n"
                 "  Echoes every TCP connection on HOST (default 127.0.0.1) and PORT\n"
                 "  (default 0: any free port). Prints \"READY <port>\" once listening.\n"
                 "  SIGINT or SIGTERM stops it.\n");
}

/* Reports a failed call the way every error of this program is reported. */
static void die(const char *what, int code) {
    fprintf(stderr, "echo_server: %s: %s\n", what, uvs_strerror(code));
    exit(1);
}

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

/* Every handle of this program ends here: its memory and our reference go. */
static void on_close(uvs_handle_t *handle, void *user_data) {
    (void)user_data;
    free(uvs_handle_data(handle)); /* the conn_t of a connection; NULL for the server */
    uvs_release(handle);
}

static void on_shutdown(uvs_stream_t *stream, int status, void *user_data) {
    (void)status; /* closing is the next step whatever the outcome */
    (void)user_data;
    uvs_close(UVS_HANDLE(stream), on_close, NULL);
}

static void on_read(uvs_stream_t *stream, int status, const char *data, size_t len,
                    void *user_data);

/* An echo write finished: resume reading if we paused and the queue has drained. */
static void on_write(uvs_stream_t *stream, int status, void *user_data) {
    conn_t *conn = user_data;

    if (status < 0) /* the peer is gone: the read side will report it, or has */
        return;
    if (conn->paused && !conn->ended && uvs_write_queue_size(stream) < LOW_WATERMARK) {
        conn->paused = 0;
        uvs_read_start(stream, on_read, conn);
    }
}

static void on_read(uvs_stream_t *stream, int status, const char *data, size_t len,
                    void *user_data) {
    conn_t *conn = user_data;
    uvs_buf_t buf;
    int r;

    if (status == UVS_EOF) {
        /* The peer is done sending: finish our side once the echo is flushed. */
        conn->ended = 1;
        if (uvs_shutdown(stream, on_shutdown, NULL) < 0)
            uvs_close(UVS_HANDLE(stream), on_close, NULL);
        return;
    }
    if (status < 0) {
        conn->ended = 1;
        uvs_close(UVS_HANDLE(stream), on_close, NULL);
        return;
    }

    /* data is only valid during this callback; uvs_write copies what it keeps. */
    buf.base = data;
    buf.len = len;
    r = uvs_write(stream, &buf, 1, on_write, conn);
    if (r < 0) {
        uvs_close(UVS_HANDLE(stream), on_close, NULL);
        return;
    }
    if (uvs_write_queue_size(stream) > HIGH_WATERMARK) {
        conn->paused = 1; /* the peer does not read fast enough: stop reading */
        uvs_read_stop(stream);
    }
}

static void on_connection(uvs_stream_t *server, int status, void *user_data) {
    uvs_stream_t *client = NULL;
    conn_t *conn;
    int r;

    (void)user_data;
    if (status < 0) {
        fprintf(stderr, "echo_server: listen: %s\n", uvs_strerror(status));
        return;
    }
    r = uvs_tcp_new(loop, 0, &client);
    if (r < 0) {
        fprintf(stderr, "echo_server: new connection: %s\n", uvs_strerror(r));
        return; /* the connection stays queued; it is dropped when the server closes */
    }
    conn = calloc(1, sizeof(*conn));
    if (conn == NULL) {
        uvs_release(UVS_HANDLE(client));
        return;
    }
    uvs_handle_set_data(UVS_HANDLE(client), conn);
    r = uvs_accept(server, client);
    if (r == 0)
        r = uvs_read_start(client, on_read, conn);
    if (r < 0) {
        fprintf(stderr, "echo_server: accept: %s\n", uvs_strerror(r));
        uvs_close(UVS_HANDLE(client), on_close, NULL);
    }
}

/* ------------------------------------------------------------------------ */
/* Signals                                                                   */
/* ------------------------------------------------------------------------ */

/* SIGINT and SIGTERM are blocked in every thread and taken by sigwait() in a thread
 * of their own, which asks the loop's thread to stop through uvs_loop_post(): the
 * one library call that is safe from another thread. */
static sigset_t stop_signals;
static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;
static int exiting; /* main() is done with the loop: the signal thread must not post */

/* Runs on the loop's thread: close everything; uvs_loop_run() then returns. */
static void stop_server(uvs_loop_t *l, void *user_data) {
    (void)user_data;
    uvs_loop_close_all(l, on_close, NULL);
}

static void *signal_thread(void *arg) {
    int sig = 0;

    (void)arg;
    sigwait(&stop_signals, &sig);
    pthread_mutex_lock(&exit_lock);
    if (!exiting)
        uvs_loop_post(loop, stop_server, NULL);
    pthread_mutex_unlock(&exit_lock);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

/* Parses the command line; exits 0 for --help and 2 for bad arguments. */
static void parse_args(int argc, char **argv, const char **host, int *port) {
    int i, have_port = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            *host = argv[++i];
        } else if (argv[i][0] != '-' && !have_port) {
            char *end;
            long value = strtol(argv[i], &end, 10);
            if (*end != '\0' || end == argv[i] || value < 0 || value > 65535) {
                usage(stderr);
                exit(2);
            }
            *port = (int)value;
            have_port = 1;
        } else {
            usage(stderr);
            exit(2);
        }
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 0, r;
    uvs_stream_t *server = NULL;
    pthread_t signals;
    char ip[UVS_IP_MAX];

    parse_args(argc, argv, &host, &port);

    /* Block the stop signals before any thread exists, so every thread inherits it. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    if ((r = uvs_loop_new(&loop)) < 0)
        die("loop", r);
    if ((r = uvs_tcp_new(loop, 0, &server)) < 0)
        die("tcp", r);
    if ((r = uvs_tcp_bind(server, host, port, 0)) < 0)
        die("bind", r);
    if ((r = uvs_listen(server, 128, on_connection, NULL)) < 0)
        die("listen", r); /* a busy port is reported here (libuv defers it from bind) */
    if ((r = uvs_tcp_sockname(server, ip, sizeof(ip), &port, NULL)) < 0)
        die("sockname", r);
    if (pthread_create(&signals, NULL, signal_thread, NULL) != 0) {
        fprintf(stderr, "echo_server: cannot start the signal thread\n");
        return 1;
    }

    printf("READY %d\n", port);
    fflush(stdout);

    r = uvs_loop_run(loop, UVS_RUN_DEFAULT); /* until a signal closes everything */

    /* Stop the signal thread if it is still waiting (no signal came). */
    pthread_mutex_lock(&exit_lock);
    exiting = 1;
    pthread_mutex_unlock(&exit_lock);
    pthread_kill(signals, SIGTERM);
    pthread_join(signals, NULL);

    if (r < 0)
        die("run", r);
    /* Close whatever is left (nothing, after a signal), let the close callbacks run. */
    uvs_loop_close_all(loop, on_close, NULL);
    uvs_loop_run(loop, UVS_RUN_DEFAULT);
    if ((r = uvs_loop_close(loop)) < 0)
        die("close", r);
    uvs_loop_release(loop);
    return 0;
}
