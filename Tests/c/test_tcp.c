/* TCP (header section 6): create, bind, connect, options, addresses, open. */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>

static void test_tcp_new_families(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a = NULL, *b = NULL, *c = NULL, *bad = (uvs_stream_t *)&loop;

    ASSERT_OK(uvs_tcp_new(loop, 0, &a));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &b));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET6, &c));
    ASSERT_NOT_NULL(a);
    ASSERT_NOT_NULL(b);
    ASSERT_NOT_NULL(c);
    ASSERT_ERR(uvs_tcp_new(loop, AF_UNIX, &bad), UVS_EINVAL);
    ASSERT_NULL(bad);
    bad = (uvs_stream_t *)&loop;
    ASSERT_ERR(uvs_tcp_new(loop, 12345, &bad), UVS_EINVAL);
    ASSERT_NULL(bad);
    bad = (uvs_stream_t *)&loop;
    ASSERT_ERR(uvs_tcp_new(loop, -1, &bad), UVS_EINVAL);
    ASSERT_NULL(bad);
    /* Family 0 has no socket yet; the others have one. */
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(a)), UVS_EBADF);
    ASSERT_GE(uvs_fileno(UVS_HANDLE(b)), 0);
    ASSERT_GE(uvs_fileno(UVS_HANDLE(c)), 0);
    /* New streams are neither readable nor writable, nor reading. */
    ASSERT_EQ(uvs_is_readable(a), 0);
    ASSERT_EQ(uvs_is_writable(a), 0);
    ASSERT_EQ(uvs_is_readable(b), 0);
    ASSERT_EQ(uvs_is_writable(b), 0);
    ASSERT_EQ(uvs_is_reading(b), 0);
    ASSERT_EQ(uvs_loop_handle_count(loop), 3);
    uvs_release(UVS_HANDLE(a));
    uvs_release(UVS_HANDLE(b));
    uvs_release(UVS_HANDLE(c));
    finish_loop(loop);
}

/* ---- connect + echo ---- */

struct echo {
    uvs_stream_t *conn;
    struct reader client_in;
    int server_eof;
    int client_connect;
    int client_write;
};

static void echo_server_read(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct echo *e = u;
    ASSERT_NOT_SYNC();
    if (status == 0) {
        uvs_buf_t b;
        b.base = data;
        b.len = len;
        ASSERT_OK(uvs_write(s, &b, 1, NULL, NULL));
    } else {
        ASSERT_ERR(status, UVS_EOF);
        e->server_eof++;
        ASSERT_OK(uvs_shutdown(s, NULL, NULL));
    }
}

static void echo_connection(uvs_stream_t *server, int status, void *u) {
    struct echo *e = u;
    ASSERT_NOT_SYNC();
    ASSERT_OK(status);
    ASSERT_OK(uvs_tcp_new(uvs_handle_loop(UVS_HANDLE(server)), 0, &e->conn));
    ASSERT_OK(uvs_accept(server, e->conn));
    ASSERT_EQ(uvs_is_readable(e->conn), 1);
    ASSERT_EQ(uvs_is_writable(e->conn), 1);
    ASSERT_OK(uvs_read_start(e->conn, echo_server_read, e));
    ev("accepted");
}

static void echo_connect_cb(uvs_stream_t *s, int status, void *u) {
    struct echo *e = u;
    (void)s;
    ASSERT_NOT_SYNC();
    ev("connect:%s", code_name(status));
    e->client_connect = 1;
}

static void echo_write_cb(uvs_stream_t *s, int status, void *u) {
    struct echo *e = u;
    (void)s;
    ASSERT_NOT_SYNC();
    ev("write:%s", code_name(status));
    e->client_write = 1;
}

