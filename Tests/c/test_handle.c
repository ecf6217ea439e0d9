/* What every handle can do (header section 4). */
#include "harness.h"

#include <netinet/tcp.h>

static void test_handle_kind_loop_data(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    uvs_stream_t *s = NULL;
    int x = 0;

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(t)), UVS_KIND_TIMER);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(s)), UVS_KIND_TCP);
    ASSERT_PTR_EQ(uvs_handle_loop(UVS_HANDLE(t)), loop);
    ASSERT_PTR_EQ(uvs_handle_loop(UVS_HANDLE(s)), loop);
    ASSERT_NULL(uvs_handle_data(UVS_HANDLE(s)));
    ASSERT_OK(uvs_handle_set_data(UVS_HANDLE(s), &x));
    ASSERT_PTR_EQ(uvs_handle_data(UVS_HANDLE(s)), &x);
    ASSERT_OK(uvs_handle_set_data(UVS_HANDLE(s), NULL));
    ASSERT_NULL(uvs_handle_data(UVS_HANDLE(s)));
    ASSERT_OK(uvs_handle_set_data(UVS_HANDLE(t), &x));
    ASSERT_PTR_EQ(uvs_handle_data(UVS_HANDLE(t)), &x);

    /* Kind, loop and data stay available on a closed handle. */
    ASSERT_OK(uvs_close(UVS_HANDLE(t), NULL, NULL));
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(t)), UVS_KIND_TIMER);
    ASSERT_PTR_EQ(uvs_handle_loop(UVS_HANDLE(t)), loop);
    ASSERT_PTR_EQ(uvs_handle_data(UVS_HANDLE(t)), &x);
    ASSERT_OK(uvs_handle_set_data(UVS_HANDLE(t), NULL));
    ASSERT_NULL(uvs_handle_data(UVS_HANDLE(t)));

    uvs_release(UVS_HANDLE(t));
    uvs_release(UVS_HANDLE(s));
    finish_loop(loop);
}

static void test_handle_is_active_is_closing(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    int closed = 0;
    struct tcp_pair p;
    struct reader r;

    memset(&r, 0, sizeof(r));
    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(t)), 0);
    ASSERT_OK(uvs_timer_start(t, 60000, 0, nop_timer_cb, NULL));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 1);
    ASSERT_OK(uvs_timer_stop(t));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);

    make_tcp_pair(loop, &p);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(p.server)), 1); /* listening */
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(p.conn)), 0);   /* connected, idle */
    ASSERT_OK(uvs_read_start(p.conn, reader_cb, &r));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(p.conn)), 1); /* reading */
    ASSERT_OK(uvs_read_stop(p.conn));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(p.conn)), 0);

    ASSERT_OK(uvs_timer_start(t, 60000, 0, nop_timer_cb, NULL));
    ASSERT_OK(uvs_close(UVS_HANDLE(t), flag_close_cb, &closed));
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(t)), 1);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);
    RUN_UNTIL(loop, closed);
    /* Still closing (closed) after the close callback. */
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(t)), 1);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0);
    reader_free(&r);
    uvs_release(UVS_HANDLE(t));
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(p.server)), 0);
    finish_loop(loop);
}

static void test_handle_ref_unref(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    int n = 0;

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_EQ(uvs_has_ref(UVS_HANDLE(t)), 1); /* the default */
    ASSERT_OK(uvs_unref(UVS_HANDLE(t)));
    ASSERT_EQ(uvs_has_ref(UVS_HANDLE(t)), 0);
    ASSERT_OK(uvs_unref(UVS_HANDLE(t))); /* repeatable */
    ASSERT_EQ(uvs_has_ref(UVS_HANDLE(t)), 0);
    ASSERT_OK(uvs_timer_start(t, 60000, 0, nop_timer_cb, &n));
    /* Not referenced: DEFAULT returns at once although the timer is active. */
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 1);
    ASSERT_OK(uvs_ref(UVS_HANDLE(t)));
    ASSERT_OK(uvs_ref(UVS_HANDLE(t)));
    ASSERT_EQ(uvs_has_ref(UVS_HANDLE(t)), 1);
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    /* Closed: not referenced, ref/unref report ECLOSED. */
    ASSERT_OK(uvs_close(UVS_HANDLE(t), NULL, NULL));
    ASSERT_EQ(uvs_has_ref(UVS_HANDLE(t)), 0);
    ASSERT_ERR(uvs_ref(UVS_HANDLE(t)), UVS_ECLOSED);
    ASSERT_ERR(uvs_unref(UVS_HANDLE(t)), UVS_ECLOSED);
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* An unreferenced stream: a listening server does not keep DEFAULT running. */
static void test_handle_unref_listener(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL;

    make_server(loop, "127.0.0.1", &server, nop_connection_cb, NULL);
    ASSERT_EQ(uvs_loop_alive(loop), 1);
    ASSERT_OK(uvs_unref(UVS_HANDLE(server)));
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    ASSERT_ERR(run_loop(loop), 0);
    uvs_release(UVS_HANDLE(server));
    finish_loop(loop);
}

