/* Closing and lifetime (header "Closing", sections 4-5; CONFORMANCE 10-12). */
#include "harness.h"

#include <unistd.h>

/* A pending connect completes with ECANCELED before the close callback (or 0 if the
 * library had already seen it finish: the kernel may complete a loopback handshake
 * before the loop runs). */
static void test_close_pending_connect(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL;
    int port;

    port = make_server(loop, "127.0.0.1", &server, nop_connection_cb, NULL);
    client = tcp_connect_to(loop, port, log_connect_cb, NULL);
    in_call = 1;
    ASSERT_OK(uvs_close(UVS_HANDLE(client), log_close_cb, NULL));
    in_call = 0;
    ASSERT_STR_EQ(evlog(), "");
    RUN_UNTIL(loop, strstr(evlog(), "close") != NULL);
    run_for(loop, 10);
    if (strcmp(evlog(), "connect:ECANCELED close") != 0 && strcmp(evlog(), "connect:0 close") != 0)
        FAIL("event log \"%s\", expected \"connect:ECANCELED close\"", evlog());
    finish_loop(loop);
}

/* Pending writes and shutdown complete with ECANCELED, in the order they were made,
 * before the close callback; a second close changes nothing. */
static void test_close_pending_writes_and_shutdown(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_buf_t b;

    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_set_send_buffer_size(UVS_HANDLE(p.client), 32 * 1024));
    write_zeros(p.client, 8 * MIB, log_write_cb, "1"); /* queues: peer not reading */
    b.base = "x";
    b.len = 1;
    ASSERT_OK(uvs_write(p.client, &b, 1, log_write_cb, "2"));
    ASSERT_OK(uvs_write(p.client, NULL, 0, log_write_cb, "3"));
    ASSERT_OK(uvs_shutdown(p.client, log_shutdown_cb, NULL));
    in_call = 1;
    ASSERT_OK(uvs_close(UVS_HANDLE(p.client), log_close_cb, "A"));
    ASSERT_OK(uvs_close(UVS_HANDLE(p.client), log_close_cb, "B"));
    in_call = 0;
    ASSERT_STR_EQ(evlog(), "");
    ASSERT_UEQ(uvs_write_queue_size(p.client), 0); /* closed: neutral value */
    RUN_UNTIL(loop, strstr(evlog(), "close") != NULL);
    run_for(loop, 10);
    ASSERT_STR_EQ(evlog(), "write1:ECANCELED write2:ECANCELED write3:ECANCELED "
                           "shutdown:ECANCELED closeA");
    finish_loop(loop);
}

/* A write that had already finished (written at once, callback not yet run) reports
 * 0, not ECANCELED, when the stream is closed before its callback. */
static void test_close_after_completed_write(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    uvs_buf_t b;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    b.base = "done";
    b.len = 4;
    ASSERT_OK(uvs_write(p.client, &b, 1, log_write_cb, ""));
    ASSERT_UEQ(uvs_write_queue_size(p.client), 0); /* written at once */
    ASSERT_OK(uvs_close(UVS_HANDLE(p.client), log_close_cb, NULL));
    RUN_UNTIL(loop, strstr(evlog(), "close") != NULL && r.eofs == 1);
    ASSERT_STR_EQ(evlog(), "write:0 close");
    ASSERT_UEQ(r.len, 4);
    reader_free(&r);
    finish_loop(loop);
}