static void test_tcp_connect_echo(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL;
    struct echo e;
    uvs_buf_t b[2];
    int port;

    memset(&e, 0, sizeof(e));
    port = make_server(loop, "127.0.0.1", &server, echo_connection, &e);
    ASSERT_OK(uvs_tcp_new(loop, 0, &client));
    in_call = 1;
    ASSERT_OK(uvs_tcp_connect(client, "127.0.0.1", port, echo_connect_cb, &e));
    in_call = 0;
    /* Connecting: readable and writable at once. */
    ASSERT_EQ(uvs_is_writable(client), 1);
    ASSERT_EQ(uvs_is_readable(client), 1);
    RUN_UNTIL(loop, e.client_connect && e.conn != NULL);
    ASSERT_OK(uvs_read_start(client, reader_cb, &e.client_in));
    b[0].base = "hello, ";
    b[0].len = 7;
    b[1].base = "world";
    b[1].len = 5;
    in_call = 1;
    ASSERT_OK(uvs_write(client, b, 2, echo_write_cb, &e));
    in_call = 0;
    RUN_UNTIL(loop, e.client_in.len >= 12);
    ASSERT_UEQ(e.client_in.len, 12);
    ASSERT(memcmp(e.client_in.data, "hello, world", 12) == 0);
    ASSERT_EQ(e.client_write, 1);
    /* Half-close: our shutdown makes the server echo EOF back as its own shutdown. */
    ASSERT_OK(uvs_shutdown(client, NULL, NULL));
    RUN_UNTIL(loop, e.client_in.eofs == 1);
    ASSERT_EQ(e.server_eof, 1);
    ASSERT_EQ(e.client_in.errors, 0);
    ASSERT_EQ(e.client_in.bad_args, 0);
    ASSERT(strstr(evlog(), "connect:0") != NULL);
    ASSERT(strstr(evlog(), "accepted") != NULL);
    ASSERT(strstr(evlog(), "write:0") != NULL);
    reader_free(&e.client_in);
    uvs_release(UVS_HANDLE(e.conn));
    uvs_release(UVS_HANDLE(client));
    uvs_release(UVS_HANDLE(server));
    finish_loop(loop);
}

static void connect_status_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    ASSERT_NOT_SYNC();
    ev("connect:%s", code_name(status));
    *(int *)u = status;
}

/* uvs_is_active: "active (reading, listening, connecting, writing, a started timer)". */
static void test_tcp_connecting_is_active(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL;
    int port, status = NOT_CALLED;

    port = make_server(loop, "127.0.0.1", &server, nop_connection_cb, NULL);
    ASSERT_OK(uvs_tcp_new(loop, 0, &client));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(client)), 0);
    ASSERT_OK(uvs_tcp_connect(client, "127.0.0.1", port, connect_status_cb, &status));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(client)), 1);
    RUN_UNTIL(loop, status != NOT_CALLED);
    ASSERT_OK(status);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(client)), 0); /* connected, idle */
    finish_loop(loop);
}

/* A connect to a closed port reports ECONNREFUSED in the callback; afterwards the
 * stream is neither readable nor writable. */
static void test_tcp_connect_refused(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *client = NULL;
    int fd, port, status = NOT_CALLED;

    port = refused_port(&fd);
    ASSERT_OK(uvs_tcp_new(loop, 0, &client));
    in_call = 1;
    ASSERT_OK(uvs_tcp_connect(client, "127.0.0.1", port, connect_status_cb, &status));
    in_call = 0;
    RUN_UNTIL(loop, status != NOT_CALLED);
    ASSERT_ERR(status, UVS_ECONNREFUSED);
    ASSERT_EQ(uvs_is_writable(client), 0);
    ASSERT_EQ(uvs_is_readable(client), 0);
    ASSERT_ERR(uvs_shutdown(client, NULL, NULL), UVS_ENOTCONN);
    close(fd);
    uvs_release(UVS_HANDLE(client));
    finish_loop(loop);
}

static void test_tcp_connect_null_cb(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *c2 = NULL;

    make_tcp_pair(loop, &p);
    c2 = tcp_connect_to(loop, p.port, NULL, NULL);
    run_for(loop, 10);
    uvs_release(UVS_HANDLE(c2));
    finish_loop(loop);
}

