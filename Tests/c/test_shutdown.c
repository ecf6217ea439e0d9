/* Shutdown (header section 5; CONFORMANCE 9). */
#include "harness.h"

#include <unistd.h>

/* Not writable at once; a second shutdown fails with ENOTCONN; later writes fail
 * with EPIPE; queued writes are flushed before the peer sees EOF; the shutdown
 * callback comes after the write callbacks. */
static void test_shutdown_flushes_queue_first(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    uvs_buf_t b;
    int ws = NOT_CALLED;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_set_send_buffer_size(UVS_HANDLE(p.client), 256 * 1024));
    write_pattern_at(p.client, 0, 8 * MIB, log_write_cb, "1");
    ASSERT(uvs_write_queue_size(p.client) > 0);
    in_call = 1;
    ASSERT_OK(uvs_shutdown(p.client, log_shutdown_cb, NULL));
    in_call = 0;
    ASSERT_EQ(uvs_is_writable(p.client), 0);
    ASSERT_EQ(uvs_is_readable(p.client), 1);
    ASSERT_ERR(uvs_shutdown(p.client, log_shutdown_cb, NULL), UVS_ENOTCONN);
    b.base = "late";
    b.len = 4;
    ASSERT_ERR(uvs_write(p.client, &b, 1, status_cb, &ws), UVS_EPIPE);
    ASSERT_ERR(uvs_try_write(p.client, &b, 1), UVS_EPIPE);
    ASSERT_ERR(uvs_write(p.client, NULL, 0, status_cb, &ws), UVS_EPIPE);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    RUN_UNTIL(loop, r.eofs == 1 && strstr(evlog(), "shutdown") != NULL);
    ASSERT_PATTERN(r, 8 * MIB);
    ASSERT_STR_EQ(evlog(), "write1:0 shutdown:0");
    ASSERT_EQ(ws, NOT_CALLED);
    /* Still not writable after the shutdown completed; still ENOTCONN. */
    ASSERT_EQ(uvs_is_writable(p.client), 0);
    ASSERT_ERR(uvs_shutdown(p.client, NULL, NULL), UVS_ENOTCONN);
    reader_free(&r);
    finish_loop(loop);
}

static void test_shutdown_null_cb(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    ASSERT_OK(uvs_shutdown(p.client, NULL, NULL));
    RUN_UNTIL(loop, r.eofs == 1);
    ASSERT_UEQ(r.len, 0);
    reader_free(&r);
    finish_loop(loop);
}

/* Shutdown during a pending connect: connect, writes, then shutdown, in order. */
static void test_shutdown_during_connect(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL;
    struct accept_read acc;
    uvs_buf_t b;
    int port;

    memset(&acc, 0, sizeof(acc));
    port = make_server(loop, "127.0.0.1", &server, accept_read_cb, &acc);
    client = tcp_connect_to(loop, port, log_connect_cb, NULL);
    b.base = "early";
    b.len = 5;
    ASSERT_OK(uvs_write(client, &b, 1, log_write_cb, ""));
    ASSERT_OK(uvs_shutdown(client, log_shutdown_cb, NULL));
    ASSERT_EQ(uvs_is_writable(client), 0);
    RUN_UNTIL(loop, acc.in.eofs == 1 && strstr(evlog(), "shutdown") != NULL);
    ASSERT_STR_EQ(evlog(), "connect:0 write:0 shutdown:0");
    ASSERT_UEQ(acc.in.len, 5);
    ASSERT(memcmp(acc.in.data, "early", 5) == 0);
    reader_free(&acc.in);
    finish_loop(loop);
}

/* Shutdown during a connect that fails: the shutdown does not succeed. */
static void test_shutdown_during_failed_connect(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *client = NULL;
    int fd, port, ss = NOT_CALLED;

    port = refused_port(&fd);
    client = tcp_connect_to(loop, port, log_connect_cb, NULL);
    ASSERT_OK(uvs_shutdown(client, status_cb, &ss));
    RUN_UNTIL(loop, ss != NOT_CALLED);
    ASSERT_LT(ss, 0);
    ASSERT(strncmp(evlog(), "connect:ECONNREFUSED", 20) == 0);
    close(fd);
    finish_loop(loop);
}

static void test_shutdown_not_connected(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *lazy = NULL, *eager = NULL, *server = NULL;

    ASSERT_OK(uvs_tcp_new(loop, 0, &lazy));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &eager));
    ASSERT_OK(uvs_tcp_new(loop, 0, &server));
    ASSERT_OK(uvs_tcp_bind(server, "127.0.0.1", 0, 0));
    ASSERT_ERR(uvs_shutdown(lazy, NULL, NULL), UVS_ENOTCONN);
    ASSERT_ERR(uvs_shutdown(eager, NULL, NULL), UVS_ENOTCONN);
    ASSERT_ERR(uvs_shutdown(server, NULL, NULL), UVS_ENOTCONN);
    finish_loop(loop);
}

const struct uvs_test tests_shutdown[] = {
    {"shutdown_flushes_queue_first", test_shutdown_flushes_queue_first},
    {"shutdown_null_cb", test_shutdown_null_cb},
    {"shutdown_during_connect", test_shutdown_during_connect},
    {"shutdown_during_failed_connect", test_shutdown_during_failed_connect},
    {"shutdown_not_connected", test_shutdown_not_connected},
    {0, 0},
};