static void call_everything_closed(uvs_stream_t *s) {
    char ip[UVS_IP_MAX];
    int port, family, ws = NOT_CALLED;
    uvs_buf_t b;
    uvs_stream_t *other = NULL;
    struct reader r;

    memset(&r, 0, sizeof(r));
    b.base = "x";
    b.len = 1;
    ASSERT_ERR(uvs_read_start(s, reader_cb, &r), UVS_ECLOSED);
    ASSERT_ERR(uvs_read_stop(s), UVS_ECLOSED);
    ASSERT_ERR(uvs_write(s, &b, 1, status_cb, &ws), UVS_ECLOSED);
    ASSERT_ERR(uvs_write(s, NULL, 0, status_cb, &ws), UVS_ECLOSED);
    ASSERT_ERR(uvs_try_write(s, &b, 1), UVS_ECLOSED);
    ASSERT_ERR(uvs_shutdown(s, NULL, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_listen(s, 5, nop_connection_cb, NULL), UVS_ECLOSED);
    ASSERT_OK(uvs_tcp_new(uvs_handle_loop(UVS_HANDLE(s)), 0, &other));
    ASSERT_ERR(uvs_accept(s, other), UVS_ECLOSED);
    uvs_release(UVS_HANDLE(other));
    ASSERT_ERR(uvs_tcp_bind(s, "127.0.0.1", 0, 0), UVS_ECLOSED);
    ASSERT_ERR(uvs_tcp_connect(s, "127.0.0.1", 1, NULL, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_tcp_open(s, 0), UVS_ECLOSED);
    ASSERT_ERR(uvs_tcp_nodelay(s, 1), UVS_ECLOSED);
    ASSERT_ERR(uvs_tcp_keepalive(s, 1, 10), UVS_ECLOSED);
    ASSERT_ERR(uvs_tcp_simultaneous_accepts(s, 1), UVS_ECLOSED);
    ASSERT_ERR(uvs_tcp_sockname(s, ip, sizeof(ip), &port, &family), UVS_ECLOSED);
    ASSERT_ERR(uvs_tcp_peername(s, ip, sizeof(ip), &port, &family), UVS_ECLOSED);
    ASSERT_ERR(uvs_ref(UVS_HANDLE(s)), UVS_ECLOSED);
    ASSERT_ERR(uvs_unref(UVS_HANDLE(s)), UVS_ECLOSED);
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(s)), UVS_ECLOSED);
    ASSERT_ERR(uvs_send_buffer_size(UVS_HANDLE(s)), UVS_ECLOSED);
    ASSERT_ERR(uvs_receive_buffer_size(UVS_HANDLE(s)), UVS_ECLOSED);
    ASSERT_ERR(uvs_set_send_buffer_size(UVS_HANDLE(s), 65536), UVS_ECLOSED);
    ASSERT_ERR(uvs_set_receive_buffer_size(UVS_HANDLE(s), 65536), UVS_ECLOSED);
    /* Queries: neutral. */
    ASSERT_EQ(uvs_is_readable(s), 0);
    ASSERT_EQ(uvs_is_writable(s), 0);
    ASSERT_EQ(uvs_is_reading(s), 0);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(s)), 0);
    ASSERT_EQ(uvs_has_ref(UVS_HANDLE(s)), 0);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(s)), 1);
    ASSERT_UEQ(uvs_write_queue_size(s), 0);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(s)), UVS_KIND_TCP);
    ASSERT_OK(uvs_close(UVS_HANDLE(s), NULL, NULL));
    ASSERT_EQ(ws, NOT_CALLED);
}

/* CONFORMANCE 10: every call after close reports ECLOSED, both while closing and
 * once closed; queries are neutral. */
static void test_close_then_every_call_eclosed(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    struct reader r;
    int closed = 0;

    memset(&r, 0, sizeof(r));
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &r));
    ASSERT_OK(uvs_close(UVS_HANDLE(p.client), log_close_cb, NULL));
    call_everything_closed(p.client); /* closing */
    ASSERT_OK(uvs_close(UVS_HANDLE(p.server), NULL, NULL));
    call_everything_closed(p.server);
    RUN_UNTIL(loop, strstr(evlog(), "close") != NULL);
    call_everything_closed(p.client); /* closed */
    call_everything_closed(p.server);
    run_for(loop, 10);
    ASSERT_STR_EQ(evlog(), "close");
    ASSERT_EQ(r.chunks + r.eofs + r.errors, 0); /* no read callback after close */
    (void)closed;
    reader_free(&r);
    finish_loop(loop);
}