static void test_tcp_connect_twice(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL;
    struct echo e;
    int port, status = NOT_CALLED;

    memset(&e, 0, sizeof(e));
    port = make_server(loop, "127.0.0.1", &server, echo_connection, &e);
    client = tcp_connect_to(loop, port, connect_status_cb, &status);
    ASSERT_ERR(uvs_tcp_connect(client, "127.0.0.1", port, connect_status_cb, &status),
               UVS_EALREADY);
    RUN_UNTIL(loop, status != NOT_CALLED);
    ASSERT_OK(status);
    ASSERT_ERR(uvs_tcp_connect(client, "127.0.0.1", port, connect_status_cb, &status),
               UVS_EISCONN);
    /* Only one callback, for the one connect that was accepted. */
    ASSERT(strcmp(evlog(), "connect:0 accepted") == 0 ||
           strcmp(evlog(), "accepted connect:0") == 0);
    reader_free(&e.client_in);
    finish_loop(loop);
}

static void test_tcp_connect_bad_args(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *client = NULL;
    int status = NOT_CALLED;

    ASSERT_OK(uvs_tcp_new(loop, 0, &client));
    ASSERT_ERR(uvs_tcp_connect(client, "not-an-ip", 80, connect_status_cb, &status), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(client, "localhost", 80, connect_status_cb, &status), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(client, "", 80, connect_status_cb, &status), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(client, "127.0.0.1", -1, connect_status_cb, &status), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(client, "127.0.0.1", 65536, connect_status_cb, &status),
               UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(client, "256.1.1.1", 80, connect_status_cb, &status), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(client, NULL, 80, connect_status_cb, &status), UVS_EINVAL);
    /* The failed calls left no trace: no callback, not writable. */
    run_nowait(loop, 2);
    ASSERT_EQ(status, NOT_CALLED);
    ASSERT_EQ(uvs_is_writable(client), 0);
    uvs_release(UVS_HANDLE(client));
    finish_loop(loop);
}

/* ---- bind ---- */

