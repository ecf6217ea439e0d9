/*
 * echo_client.c — a client for echo_server, on libswiftuvstream.
 *
 *   echo_client [--host HOST] PORT [MESSAGE...]
 *
 * Connects to HOST (default 127.0.0.1) and PORT, sends each MESSAGE (default
 * "hello from C"), reads until exactly the bytes it sent have come back, then shuts
 * down its side and waits for the server to end its own. Prints "sent: <msg>" as each
 * message is handed to the kernel, then "echoed: <msg>" for each once the whole echo
 * has come back.
 * Exits 0 if the echo matched, 1 otherwise (connection error, wrong echo, or no
 * answer within 5 seconds), 2 for bad arguments.
 *
 * What it shows:
 *   - connect, write and read callbacks, and that writes may be issued before the
 *     connection is established (they are sent once it is),
 *   - half-close with uvs_shutdown() and end of stream (UVS_EOF),
 *   - a uvs_timer as a timeout, so the program never hangs.
 *
 * Build: cc -std=c99 echo_client.c -lswiftuvstream -o echo_client
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swiftuvstream.h>

#define TIMEOUT_MS 5000

/* The whole state of the program. */
typedef struct {
    uvs_stream_t *tcp;
    uvs_timer_t *timeout;
    char **messages; /* what to send, in order */
    int nmessages;
    char *expected; /* all messages, concatenated */
    size_t total;   /* strlen(expected) */
    size_t received;
    int sent; /* messages whose write completed */
    int failed;
    int done; /* the echo is complete and correct */
} client_t;

/* One write per message, so its callback can say which message was sent. */
typedef struct {
    client_t *client;
    int index;
} send_t;

static void usage(FILE *out) {
    fprintf(out, "usage: echo_client [--host HOST] PORT [MESSAGE...]\n"
                 "  Sends each MESSAGE (default \"hello from C\") to the echo server at\n"
                 "  HOST (default 127.0.0.1):PORT and checks that it comes back.\n");
}

/* ------------------------------------------------------------------------ */
/* Ending                                                                    */
/* ------------------------------------------------------------------------ */

/* Closing both handles lets uvs_loop_run() return: nothing else keeps it alive. */
static void finish(client_t *c, const char *what, int code) {
    if (what != NULL) {
        if (code != 0)
            fprintf(stderr, "echo_client: %s: %s\n", what, uvs_strerror(code));
        else
            fprintf(stderr, "echo_client: %s\n", what);
        c->failed = 1;
    }
    uvs_close(UVS_HANDLE(c->tcp), NULL, NULL);
    uvs_close(UVS_HANDLE(c->timeout), NULL, NULL);
}

static void on_timeout(uvs_timer_t *timer, void *user_data) {
    (void)timer;
    finish(user_data, "timed out waiting for the echo", 0);
}

/* ------------------------------------------------------------------------ */
/* Reading the echo                                                          */
/* ------------------------------------------------------------------------ */

static void on_shutdown(uvs_stream_t *stream, int status, void *user_data) {
    (void)stream;
    if (status < 0)
        finish(user_data, "shutdown", status);
}

/* Once every message was sent and every byte came back: report, and end our side
 * (the server answers with its own end of stream). */
static void check_complete(client_t *c) {
    int i, r;

    if (c->done || c->failed || c->sent < c->nmessages || c->received < c->total)
        return;
    c->done = 1;
    for (i = 0; i < c->nmessages; i++)
        printf("echoed: %s\n", c->messages[i]);
    fflush(stdout);
    r = uvs_shutdown(c->tcp, on_shutdown, c);
    if (r < 0)
        finish(c, "shutdown", r);
}

static void on_read(uvs_stream_t *stream, int status, const char *data, size_t len,
                    void *user_data) {
    client_t *c = user_data;

    (void)stream;
    if (status == UVS_EOF) {
        /* The server ended its side. Fine once everything came back. */
        if (c->done)
            finish(c, NULL, 0);
        else
            finish(c, "the server closed the connection before the echo was complete", 0);
        return;
    }
    if (status < 0) {
        finish(c, "read", status);
        return;
    }
    if (len > c->total - c->received ||
        memcmp(data, c->expected + c->received, len) != 0) {
        finish(c, "the echo does not match what was sent", 0);
        return;
    }
    c->received += len;
    check_complete(c);
}

