/*
 * raw_libuv_echo.c — a TCP echo server on libuv itself, written the way an expert would:
 * the limit for any wrapper.
 *
 *   raw_libuv_echo PORT [HOST]      prints "READY <port>" once listening
 *
 * - One read buffer for the whole server (every read callback consumes its data before
 *   the next read can happen, so nothing needs a buffer per connection).
 * - The echo goes out with uv_try_write(): on loopback it is almost always written
 *   in full at once, with no request and no copy.
 * - What the kernel does not take is copied into the connection's output buffer and sent
 *   with the connection's one preallocated uv_write_t; more data arriving while that write
 *   is in flight is appended to a second buffer, sent when the first completes. The two
 *   buffers are kept and reused (freed if they grew past 256 KiB).
 * - Backpressure with the library's default watermarks: reading stops when more than
 *   64 KiB waits to be sent and resumes once it is down to 16 KiB.
 * - TCP_NODELAY on every connection; EOF or an error closes the connection.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define HIGH_WATERMARK 65536
#define LOW_WATERMARK 16384
#define KEEP_LIMIT (256 * 1024)

typedef struct {
    char *base;
    size_t len, cap;
} buf_t;

typedef struct {
    uv_tcp_t tcp;
    uv_write_t req; /* the one write request; in flight when writing is 1 */
    buf_t out;      /* being written by req */
    buf_t next;     /* arrived while req was in flight */
    int writing;
    int paused;
} conn_t;

static uv_loop_t *loop;
static uv_tcp_t server;
static char read_buffer[65536];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h;
    (void)suggested;
    buf->base = read_buffer;
    buf->len = sizeof(read_buffer);
}

static void on_close(uv_handle_t *h) {
    conn_t *c = (conn_t *)h;
    free(c->out.base);
    free(c->next.base);
    free(c);
}

static int append(buf_t *b, const char *data, size_t len) {
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *n;
        while (cap < b->len + len)
            cap *= 2;
        n = realloc(b->base, cap);
        if (n == NULL)
            return -1;
        b->base = n;
        b->cap = cap;
    }
    memcpy(b->base + b->len, data, len);
    b->len += len;
    return 0;
}

static void trim(buf_t *b) {
    b->len = 0;
    if (b->cap > KEEP_LIMIT) {
        free(b->base);
        b->base = NULL;
        b->cap = 0;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void on_write(uv_write_t *req, int status) {
    conn_t *c = req->data;
    buf_t t;

    c->writing = 0;
    trim(&c->out);
    if (status < 0) {
        if (!uv_is_closing((uv_handle_t *)&c->tcp))
            uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    if (c->next.len > 0) {
        uv_buf_t b;
        t = c->out;
        c->out = c->next;
        c->next = t;
        b = uv_buf_init(c->out.base, (unsigned)c->out.len);
        c->writing = 1;
        if (uv_write(&c->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
            c->writing = 0;
            uv_close((uv_handle_t *)&c->tcp, on_close);
            return;
        }
    }
    if (c->paused && c->out.len + c->next.len <= LOW_WATERMARK) {
        c->paused = 0;
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    conn_t *c = (conn_t *)s;
    const char *data = buf->base;
    size_t len;

    if (n < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (n == 0)
        return;
    len = (size_t)n;
    if (!c->writing) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
        int r = uv_try_write(s, &b, 1);
        if (r == (int)len)
            return; /* the common case: all written, nothing queued */
        if (r < 0 && r != UV_EAGAIN) {
            uv_close((uv_handle_t *)s, on_close);
            return;
        }
        if (r > 0) {
            data += r;
            len -= (size_t)r;
        }
        if (append(&c->out, data, len) < 0) {
            uv_close((uv_handle_t *)s, on_close);
            return;
        }
        b = uv_buf_init(c->out.base, (unsigned)c->out.len);
        c->writing = 1;
        if (uv_write(&c->req, s, &b, 1, on_write) < 0) {
            c->writing = 0;
            uv_close((uv_handle_t *)s, on_close);
            return;
        }
    } else if (append(&c->next, data, len) < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (c->out.len + c->next.len > HIGH_WATERMARK) {
        c->paused = 1;
        uv_read_stop(s);
    }
}

static void on_connection(uv_stream_t *srv, int status) {
    conn_t *c;

    if (status < 0)
        return;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    uv_tcp_init(loop, &c->tcp);
    c->req.data = c;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        uv_close((uv_handle_t *)&c->tcp, on_close);
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    struct sockaddr_storage name;
    int namelen = sizeof(name), r;
    int port = argc > 1 ? atoi(argv[1]) : 0;
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";

    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    uv_ip4_addr(host, port, &addr);
    uv_tcp_init(loop, &server);
    if ((r = uv_tcp_bind(&server, (struct sockaddr *)&addr, 0)) < 0 ||
        (r = uv_listen((uv_stream_t *)&server, 4096, on_connection)) < 0) {
        fprintf(stderr, "raw_libuv_echo: %s\n", uv_strerror(r));
        return 1;
    }
    uv_tcp_getsockname(&server, (struct sockaddr *)&name, &namelen);
    printf("READY %d\n", ntohs(((struct sockaddr_in *)&name)->sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