static void test_tcp_bind(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = NULL;
    char ip[UVS_IP_MAX];
    int port = -1, family = -1;

    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    ASSERT_ERR(uvs_tcp_bind(s, "not-an-ip", 0, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(s, "localhost", 0, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(s, "127.0.0.1", -1, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(s, "127.0.0.1", 65536, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(s, "127.0.0.1", 0, 2), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(s, "127.0.0.1", 0, 0xffffffffu), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(s, NULL, 0, 0), UVS_EINVAL);
    ASSERT_OK(uvs_tcp_bind(s, "127.0.0.1", 0, 0));
    ASSERT_OK(uvs_tcp_sockname(s, ip, sizeof(ip), &port, &family));
    ASSERT_STR_EQ(ip, "127.0.0.1");
    ASSERT_GT(port, 0);
    ASSERT_LE(port, 65535);
    ASSERT_EQ(family, AF_INET);
    /* Already bound. */
    ASSERT_ERR(uvs_tcp_bind(s, "127.0.0.1", 0, 0), UVS_EINVAL);
    /* Binding does not make a stream readable or writable. */
    ASSERT_EQ(uvs_is_readable(s), 0);
    ASSERT_EQ(uvs_is_writable(s), 0);
    uvs_release(UVS_HANDLE(s));
    finish_loop(loop);
}

/* Skips the test on a machine without IPv6 on its loopback interface. */
static void require_ipv6_loopback(void) {
    struct sockaddr_in6 sa;
    int s = socket(AF_INET6, SOCK_STREAM, 0);

    if (s < 0)
        SKIP("no IPv6 sockets on this machine");
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(s);
        SKIP("no IPv6 loopback address (::1)");
    }
    close(s);
}

/* An address not on this machine: EADDRNOTAVAIL at bind (192.0.2.1 is TEST-NET-1). */
static void test_tcp_bind_addrnotavail(void) {
    uvs_loop_t *loop;
    uvs_stream_t *s = NULL;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_nonlocal_bind", "r");

    if (f != NULL) {
        int c = fgetc(f);
        fclose(f);
        if (c == '1')
            SKIP("net.ipv4.ip_nonlocal_bind is 1: any address can be bound");
    }
    loop = make_loop();
    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    ASSERT_ERR(uvs_tcp_bind(s, "192.0.2.1", 0, 0), UVS_EADDRNOTAVAIL);
    uvs_release(UVS_HANDLE(s));
    finish_loop(loop);
}

/* CONFORMANCE 15: binding a busy port succeeds; libuv defers EADDRINUSE to listen. */
static void test_tcp_bind_busy_port_deferred_to_listen(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *first = NULL, *second = NULL;
    int port;

    port = make_server(loop, "127.0.0.1", &first, nop_connection_cb, NULL);
    ASSERT_OK(uvs_tcp_new(loop, 0, &second));
    ASSERT_OK(uvs_tcp_bind(second, "127.0.0.1", port, 0));
    ASSERT_ERR(uvs_listen(second, 16, nop_connection_cb, NULL), UVS_EADDRINUSE);
    /* The failed listen left nothing active behind. */
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(second)), 0);
    uvs_release(UVS_HANDLE(second));
    uvs_release(UVS_HANDLE(first));
    finish_loop(loop);
}

/* The header says the deferred EADDRINUSE also comes from uvs_tcp_connect(): either
 * the call returns it or the connect callback reports it. It must not silently
 * connect from another port. */
static void test_tcp_bind_busy_port_deferred_to_connect(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *first = NULL, *second = NULL, *target = NULL;
    int port, target_port, status = NOT_CALLED, r;

    port = make_server(loop, "127.0.0.1", &first, nop_connection_cb, NULL);
    target_port = make_server(loop, "127.0.0.1", &target, nop_connection_cb, NULL);
    ASSERT_OK(uvs_tcp_new(loop, 0, &second));
    ASSERT_OK(uvs_tcp_bind(second, "127.0.0.1", port, 0));
    r = uvs_tcp_connect(second, "127.0.0.1", target_port, connect_status_cb, &status);
    if (r == 0) {
        RUN_UNTIL(loop, status != NOT_CALLED);
        ASSERT_ERR(status, UVS_EADDRINUSE);
    } else {
        ASSERT_ERR(r, UVS_EADDRINUSE);
        run_nowait(loop, 2);
        ASSERT_EQ(status, NOT_CALLED);
    }
    uvs_release(UVS_HANDLE(second));
    finish_loop(loop);
}

/* ---- addresses ---- */

static void test_tcp_sockname_peername_ipv4(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *lazy = NULL;
    char ip[UVS_IP_MAX], small[4];
    int cport = -1, cfamily = -1, port = -1, family = -1;

    make_tcp_pair(loop, &p);
    ASSERT_OK(uvs_tcp_sockname(p.client, ip, sizeof(ip), &cport, &cfamily));
    ASSERT_STR_EQ(ip, "127.0.0.1");
    ASSERT_GT(cport, 0);
    ASSERT_EQ(cfamily, AF_INET);
    ASSERT_OK(uvs_tcp_peername(p.client, ip, sizeof(ip), &port, &family));
    ASSERT_STR_EQ(ip, "127.0.0.1");
    ASSERT_EQ(port, p.port);
    ASSERT_EQ(family, AF_INET);
    /* The server side sees the client's address. */
    ASSERT_OK(uvs_tcp_peername(p.conn, ip, sizeof(ip), &port, &family));
    ASSERT_STR_EQ(ip, "127.0.0.1");
    ASSERT_EQ(port, cport);
    ASSERT_OK(uvs_tcp_sockname(p.conn, ip, sizeof(ip), &port, &family));
    ASSERT_EQ(port, p.port);
    /* port and family may be NULL. */
    memset(ip, 'x', sizeof(ip));
    ASSERT_OK(uvs_tcp_sockname(p.client, ip, sizeof(ip), NULL, NULL));
    ASSERT_STR_EQ(ip, "127.0.0.1");
    /* Exactly enough room: "127.0.0.1" + NUL. */
    ASSERT_OK(uvs_tcp_sockname(p.client, ip, 10, NULL, NULL));
    ASSERT_STR_EQ(ip, "127.0.0.1");
    ASSERT_ERR(uvs_tcp_sockname(p.client, ip, 9, NULL, NULL), UVS_ENOBUFS);
    ASSERT_ERR(uvs_tcp_sockname(p.client, small, sizeof(small), &port, &family), UVS_ENOBUFS);
    ASSERT_ERR(uvs_tcp_peername(p.client, small, sizeof(small), &port, &family), UVS_ENOBUFS);
    ASSERT_ERR(uvs_tcp_sockname(p.client, small, 0, &port, &family), UVS_ENOBUFS);
    /* A listener has no peer; a lazy handle has no socket. */
    ASSERT_ERR(uvs_tcp_peername(p.server, ip, sizeof(ip), &port, &family), UVS_ENOTCONN);
    ASSERT_OK(uvs_tcp_new(loop, 0, &lazy));
    ASSERT_ERR(uvs_tcp_sockname(lazy, ip, sizeof(ip), &port, &family), UVS_EBADF);
    ASSERT_ERR(uvs_tcp_peername(lazy, ip, sizeof(ip), &port, &family), UVS_EBADF);
    uvs_release(UVS_HANDLE(lazy));
    finish_loop(loop);
}

static void test_tcp_ipv6_loopback(void) {
    uvs_loop_t *loop;
    uvs_stream_t *server = NULL, *client = NULL, *conn = NULL;
    char ip[UVS_IP_MAX];
    int port, p = -1, family = -1, cport = -1, status = NOT_CALLED;

    require_ipv6_loopback();
    loop = make_loop();

    port = make_server(loop, "::1", &server, accept_into_cb, &conn);
    ASSERT_OK(uvs_tcp_sockname(server, ip, sizeof(ip), &p, &family));
    ASSERT_STR_EQ(ip, "::1");
    ASSERT_EQ(family, AF_INET6);
    ASSERT_OK(uvs_tcp_new(loop, AF_INET6, &client));
    ASSERT_OK(uvs_tcp_connect(client, "::1", port, connect_status_cb, &status));
    RUN_UNTIL(loop, status != NOT_CALLED && conn != NULL);
    ASSERT_OK(status);
    ASSERT_OK(uvs_tcp_sockname(client, ip, sizeof(ip), &cport, &family));
    ASSERT_STR_EQ(ip, "::1");
    ASSERT_EQ(family, AF_INET6);
    ASSERT_OK(uvs_tcp_peername(client, ip, sizeof(ip), &p, &family));
    ASSERT_STR_EQ(ip, "::1");
    ASSERT_EQ(p, port);
    ASSERT_EQ(family, AF_INET6);
    ASSERT_OK(uvs_tcp_peername(conn, ip, sizeof(ip), &p, &family));
    ASSERT_STR_EQ(ip, "::1");
    ASSERT_EQ(p, cport);
    ASSERT_EQ(family, AF_INET6);
    /* "::1" + NUL = 4 bytes is enough; 3 is not. */
    ASSERT_OK(uvs_tcp_sockname(client, ip, 4, NULL, NULL));
    ASSERT_ERR(uvs_tcp_sockname(client, ip, 3, NULL, NULL), UVS_ENOBUFS);
    finish_loop(loop);
}

/* A connect across families fails cleanly (IPv4 socket, IPv6 address). */
static void test_tcp_connect_family_mismatch(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *client = NULL;
    int status = NOT_CALLED, r;

    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &client));
    r = uvs_tcp_connect(client, "::1", 9, connect_status_cb, &status);
    if (r == 0) {
        RUN_UNTIL(loop, status != NOT_CALLED);
        ASSERT_LT(status, 0);
    } else {
        ASSERT_LT(r, 0);
    }
    uvs_release(UVS_HANDLE(client));
    finish_loop(loop);
}