static void test_close_timer_then_eclosed(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_OK(uvs_timer_set_repeat(t, 5));
    ASSERT_OK(uvs_close(UVS_HANDLE(t), NULL, NULL));
    ASSERT_ERR(uvs_timer_start(t, 1, 0, nop_timer_cb, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_timer_stop(t), UVS_ECLOSED);
    ASSERT_ERR(uvs_timer_again(t), UVS_ECLOSED);
    ASSERT_ERR(uvs_timer_set_repeat(t, 5), UVS_ECLOSED);
    ASSERT_UEQ(uvs_timer_repeat(t), 0);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);
    ASSERT_EQ(uvs_has_ref(UVS_HANDLE(t)), 0);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(t)), UVS_KIND_TIMER);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* Closing inside each kind of callback is safe and complete. */
static void close_in_connect_cb(uvs_stream_t *s, int status, void *u) {
    (void)u;
    ev("connect:%s", code_name(status));
    ASSERT_OK(uvs_close(UVS_HANDLE(s), log_close_cb, NULL));
}

static void close_in_write_cb(uvs_stream_t *s, int status, void *u) {
    ev("write%s:%s", (const char *)u, code_name(status));
    if (strcmp((const char *)u, "1") == 0)
        ASSERT_OK(uvs_close(UVS_HANDLE(s), log_close_cb, NULL));
}

static void close_in_connection_cb(uvs_stream_t *server, int status, void *u) {
    (void)u;
    ev("connection:%s", code_name(status));
    ASSERT_OK(uvs_close(UVS_HANDLE(server), log_close_cb, "S"));
}

static void test_close_in_callbacks(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *server2 = NULL, *client = NULL;
    struct tcp_pair p;
    uvs_buf_t b;
    int port, fd;

    /* In the connect callback: a write queued behind the connect completes (0 if it
     * was sent already, else ECANCELED) after the connect callback, before the
     * close callback. */
    port = make_server(loop, "127.0.0.1", &server, nop_connection_cb, NULL);
    client = tcp_connect_to(loop, port, close_in_connect_cb, NULL);
    b.base = "q";
    b.len = 1;
    ASSERT_OK(uvs_write(client, &b, 1, log_write_cb, "Q"));
    RUN_UNTIL(loop, strstr(evlog(), "close") != NULL);
    if (strcmp(evlog(), "connect:0 writeQ:ECANCELED close") != 0 &&
        strcmp(evlog(), "connect:0 writeQ:0 close") != 0)
        FAIL("event log \"%s\"", evlog());
    ev_reset();

    /* In the connection callback: the listener closes itself. */
    port = make_server(loop, "127.0.0.1", &server2, close_in_connection_cb, NULL);
    fd = raw_connect(port);
    RUN_UNTIL(loop, strstr(evlog(), "closeS") != NULL);
    ASSERT_STR_EQ(evlog(), "connection:0 closeS");
    close(fd);
    ev_reset();

    /* In a write callback, with a queued write behind it. */
    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_set_send_buffer_size(UVS_HANDLE(p.client), 32 * 1024));
    b.base = "small";
    b.len = 5;
    ASSERT_OK(uvs_write(p.client, &b, 1, close_in_write_cb, "1"));
    write_zeros(p.client, 8 * MIB, close_in_write_cb, "2");
    RUN_UNTIL(loop, strstr(evlog(), "close") != NULL);
    ASSERT_STR_EQ(evlog(), "write1:0 write2:ECANCELED close");
    finish_loop(loop);
}

/* CONFORMANCE 12: releasing a handle with requests in flight: their callbacks still
 * run (ECANCELED) on a valid handle, and memory is freed afterwards (ASan). */
static void check_handle_cb(uvs_stream_t *s, int status, void *u) {
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(s)), UVS_KIND_TCP);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(s)), 1);
    ev("%s:%s", (const char *)u, code_name(status));
}

