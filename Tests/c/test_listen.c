/* Listening and accepting (header section 5; CONFORMANCE 13 and 15). */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static void connect_status_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    *(int *)u = status;
}

/* CONFORMANCE 13: a listener that does not accept in its callback keeps the
 * connection; accepting later (from a timer) works, for several connections. */
struct late {
    uvs_stream_t *server;
    uvs_timer_t *timer;
    int notified;
    int accepted;
    uvs_stream_t *conns[3];
};

/* Accepts every connection notified so far: each accept must succeed. */
static void late_accept_timer(uvs_timer_t *t, void *u) {
    struct late *l = u;
    (void)t;
    while (l->accepted < l->notified) {
        uvs_stream_t *c = NULL;
        ASSERT_LT(l->accepted, 3);
        ASSERT_OK(uvs_tcp_new(uvs_handle_loop(UVS_HANDLE(l->server)), 0, &c));
        ASSERT_OK(uvs_accept(l->server, c));
        ASSERT_EQ(uvs_is_readable(c), 1);
        ASSERT_EQ(uvs_is_writable(c), 1);
        l->conns[l->accepted++] = c;
    }
}

static void late_connection(uvs_stream_t *server, int status, void *u) {
    struct late *l = u;
    ASSERT_NOT_SYNC();
    ASSERT_OK(status);
    ASSERT_PTR_EQ(server, l->server);
    l->notified++;
    /* Do not accept now: a timer does it later. */
    if (!uvs_is_active(UVS_HANDLE(l->timer)))
        ASSERT_OK(uvs_timer_start(l->timer, 5, 0, late_accept_timer, l));
}

static void test_listen_accept_later_from_timer(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *clients[3];
    int status[3], port, i;
    struct late l;
    struct reader r;

    memset(&l, 0, sizeof(l));
    memset(&r, 0, sizeof(r));
    ASSERT_OK(uvs_timer_new(loop, &l.timer));
    port = make_server(loop, "127.0.0.1", &l.server, late_connection, &l);
    for (i = 0; i < 3; i++) {
        status[i] = NOT_CALLED;
        clients[i] = tcp_connect_to(loop, port, connect_status_cb, &status[i]);
    }
    RUN_UNTIL(loop, l.accepted == 3);
    for (i = 0; i < 3; i++)
        ASSERT_OK(status[i]);
    ASSERT_EQ(l.notified, 3);
    /* The late-accepted connection works. */
    {
        uvs_buf_t b;
        b.base = "late";
        b.len = 4;
        ASSERT_OK(uvs_read_start(l.conns[2], reader_cb, &r));
        for (i = 0; i < 3; i++)
            ASSERT_OK(uvs_write(clients[i], &b, 1, NULL, NULL));
        RUN_UNTIL(loop, r.len == 4);
    }
    reader_free(&r);
    finish_loop(loop);
}

/* Nothing waiting: EAGAIN, and the client handle stays usable for a later accept. */
static void test_accept_nothing_pending(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *conn = NULL;
    int port, fd, notified = 0;

    port = make_server(loop, "127.0.0.1", &server, nop_connection_cb, &notified);
    ASSERT_OK(uvs_tcp_new(loop, 0, &conn));
    ASSERT_ERR(uvs_accept(server, conn), UVS_EAGAIN);
    ASSERT_ERR(uvs_accept(server, conn), UVS_EAGAIN);
    ASSERT_EQ(uvs_is_readable(conn), 0);
    fd = raw_connect(port);
    /* The connection reaches the listener through the loop. */
    RUN_UNTIL(loop, uvs_accept(server, conn) == 0);
    ASSERT_EQ(uvs_is_readable(conn), 1);
    close(fd);
    finish_loop(loop);
}

struct counted {
    int n;
};

static void count_connection(uvs_stream_t *s, int status, void *u) {
    (void)s;
    ASSERT_OK(status);
    ((struct counted *)u)->n++;
}

/* Accept errors: client in use, wrong kind, different loop, server not listening. The
 * waiting connection survives them all. */
static void test_accept_bad_clients(void) {
    uvs_loop_t *loop = make_loop();
    uvs_loop_t *other = make_loop();
    struct tcp_pair p;
    uvs_stream_t *fresh = NULL, *foreign = NULL, *notlistening = NULL, *eager = NULL;
    uvs_timer_t *t = NULL;
    struct counted c = {0};
    int fd;

    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_tcp_new(loop, 0, &fresh));
    ASSERT_OK(uvs_tcp_new(loop, 0, &notlistening));
    ASSERT_OK(uvs_tcp_new(other, 0, &foreign));
    ASSERT_OK(uvs_timer_new(loop, &t));
    /* Swap the callback to count the next connection, then make one wait. */
    ASSERT_OK(uvs_close(UVS_HANDLE(p.server), NULL, NULL));
    {
        uvs_stream_t *server = NULL;
        int port = make_server(loop, "127.0.0.1", &server, count_connection, &c);
        fd = raw_connect(port);
        RUN_UNTIL(loop, c.n == 1);
        ASSERT_ERR(uvs_accept(server, p.client), UVS_EINVAL);          /* in use */
        ASSERT_ERR(uvs_accept(server, p.conn), UVS_EINVAL);            /* in use */
        ASSERT_ERR(uvs_accept(server, UVS_STREAM(t)), UVS_EINVAL);     /* a timer */
        ASSERT_ERR(uvs_accept(server, foreign), UVS_EINVAL);           /* other loop */
        ASSERT_ERR(uvs_accept(server, server), UVS_EINVAL);            /* itself */
        ASSERT_ERR(uvs_accept(notlistening, fresh), UVS_EINVAL);       /* not listening */
        ASSERT_ERR(uvs_accept(p.client, fresh), UVS_EINVAL);           /* a connection */
        ASSERT_OK(uvs_tcp_new(loop, AF_INET, &eager));
        ASSERT_ERR(uvs_accept(server, eager), UVS_EINVAL); /* already has a socket */
        /* The waiting connection is still there. */
        ASSERT_OK(uvs_accept(server, fresh));
        ASSERT_EQ(uvs_is_writable(fresh), 1);
    }
    close(fd);
    finish_loop(other);
    finish_loop(loop);
}