/* An int socket option of s's socket. */
static int sockopt(uvs_stream_t *s, int level, int name) {
    int v = -1;
    socklen_t len = sizeof(v);
    int fd = uvs_fileno(UVS_HANDLE(s));
    ASSERT_GE(fd, 0);
    ASSERT_EQ(getsockopt(fd, level, name, &v, &len), 0);
    return v;
}

/* Linux makes a socket bound to a specific IPv6 address (such as ::1) v6-only
 * whatever the flag, so the flag shows only on the wildcard address. The sockets are
 * bound but never listen: nothing is reachable from outside. */
static void test_tcp_bind_ipv6only(void) {
    uvs_loop_t *loop;
    uvs_stream_t *a = NULL, *b = NULL;

    require_ipv6_loopback();
    loop = make_loop();
    ASSERT_OK(uvs_tcp_new(loop, 0, &a));
    ASSERT_OK(uvs_tcp_new(loop, 0, &b));
    ASSERT_OK(uvs_tcp_bind(a, "::", 0, UVS_TCP_IPV6ONLY));
    ASSERT_OK(uvs_tcp_bind(b, "::", 0, 0));
    ASSERT_EQ(sockopt(a, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    ASSERT_EQ(sockopt(b, IPPROTO_IPV6, IPV6_V6ONLY), 0);
    uvs_release(UVS_HANDLE(a));
    uvs_release(UVS_HANDLE(b));
    finish_loop(loop);
}

/* ---- options ---- */

static void test_tcp_nodelay(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = NULL, *lazy = NULL;

    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &s));
    ASSERT_OK(uvs_tcp_nodelay(s, 1));
    ASSERT_EQ(sockopt(s, IPPROTO_TCP, TCP_NODELAY), 1);
    ASSERT_OK(uvs_tcp_nodelay(s, 0));
    ASSERT_EQ(sockopt(s, IPPROTO_TCP, TCP_NODELAY), 0);
    /* Before the socket exists: remembered, applied when bind creates it. */
    ASSERT_OK(uvs_tcp_new(loop, 0, &lazy));
    ASSERT_OK(uvs_tcp_nodelay(lazy, 1));
    ASSERT_OK(uvs_tcp_bind(lazy, "127.0.0.1", 0, 0));
    ASSERT_EQ(sockopt(lazy, IPPROTO_TCP, TCP_NODELAY), 1);
    uvs_release(UVS_HANDLE(s));
    uvs_release(UVS_HANDLE(lazy));
    finish_loop(loop);
}