static void test_handle_fileno(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *lazy = NULL, *eager = NULL;
    uvs_timer_t *t = NULL;
    int fd, type = 0;
    socklen_t len = sizeof(type);

    ASSERT_OK(uvs_tcp_new(loop, 0, &lazy));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &eager));
    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(lazy)), UVS_EBADF);
    fd = uvs_fileno(UVS_HANDLE(eager));
    ASSERT_GE(fd, 0);
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len), 0);
    ASSERT_EQ(type, SOCK_STREAM);
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(t)), UVS_EINVAL);
    /* bind creates the socket. */
    ASSERT_OK(uvs_tcp_bind(lazy, "127.0.0.1", 0, 0));
    ASSERT_GE(uvs_fileno(UVS_HANDLE(lazy)), 0);
    ASSERT_OK(uvs_close(UVS_HANDLE(eager), NULL, NULL));
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(eager)), UVS_ECLOSED);
    uvs_release(UVS_HANDLE(lazy));
    uvs_release(UVS_HANDLE(eager));
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* Buffer sizes read back what was set (the library halves Linux's doubled value). */
static void test_handle_buffer_sizes(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = NULL, *lazy = NULL;
    uvs_timer_t *t = NULL;
    int fd, kernel = 0;
    socklen_t len = sizeof(kernel);

    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &s));
    ASSERT_OK(uvs_tcp_new(loop, 0, &lazy));
    ASSERT_OK(uvs_timer_new(loop, &t));

    /* A fresh socket reports a positive default. */
    ASSERT_GT(uvs_send_buffer_size(UVS_HANDLE(s)), 0);
    ASSERT_GT(uvs_receive_buffer_size(UVS_HANDLE(s)), 0);
    ASSERT_OK(uvs_set_send_buffer_size(UVS_HANDLE(s), 65536));
    ASSERT_EQ(uvs_send_buffer_size(UVS_HANDLE(s)), 65536);
    ASSERT_OK(uvs_set_receive_buffer_size(UVS_HANDLE(s), 32768));
    ASSERT_EQ(uvs_receive_buffer_size(UVS_HANDLE(s)), 32768);
    ASSERT_OK(uvs_set_send_buffer_size(UVS_HANDLE(s), 20000));
    ASSERT_EQ(uvs_send_buffer_size(UVS_HANDLE(s)), 20000);
    /* The kernel really has it (doubled on Linux). */
    fd = uvs_fileno(UVS_HANDLE(s));
    ASSERT_GE(fd, 0);
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kernel, &len), 0);
    ASSERT_EQ(kernel, 40000);

    ASSERT_ERR(uvs_set_send_buffer_size(UVS_HANDLE(s), 0), UVS_EINVAL);
    ASSERT_ERR(uvs_set_send_buffer_size(UVS_HANDLE(s), -5), UVS_EINVAL);
    ASSERT_ERR(uvs_set_receive_buffer_size(UVS_HANDLE(s), 0), UVS_EINVAL);
    ASSERT_ERR(uvs_set_receive_buffer_size(UVS_HANDLE(s), -1), UVS_EINVAL);
    /* No socket yet: EBADF. A timer: EINVAL. */
    ASSERT_ERR(uvs_send_buffer_size(UVS_HANDLE(lazy)), UVS_EBADF);
    ASSERT_ERR(uvs_set_send_buffer_size(UVS_HANDLE(lazy), 65536), UVS_EBADF);
    ASSERT_ERR(uvs_receive_buffer_size(UVS_HANDLE(lazy)), UVS_EBADF);
    ASSERT_ERR(uvs_set_receive_buffer_size(UVS_HANDLE(lazy), 65536), UVS_EBADF);
    ASSERT_ERR(uvs_send_buffer_size(UVS_HANDLE(t)), UVS_EINVAL);
    ASSERT_ERR(uvs_receive_buffer_size(UVS_HANDLE(t)), UVS_EINVAL);
    ASSERT_ERR(uvs_set_send_buffer_size(UVS_HANDLE(t), 65536), UVS_EINVAL);
    ASSERT_ERR(uvs_set_receive_buffer_size(UVS_HANDLE(t), 65536), UVS_EINVAL);

    uvs_release(UVS_HANDLE(s));
    uvs_release(UVS_HANDLE(lazy));
    uvs_release(UVS_HANDLE(t));
    finish_loop(loop);
}