static void test_release_with_pending_requests(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *c2 = NULL;

    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_set_send_buffer_size(UVS_HANDLE(p.client), 32 * 1024));
    write_zeros(p.client, 8 * MIB, check_handle_cb, "write");
    ASSERT_OK(uvs_shutdown(p.client, check_handle_cb, "shutdown"));
    c2 = tcp_connect_to(loop, p.port, check_handle_cb, "connect");
    uvs_release(UVS_HANDLE(p.client));
    uvs_release(UVS_HANDLE(c2));
    RUN_UNTIL(loop, strstr(evlog(), "connect:") != NULL && strstr(evlog(), "shutdown:") != NULL);
    run_for(loop, 10);
    /* Per handle in order; the two handles in any order. */
    {
        const char *log = evlog();
        const char *w = strstr(log, "write:ECANCELED");
        const char *sd = strstr(log, "shutdown:ECANCELED");
        ASSERT_NOT_NULL(w);
        ASSERT_NOT_NULL(sd);
        ASSERT(w < sd);
        const char *c = strstr(log, "connect:");
        const char *sp;
        int tokens = 1;
        ASSERT_NOT_NULL(c);
        ASSERT(strncmp(c, "connect:ECANCELED", 17) == 0 || strncmp(c, "connect:0", 9) == 0);
        for (sp = strchr(log, ' '); sp != NULL; sp = strchr(sp + 1, ' '))
            tokens++;
        ASSERT_EQ(tokens, 3); /* each callback once */
    }
    finish_loop(loop);
}

/* Releasing inside the close callback (and closing more handles from it). */
static void release_and_close_other(uvs_handle_t *h, void *u) {
    ev("close");
    uvs_release(h);
    if (u != NULL)
        ASSERT_OK(uvs_close(UVS_HANDLE(u), release_and_close_other, NULL));
}

static void test_release_in_close_cb_chain(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *client, *conn;

    make_tcp_pair(loop, &p);
    client = p.client;
    conn = p.conn;
    ASSERT_OK(uvs_close(UVS_HANDLE(client), release_and_close_other, conn));
    RUN_UNTIL(loop, strcmp(evlog(), "close close") == 0);
    finish_loop(loop);
}

/* Closing the loop's handles with close_all while requests are pending. */
static void test_close_all_with_pending_requests(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL;
    int port;

    port = make_server(loop, "127.0.0.1", &server, nop_connection_cb, NULL);
    client = tcp_connect_to(loop, port, log_connect_cb, NULL);
    {
        uvs_buf_t b;
        b.base = "q";
        b.len = 1;
        ASSERT_OK(uvs_write(client, &b, 1, log_write_cb, ""));
    }
    ASSERT_ERR(uvs_loop_close_all(loop, log_close_cb, NULL), 2);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    /* The client's requests first, in order, then its close callback. The connect
     * reports ECANCELED (or 0 if already seen to finish; then the write may have been
     * sent too). */
    {
        const char *log = evlog();
        const char *c = strstr(log, "connect:");
        const char *w = strstr(log, "write:");
        ASSERT_NOT_NULL(c);
        ASSERT_NOT_NULL(w);
        ASSERT(c < w);
        ASSERT_NOT_NULL(strstr(w, "close"));
        if (strncmp(c, "connect:ECANCELED", 17) == 0)
            ASSERT(strncmp(w, "write:ECANCELED", 15) == 0);
        else
            ASSERT(strncmp(c, "connect:0", 9) == 0 &&
                   (strncmp(w, "write:ECANCELED", 15) == 0 || strncmp(w, "write:0", 7) == 0));
        ASSERT_NULL(strstr(c + 1, "connect:")); /* once each */
        ASSERT_NULL(strstr(w + 1, "write:"));
    }
    uvs_release(UVS_HANDLE(client));
    uvs_release(UVS_HANDLE(server));
    finish_loop(loop);
}

const struct uvs_test tests_close[] = {
    {"close_pending_connect", test_close_pending_connect},
    {"close_pending_writes_and_shutdown", test_close_pending_writes_and_shutdown},
    {"close_after_completed_write", test_close_after_completed_write},
    {"close_then_every_call_eclosed", test_close_then_every_call_eclosed},
    {"close_timer_then_eclosed", test_close_timer_then_eclosed},
    {"close_in_callbacks", test_close_in_callbacks},
    {"close_release_with_pending_requests", test_release_with_pending_requests},
    {"close_release_in_close_cb_chain", test_release_in_close_cb_chain},
    {"close_all_with_pending_requests", test_close_all_with_pending_requests},
    {0, 0},
};