/* nodelay set before connect is applied to the socket connect creates. */
static void test_tcp_nodelay_before_connect(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL;
    int port, status = NOT_CALLED;

    port = make_server(loop, "127.0.0.1", &server, nop_connection_cb, NULL);
    ASSERT_OK(uvs_tcp_new(loop, 0, &client));
    ASSERT_OK(uvs_tcp_nodelay(client, 1));
    ASSERT_OK(uvs_tcp_connect(client, "127.0.0.1", port, connect_status_cb, &status));
    ASSERT_EQ(sockopt(client, IPPROTO_TCP, TCP_NODELAY), 1);
    RUN_UNTIL(loop, status != NOT_CALLED);
    ASSERT_OK(status);
    ASSERT_EQ(sockopt(client, IPPROTO_TCP, TCP_NODELAY), 1);
    finish_loop(loop);
}

static void test_tcp_keepalive(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = NULL;

    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &s));
    ASSERT_OK(uvs_tcp_keepalive(s, 1, 60));
    ASSERT_EQ(sockopt(s, SOL_SOCKET, SO_KEEPALIVE), 1);
    ASSERT_EQ(sockopt(s, IPPROTO_TCP, TCP_KEEPIDLE), 60);
    ASSERT_OK(uvs_tcp_keepalive(s, 0, 0)); /* delay ignored when disabling */
    ASSERT_EQ(sockopt(s, SOL_SOCKET, SO_KEEPALIVE), 0);
    ASSERT_ERR(uvs_tcp_keepalive(s, 1, 0), UVS_EINVAL); /* the kernel rejects 0 */
    uvs_release(UVS_HANDLE(s));
    finish_loop(loop);
}

