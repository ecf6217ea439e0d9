/*
 * uvs_echo.c — a TCP echo server on the C face of libswiftuvstream, written the way a user
 * would write it from the header.
 *
 *   uvs_echo PORT [HOST]      prints "READY <port>" once listening
 *
 * Every chunk read is written back with uvs_write() (the library writes it at once or
 * copies what the kernel did not take). Backpressure with the library's watermarks (the
 * defaults: 64 KiB high, 16 KiB low): reading stops when the writability callback says 0
 * and resumes when it says 1. TCP_NODELAY on every connection; EOF or an error releases
 * the connection (a release closes it).
 */
#include <stdio.h>
#include <stdlib.h>

#include <swiftuvstream.h>

static uvs_loop_t *loop;

static void on_read(uvs_stream_t *stream, int status, const char *data, size_t len, void *ud) {
    uvs_buf_t buf;
    (void)ud;
    if (status < 0) { /* EOF or an error */
        uvs_release(UVS_HANDLE(stream));
        return;
    }
    buf.base = data;
    buf.len = len;
    if (uvs_write(stream, &buf, 1, NULL, NULL) < 0)
        uvs_release(UVS_HANDLE(stream));
}

static void on_writability(uvs_stream_t *stream, int writable, void *ud) {
    (void)ud;
    if (writable)
        uvs_read_start(stream, on_read, NULL);
    else
        uvs_read_stop(stream);
}

static void on_connection(uvs_stream_t *server, int status, void *ud) {
    uvs_stream_t *client;
    (void)ud;
    if (status < 0)
        return;
    if (uvs_tcp_new(loop, 0, &client) < 0)
        return;
    if (uvs_accept(server, client) < 0) {
        uvs_release(UVS_HANDLE(client));
        return;
    }
    uvs_tcp_nodelay(client, 1);
    uvs_on_writability_changed(client, on_writability, NULL);
    if (uvs_read_start(client, on_read, NULL) < 0)
        uvs_release(UVS_HANDLE(client));
}

int main(int argc, char **argv) {
    uvs_stream_t *server;
    int port = argc > 1 ? atoi(argv[1]) : 0;
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    int r;

    if ((r = uvs_loop_new(&loop)) < 0 || (r = uvs_tcp_new(loop, 0, &server)) < 0 ||
        (r = uvs_tcp_bind(server, host, port, 0)) < 0 ||
        (r = uvs_listen(server, 4096, on_connection, NULL)) < 0 ||
        (r = uvs_tcp_sockname(server, (char[UVS_IP_MAX]){0}, UVS_IP_MAX, &port, NULL)) < 0) {
        fprintf(stderr, "uvs_echo: %s\n", uvs_strerror(r));
        return 1;
    }
    printf("READY %d\n", port);
    fflush(stdout);
    return uvs_loop_run(loop, UVS_RUN_DEFAULT) < 0;
}