/* ------------------------------------------------------------------------ */
/* Connecting and sending                                                    */
/* ------------------------------------------------------------------------ */

static void on_write(uvs_stream_t *stream, int status, void *user_data) {
    send_t *send = user_data;
    client_t *c = send->client;

    (void)stream;
    if (status == 0) {
        printf("sent: %s\n", c->messages[send->index]);
        fflush(stdout);
        c->sent++;
        check_complete(c);
    } else if (status != UVS_ECANCELED) { /* cancelled: the connect failed, already said */
        finish(c, "write", status);
    }
    free(send);
}

static void on_connect(uvs_stream_t *stream, int status, void *user_data) {
    client_t *c = user_data;
    int r;

    if (status < 0) {
        finish(c, "connect", status);
        return;
    }
    r = uvs_read_start(stream, on_read, c);
    if (r < 0)
        finish(c, "read", r);
}

/* Writes every message. Called right after uvs_tcp_connect(): the writes wait for
 * the connection, in order. */
static int send_messages(client_t *c) {
    int i, r;

    for (i = 0; i < c->nmessages; i++) {
        uvs_buf_t buf;
        send_t *send = malloc(sizeof(*send));
        if (send == NULL)
            return UVS_ENOMEM;
        send->client = c;
        send->index = i;
        buf.base = c->messages[i];
        buf.len = strlen(c->messages[i]);
        r = uvs_write(c->tcp, &buf, 1, on_write, send);
        if (r < 0) {
            free(send); /* a failed call never calls back */
            return r;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

static void parse_args(int argc, char **argv, const char **host, int *port, client_t *c) {
    static char *default_message[] = {"hello from C"};
    int i;
    char *end;
    long value;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            *host = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            usage(stderr);
            exit(2);
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage(stderr);
        exit(2);
    }
    value = strtol(argv[i], &end, 10);
    if (*end != '\0' || end == argv[i] || value < 1 || value > 65535) {
        usage(stderr);
        exit(2);
    }
    *port = (int)value;
    i++;
    c->messages = i < argc ? argv + i : default_message;
    c->nmessages = i < argc ? argc - i : 1;
}

/* The concatenation of all messages: what must come back. */
static int build_expected(client_t *c) {
    int i;

    c->total = 0;
    for (i = 0; i < c->nmessages; i++)
        c->total += strlen(c->messages[i]);
    c->expected = malloc(c->total + 1);
    if (c->expected == NULL)
        return UVS_ENOMEM;
    c->expected[0] = '\0';
    for (i = 0; i < c->nmessages; i++)
        strcat(c->expected, c->messages[i]);
    return 0;
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 0, r;
    uvs_loop_t *loop = NULL;
    client_t c;

    memset(&c, 0, sizeof(c));
    parse_args(argc, argv, &host, &port, &c);
    if (build_expected(&c) < 0) {
        fprintf(stderr, "echo_client: out of memory\n");
        return 1;
    }

    if ((r = uvs_loop_new(&loop)) < 0 || (r = uvs_tcp_new(loop, 0, &c.tcp)) < 0 ||
        (r = uvs_timer_new(loop, &c.timeout)) < 0) {
        fprintf(stderr, "echo_client: setup: %s\n", uvs_strerror(r));
        return 1;
    }
    r = uvs_tcp_connect(c.tcp, host, port, on_connect, &c);
    if (r < 0) {
        fprintf(stderr, "echo_client: connect to %s port %d: %s\n", host, port, uvs_strerror(r));
        return 1;
    }
    if ((r = send_messages(&c)) < 0 ||
        (r = uvs_timer_start(c.timeout, TIMEOUT_MS, 0, on_timeout, &c)) < 0) {
        fprintf(stderr, "echo_client: %s\n", uvs_strerror(r));
        return 1;
    }

    uvs_loop_run(loop, UVS_RUN_DEFAULT); /* until finish() closed both handles */

    uvs_release(UVS_HANDLE(c.tcp));
    uvs_release(UVS_HANDLE(c.timeout));
    uvs_loop_close(loop);
    uvs_loop_release(loop);
    free(c.expected);
    return c.failed || !c.done ? 1 : 0;
}