static void test_tcp_simultaneous_accepts(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = NULL, *lazy = NULL;

    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &s));
    ASSERT_OK(uvs_tcp_new(loop, 0, &lazy));
    ASSERT_OK(uvs_tcp_simultaneous_accepts(s, 1));
    ASSERT_OK(uvs_tcp_simultaneous_accepts(s, 0));
    ASSERT_OK(uvs_tcp_simultaneous_accepts(lazy, 1));
    uvs_release(UVS_HANDLE(s));
    uvs_release(UVS_HANDLE(lazy));
    finish_loop(loop);
}

/* ---- uvs_tcp_open ---- */

static void test_tcp_open_connected_socket(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *s = NULL, *conn = NULL;
    struct reader r;
    int port, fd, wstatus = NOT_CALLED;
    uvs_buf_t b;

    memset(&r, 0, sizeof(r));
    port = make_server(loop, "127.0.0.1", &server, accept_into_cb /* accepts */, &conn);
    fd = raw_connect(port);
    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    ASSERT_OK(uvs_tcp_open(s, fd));
    ASSERT_EQ(uvs_fileno(UVS_HANDLE(s)), fd);
    ASSERT_EQ(uvs_is_readable(s), 1);
    ASSERT_EQ(uvs_is_writable(s), 1);
    /* Already has a socket. */
    ASSERT_ERR(uvs_tcp_open(s, fd), UVS_EBUSY);
    RUN_UNTIL(loop, conn != NULL);
    ASSERT_OK(uvs_read_start(conn, reader_cb, &r));
    b.base = "opened";
    b.len = 6;
    ASSERT_OK(uvs_write(s, &b, 1, status_cb, &wstatus));
    ASSERT_OK(uvs_shutdown(s, NULL, NULL));
    RUN_UNTIL(loop, r.eofs == 1);
    ASSERT_OK(wstatus);
    ASSERT_UEQ(r.len, 6);
    ASSERT(memcmp(r.data, "opened", 6) == 0);
    reader_free(&r);
    finish_loop(loop); /* closes fd with the handle */
}

static void test_tcp_open_bound_socket_listens(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *s = NULL;
    int fd = -1, port, accepted = 0, status = NOT_CALLED;

    port = refused_port(&fd); /* a bound, not listening socket */
    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    ASSERT_OK(uvs_tcp_open(s, fd));
    ASSERT_OK(uvs_listen(s, 8, nop_connection_cb, &accepted));
    tcp_connect_to(loop, port, connect_status_cb, &status);
    RUN_UNTIL(loop, status != NOT_CALLED);
    ASSERT_OK(status);
    finish_loop(loop);
}

static void expect_open_error(uvs_loop_t *loop, int fd, int code) {
    uvs_stream_t *s = NULL;
    ASSERT_GE(fd, 0);
    ASSERT_OK(uvs_tcp_new(loop, 0, &s));
    ASSERT_ERR(uvs_tcp_open(s, fd), code);
    /* The failed open adopted nothing: the stream is still fresh, fd still ours. */
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(s)), UVS_EBADF);
    ASSERT(fcntl(fd, F_GETFD) != -1);
    close(fd);
    uvs_release(UVS_HANDLE(s));
}

/* CONFORMANCE 17: a regular file, /dev/null, a pipe: ENOTSOCK; a UDP or Unix
 * socket: EINVAL; never an abort. */