/* Buffer sizes on a connected stream (both ends). */
static void test_handle_buffer_sizes_connected(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;

    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_set_receive_buffer_size(UVS_HANDLE(p.conn), 131072));
    ASSERT_EQ(uvs_receive_buffer_size(UVS_HANDLE(p.conn)), 131072);
    ASSERT_OK(uvs_set_send_buffer_size(UVS_HANDLE(p.client), 49152));
    ASSERT_EQ(uvs_send_buffer_size(UVS_HANDLE(p.client)), 49152);
    finish_loop(loop);
}

/* ---- close ---- */

static void close_log_cb(uvs_handle_t *h, void *user_data) {
    ASSERT_NOT_SYNC();
    ASSERT_EQ(uvs_is_closing(h), 1);
    ev("close:%s", (const char *)user_data);
}

static void test_handle_close_idempotent(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    uvs_stream_t *s = NULL;

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &s));
    in_call = 1;
    ASSERT_OK(uvs_close(UVS_HANDLE(t), close_log_cb, "t1"));
    ASSERT_OK(uvs_close(UVS_HANDLE(t), close_log_cb, "t2")); /* neither replaces nor adds */
    ASSERT_OK(uvs_close(UVS_HANDLE(t), NULL, NULL));
    ASSERT_OK(uvs_close(UVS_HANDLE(s), close_log_cb, "s1"));
    ASSERT_OK(uvs_close(UVS_HANDLE(s), close_log_cb, "s2"));
    in_call = 0;
    ASSERT_STR_EQ(evlog(), "");
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    ASSERT(strcmp(evlog(), "close:t1 close:s1") == 0 || strcmp(evlog(), "close:s1 close:t1") == 0);
    /* Closed: still idempotent, no further callback. */
    ASSERT_OK(uvs_close(UVS_HANDLE(t), close_log_cb, "t3"));
    ASSERT_OK(uvs_close(UVS_HANDLE(s), close_log_cb, "s3"));
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    ASSERT_EQ(strlen(evlog()), strlen("close:t1 close:s1"));
    uvs_release(UVS_HANDLE(t));
    uvs_release(UVS_HANDLE(s));
    finish_loop(loop);
}

static void close_release_cb(uvs_handle_t *h, void *user_data) {
    ev("released:%s", (const char *)user_data);
    uvs_release(h);
}

/* Releasing inside the handle's own close callback is safe. */
static void test_handle_release_in_close_cb(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    uvs_stream_t *s = NULL;

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &s));
    ASSERT_OK(uvs_close(UVS_HANDLE(t), close_release_cb, "t"));
    ASSERT_OK(uvs_close(UVS_HANDLE(s), close_release_cb, "s"));
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT(strstr(evlog(), "released:t") != NULL);
    ASSERT(strstr(evlog(), "released:s") != NULL);
    finish_loop(loop);
}

/* Releasing an open handle closes it (no close callback); the loop closes after a run. */
static void test_handle_release_open_closes(void) {
    uvs_loop_t *loop = make_loop();
    uvs_timer_t *t = NULL;
    uvs_stream_t *s = NULL;
    int n = 0;

    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &s));
    ASSERT_OK(uvs_timer_start(t, 1, 1, nop_timer_cb, &n));
    ASSERT_EQ(uvs_loop_handle_count(loop), 2);
    uvs_release(UVS_HANDLE(t));
    uvs_release(UVS_HANDLE(s));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(t)), 0); /* still valid: the loop holds it */
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(t)), 1);
    ASSERT_ERR(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0);
    ASSERT_EQ(uvs_loop_alive(loop), 0);
    ASSERT_EQ(uvs_loop_handle_count(loop), 0);
    uvs_release(NULL); /* NULL-safe */
    finish_loop(loop);
}

/* Releasing a handle from its own timer callback. */
static void release_self_cb(uvs_timer_t *t, void *user_data) {
    (void)user_data;
    ev("fired");
    uvs_release(UVS_HANDLE(t));
    ev("released");
}

static void test_handle_release_in_own_callback(void) {
    uvs_loop_t *loop = make_loop();

    start_timer(loop, 0, 1, release_self_cb, NULL);
    ASSERT_ERR(run_loop(loop), 0);
    ASSERT_STR_EQ(evlog(), "fired released");
    finish_loop(loop);
}

const struct uvs_test tests_handle[] = {
    {"handle_kind_loop_data", test_handle_kind_loop_data},
    {"handle_is_active_is_closing", test_handle_is_active_is_closing},
    {"handle_ref_unref", test_handle_ref_unref},
    {"handle_unref_listener", test_handle_unref_listener},
    {"handle_fileno", test_handle_fileno},
    {"handle_buffer_sizes", test_handle_buffer_sizes},
    {"handle_buffer_sizes_connected", test_handle_buffer_sizes_connected},
    {"handle_close_idempotent", test_handle_close_idempotent},
    {"handle_release_in_close_cb", test_handle_release_in_close_cb},
    {"handle_release_open_closes", test_handle_release_open_closes},
    {"handle_release_in_own_callback", test_handle_release_in_own_callback},
    {0, 0},
};