/* A stream that listens without bind is bound to an ephemeral port by libuv. */
static void test_listen_unbound_gets_port(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL;
    char ip[UVS_IP_MAX];
    int port = 0, family = 0, status = NOT_CALLED;
    struct counted c = {0};

    ASSERT_OK(uvs_tcp_new(loop, 0, &server));
    ASSERT_OK(uvs_listen(server, 8, count_connection, &c));
    ASSERT_OK(uvs_tcp_sockname(server, ip, sizeof(ip), &port, &family));
    ASSERT_GT(port, 0);
    tcp_connect_to(loop, port, connect_status_cb, &status);
    RUN_UNTIL(loop, status != NOT_CALLED && c.n == 1);
    ASSERT_OK(status);
    finish_loop(loop);
}

static void test_listen_bad_args(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = NULL;
    struct tcp_pair p;

    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    ASSERT_OK(uvs_tcp_bind(s, "127.0.0.1", 0, 0));
    ASSERT_ERR(uvs_listen(s, -1, nop_connection_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_listen(s, 5, NULL, NULL), UVS_EINVAL);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(s)), 0);
    ASSERT_OK(uvs_listen(s, 0, nop_connection_cb, NULL)); /* backlog 0 is allowed */
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(s)), 1);
    /* A listening stream is neither readable nor writable. */
    ASSERT_EQ(uvs_is_readable(s), 0);
    ASSERT_EQ(uvs_is_writable(s), 0);
    /* A connected stream cannot listen. */
    make_tcp_pair(loop, &p);
    ASSERT_LT(uvs_listen(p.client, 5, nop_connection_cb, NULL), 0);
    finish_loop(loop);
}

/* A stream opened on a bound socket may read (libuv counts an adopted socket as
 * connected), but then cannot listen: the two would share one watcher, and a later
 * uvs_read_stop would silently stop accepting. */
static void test_listen_while_reading(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = NULL;
    struct reader r;
    struct sockaddr_in address;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&r, 0, sizeof(r));
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&address, sizeof(address)), 0);
    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    ASSERT_OK(uvs_tcp_open(s, fd));
    ASSERT_OK(uvs_read_start(s, reader_cb, &r));
    ASSERT_ERR(uvs_listen(s, 5, nop_connection_cb, NULL), UVS_EINVAL);
    ASSERT_EQ(uvs_is_reading(s), 1);
    ASSERT_OK(uvs_read_stop(s));
    ASSERT_OK(uvs_listen(s, 5, nop_connection_cb, NULL));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(s)), 1);
    reader_free(&r);
    finish_loop(loop);
}

/* Accepts (and drops) each connection, checking the server handle it is given. */
static void accept_and_count(uvs_stream_t *server, int status, void *u) {
    struct counted *c = u;
    uvs_stream_t *conn = NULL;
    ASSERT_OK(status);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(server)), UVS_KIND_TCP);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(server)), 0);
    ASSERT_OK(uvs_tcp_new(uvs_handle_loop(UVS_HANDLE(server)), 0, &conn));
    ASSERT_OK(uvs_accept(server, conn));
    uvs_release(UVS_HANDLE(conn)); /* closes it */
    c->n++;
}

/* uvs_listen: "Like any handle, a listening stream the caller releases is closed":
 * the port stops accepting and the connection callback never runs again. */
static void test_listen_release_closes(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL;
    struct counted c = {0};
    int port, fd;

    port = make_server(loop, "127.0.0.1", &server, accept_and_count, &c);
    fd = raw_connect(port);
    RUN_UNTIL(loop, c.n == 1); /* it works before the release */
    close(fd);
    uvs_release(UVS_HANDLE(server));
    /* Everything but the harness's guard timer finishes closing. */
    RUN_UNTIL(loop, uvs_loop_handle_count(loop) == 1);
    ASSERT_EQ(raw_connect_errno(port), ECONNREFUSED);
    run_for(loop, 10);
    ASSERT_EQ(c.n, 1);
    finish_loop(loop);
}

/* Many connections in a burst are all delivered and accepted. */
static void test_listen_many_connections(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL;
    struct counted c = {0};
    enum { N = 50 };
    int fds[N], port, i;

    port = make_server(loop, "127.0.0.1", &server, accept_and_count, &c);
    for (i = 0; i < N; i++)
        fds[i] = raw_connect(port);
    RUN_UNTIL(loop, c.n == N);
    for (i = 0; i < N; i++)
        close(fds[i]);
    finish_loop(loop);
}

const struct uvs_test tests_listen[] = {
    {"listen_accept_later_from_timer", test_listen_accept_later_from_timer},
    {"accept_nothing_pending", test_accept_nothing_pending},
    {"accept_bad_clients", test_accept_bad_clients},
    {"listen_unbound_gets_port", test_listen_unbound_gets_port},
    {"listen_bad_args", test_listen_bad_args},
    {"listen_release_closes", test_listen_release_closes},
    {"listen_many_connections", test_listen_many_connections},
    {"listen_while_reading", test_listen_while_reading},
    {0, 0},
};