static void test_tcp_open_non_tcp_fds(void) {
    uvs_loop_t *loop = make_loop();
    char path[] = "/tmp/uvs_ctest_XXXXXX";
    int pfd[2], sv[2];

    expect_open_error(loop, mkstemp(path), UVS_ENOTSOCK);
    unlink(path);
    expect_open_error(loop, open("/dev/null", O_RDWR), UVS_ENOTSOCK);
    ASSERT_EQ(pipe(pfd), 0);
    close(pfd[1]);
    expect_open_error(loop, pfd[0], UVS_ENOTSOCK);
    expect_open_error(loop, socket(AF_INET, SOCK_DGRAM, 0), UVS_EINVAL);
    expect_open_error(loop, socket(AF_UNIX, SOCK_STREAM, 0), UVS_EINVAL);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    expect_open_error(loop, sv[0], UVS_EINVAL);
    {
        uvs_stream_t *s = NULL;
        ASSERT_OK(uvs_tcp_new(loop, 0, &s));
        ASSERT_ERR(uvs_tcp_open(s, -1), UVS_EINVAL);
        ASSERT_ERR(uvs_tcp_open(s, -42), UVS_EINVAL);
        uvs_release(UVS_HANDLE(s));
    }
    finish_loop(loop);
}


/* IPv6 text with a %zone: libuv cuts the address part at 39 characters and ignores a
 * zone naming no interface. Both are UVS_EINVAL rather than another address; a known
 * interface ("lo") and a long form without a zone still work. */
static void test_tcp_bind_zone_rules(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *t = NULL;

    ASSERT_OK(uvs_tcp_new(loop, 0, &t));
    ASSERT_ERR(uvs_tcp_bind(t, "0000:0000:0000:0000:0000:ffff:127.0.0.19%lo", 0, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_bind(t, "::1%no-such-interface", 0, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_tcp_connect(t, "::1%no-such-interface", 9, NULL, NULL), UVS_EINVAL);
    ASSERT_OK(uvs_tcp_bind(t, "0000:0000:0000:0000:0000:ffff:127.0.0.1", 0, 0));
    finish_loop(loop);
}

const struct uvs_test tests_tcp[] = {
    {"tcp_new_families", test_tcp_new_families},
    {"tcp_connect_echo", test_tcp_connect_echo},
    {"tcp_connecting_is_active", test_tcp_connecting_is_active},
    {"tcp_connect_refused", test_tcp_connect_refused},
    {"tcp_connect_null_cb", test_tcp_connect_null_cb},
    {"tcp_connect_twice", test_tcp_connect_twice},
    {"tcp_connect_bad_args", test_tcp_connect_bad_args},
    {"tcp_connect_family_mismatch", test_tcp_connect_family_mismatch},
    {"tcp_bind", test_tcp_bind},
    {"tcp_bind_addrnotavail", test_tcp_bind_addrnotavail},
    {"tcp_bind_busy_port_deferred_to_listen", test_tcp_bind_busy_port_deferred_to_listen},
    {"tcp_bind_busy_port_deferred_to_connect", test_tcp_bind_busy_port_deferred_to_connect},
    {"tcp_bind_ipv6only", test_tcp_bind_ipv6only},
    {"tcp_sockname_peername_ipv4", test_tcp_sockname_peername_ipv4},
    {"tcp_ipv6_loopback", test_tcp_ipv6_loopback},
    {"tcp_nodelay", test_tcp_nodelay},
    {"tcp_nodelay_before_connect", test_tcp_nodelay_before_connect},
    {"tcp_keepalive", test_tcp_keepalive},
    {"tcp_simultaneous_accepts", test_tcp_simultaneous_accepts},
    {"tcp_open_connected_socket", test_tcp_open_connected_socket},
    {"tcp_open_bound_socket_listens", test_tcp_open_bound_socket_listens},
    {"tcp_open_non_tcp_fds", test_tcp_open_non_tcp_fds},
    {"tcp_bind_zone_rules", test_tcp_bind_zone_rules},
    {0, 0},
};
