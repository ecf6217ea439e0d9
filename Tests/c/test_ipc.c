/*
 * Handle passing over IPC pipes (header sections 5 and 8: uvs_write2,
 * uvs_pipe_pending_count/kind, uvs_accept on an IPC pipe; CONFORMANCE 14), in one
 * process over a socket pair opened as two IPC pipes.
 */
#include "harness.h"

#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- the receiving side ---- */

/* Collects what the IPC pipe reads and checks, on every read callback, that each
 * handle arrived with its data: the marker byte `mark` of a write2 is never
 * delivered before its handle, and no handle arrives before its byte. */
struct rx {
    struct reader in;
    int accept_in_cb;       /* accept every pending handle inside the read callback */
    uvs_stream_t *got[8];   /* accepted handles, in order */
    int kinds[8];           /* their pending kinds */
    int ngot;
    int max_pending;        /* most handles pending at once */
    int handle_bytes;       /* bytes that travel with a handle (counted by the test) */
    const char *marks;      /* the bytes that carry a handle ("" when unknown) */
};

static int count_marks(const char *data, size_t len, const char *marks) {
    size_t i;
    int n = 0;
    for (i = 0; i < len; i++)
        if (data[i] != '\0' && strchr(marks, data[i]) != NULL)
            n++;
    return n;
}

static void rx_accept_one(struct rx *x, uvs_stream_t *rxpipe) {
    uvs_loop_t *loop = uvs_handle_loop(UVS_HANDLE(rxpipe));
    int kind = uvs_pipe_pending_kind(rxpipe);
    uvs_stream_t *h = NULL;

    ASSERT_LT(x->ngot, 8);
    if (kind == UVS_KIND_TCP)
        ASSERT_OK(uvs_tcp_new(loop, 0, &h));
    else if (kind == UVS_KIND_PIPE)
        ASSERT_OK(uvs_pipe_new(loop, 0, &h));
    else
        FAIL("uvs_pipe_pending_kind returned %d with %d pending", kind,
             uvs_pipe_pending_count(rxpipe));
    ASSERT_OK(uvs_accept(rxpipe, h));
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(h)), kind);
    ASSERT_EQ(uvs_is_readable(h), 1);
    ASSERT_EQ(uvs_is_writable(h), 1);
    x->kinds[x->ngot] = kind;
    x->got[x->ngot++] = h;
}

static void rx_read_cb(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct rx *x = u;
    int pending;

    reader_cb(s, status, data, len, &x->in);
    if (status != 0)
        return;
    x->handle_bytes += count_marks(data, len, x->marks);
    pending = uvs_pipe_pending_count(s);
    if (pending > x->max_pending)
        x->max_pending = pending;
    /* Every handle whose byte was read has arrived; none whose byte was not. */
    ASSERT_EQ(pending + x->ngot, x->handle_bytes);
    if (x->accept_in_cb)
        while (uvs_pipe_pending_count(s) > 0)
            rx_accept_one(x, s);
}

static void rx_init(struct rx *x, const char *marks) {
    memset(x, 0, sizeof(*x));
    x->marks = marks;
}

static void rx_free(struct rx *x) {
    reader_free(&x->in);
}

/* ---- helpers ---- */

static int write2_str(uvs_stream_t *s, const char *str, uvs_stream_t *send, uvs_write_cb cb,
                      void *u) {
    uvs_buf_t b;
    b.base = str;
    b.len = strlen(str);
    return uvs_write2(s, &b, 1, send, cb, u);
}

static void no_req_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    (void)u;
    FAIL("write callback of a failed uvs_write2 (status %s)", code_name(status));
}

/* The sent handle may be closed as soon as its write reported 0. */
struct close_after {
    uvs_stream_t *sent;
    int status;
    int calls;
};

static void close_sent_cb(uvs_stream_t *s, int status, void *u) {
    struct close_after *ca = u;
    (void)s;
    ASSERT_NOT_SYNC();
    ca->calls++;
    ca->status = status;
    ASSERT_OK(status);
    ASSERT_OK(uvs_close(UVS_HANDLE(ca->sent), NULL, NULL));
}

/* ======================================================================== */
/* Sending a TCP connection                                                  */
/* ======================================================================== */

/* A TCP connection accepted from a listener travels with its data (two buffers);
 * the receiver sees one pending handle of kind TCP, accepts it into a new TCP
 * handle and echoes through it. The sender closes its copy right after the write
 * callback reported 0: the receiver's copy keeps working. */
static void test_ipc_send_tcp_echo(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *tx, *rx;
    struct rx x;
    struct reader back, echoed;
    struct close_after ca;
    uvs_buf_t bufs[2];

    rx_init(&x, "h");
    memset(&back, 0, sizeof(back));
    memset(&echoed, 0, sizeof(echoed));
    memset(&ca, 0, sizeof(ca));
    make_tcp_pair(loop, &p);
    make_pipe_pair(loop, 1, &tx, &rx);
    ASSERT_EQ(uvs_is_ipc(tx), 1);
    ASSERT_EQ(uvs_is_ipc(rx), 1);

    ca.sent = p.conn;
    bufs[0].base = "he";
    bufs[0].len = 2;
    bufs[1].base = "llo";
    bufs[1].len = 3;
    in_call = 1;
    ASSERT_OK(uvs_write2(tx, bufs, 2, p.conn, close_sent_cb, &ca));
    in_call = 0;
    ASSERT_EQ(ca.calls, 0);
    RUN_UNTIL(loop, ca.calls == 1);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(p.conn)), 1);

    x.marks = "h"; /* the handle travels with the first byte */
    ASSERT_OK(uvs_read_start(rx, rx_read_cb, &x));
    RUN_UNTIL(loop, x.in.len == 5);
    ASSERT(memcmp(x.in.data, "hello", 5) == 0);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 1);
    ASSERT_EQ(uvs_pipe_pending_kind(rx), UVS_KIND_TCP);
    rx_accept_one(&x, rx);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 0);
    ASSERT_EQ(uvs_pipe_pending_kind(rx), 0);

    /* End to end: the client talks to the accepted copy. */
    ASSERT_OK(uvs_read_start(x.got[0], echo_back_cb, &echoed));
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &back));
    write_str(p.client, "ping over a passed socket", NULL);
    RUN_UNTIL(loop, back.len == 25);
    ASSERT(memcmp(back.data, "ping over a passed socket", 25) == 0);
    /* The received copy is the last one: closing it ends the connection. */
    ASSERT_OK(uvs_close(UVS_HANDLE(x.got[0]), NULL, NULL));
    RUN_UNTIL(loop, back.eofs == 1);
    rx_free(&x);
    reader_free(&back);
    reader_free(&echoed);
    finish_loop(loop);
}

/* ======================================================================== */
/* Sending a pipe                                                            */
/* ======================================================================== */

static void test_ipc_send_pipe(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *tx, *rx, *p1, *p2;
    struct rx x;
    struct reader at_p2, at_q;
    struct close_after ca;

    rx_init(&x, "P");
    memset(&at_p2, 0, sizeof(at_p2));
    memset(&at_q, 0, sizeof(at_q));
    memset(&ca, 0, sizeof(ca));
    make_pipe_pair(loop, 1, &tx, &rx);
    make_pipe_pair(loop, 0, &p1, &p2);
    ca.sent = p1;
    ASSERT_OK(write2_str(tx, "P", p1, close_sent_cb, &ca));
    ASSERT_OK(uvs_read_start(rx, rx_read_cb, &x));
    RUN_UNTIL(loop, x.in.len == 1 && ca.calls == 1);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 1);
    ASSERT_EQ(uvs_pipe_pending_kind(rx), UVS_KIND_PIPE);
    rx_accept_one(&x, rx);
    ASSERT_EQ(x.kinds[0], UVS_KIND_PIPE);
    /* Both directions through the received copy of p1. */
    ASSERT_OK(uvs_read_start(p2, reader_cb, &at_p2));
    ASSERT_OK(uvs_read_start(x.got[0], reader_cb, &at_q));
    write_str(x.got[0], "from q", NULL);
    write_str(p2, "to q", NULL);
    RUN_UNTIL(loop, at_p2.len == 6 && at_q.len == 4);
    ASSERT(memcmp(at_p2.data, "from q", 6) == 0);
    ASSERT(memcmp(at_q.data, "to q", 4) == 0);
    rx_free(&x);
    reader_free(&at_p2);
    reader_free(&at_q);
    finish_loop(loop);
}

/* ======================================================================== */
/* Several handles                                                           */
/* ======================================================================== */

/* Four handles (TCP, pipe, TCP, TCP) in consecutive uvs_write2 calls in one loop
 * turn, with plain writes between them. The receiver starts reading only after all
 * were sent, so several are pending at once; each arrives with its byte, and they
 * are accepted in the order sent: handle i answers on the connection it was. */
static void test_ipc_several_handles_in_order(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair t[3];
    uvs_stream_t *tx, *rx, *p1, *p2, *sent[4], *peer[4];
    struct rx x;
    struct reader at[4];
    int ws[4], i, kinds[4] = {UVS_KIND_TCP, UVS_KIND_PIPE, UVS_KIND_TCP, UVS_KIND_TCP};
    const char *marks = "ABCD";

    rx_init(&x, marks);
    memset(at, 0, sizeof(at));
    for (i = 0; i < 3; i++)
        make_tcp_pair(loop, &t[i]);
    make_pipe_pair(loop, 0, &p1, &p2);
    make_pipe_pair(loop, 1, &tx, &rx);
    sent[0] = t[0].conn;
    peer[0] = t[0].client;
    sent[1] = p1;
    peer[1] = p2;
    sent[2] = t[1].conn;
    peer[2] = t[1].client;
    sent[3] = t[2].conn;
    peer[3] = t[2].client;

    in_call = 1;
    write_str(tx, "xx", NULL);
    for (i = 0; i < 4; i++) {
        char m[2];
        m[0] = marks[i];
        m[1] = '\0';
        ws[i] = NOT_CALLED;
        ASSERT_OK(write2_str(tx, m, sent[i], status_cb, &ws[i]));
        write_str(tx, "yy", NULL); /* plain bytes between the handles */
    }
    in_call = 0;
    RUN_UNTIL(loop, ws[3] != NOT_CALLED);
    for (i = 0; i < 4; i++)
        ASSERT_OK(ws[i]);

    ASSERT_OK(uvs_read_start(rx, rx_read_cb, &x));
    RUN_UNTIL(loop, x.in.len == 2 + 4 * 3);
    ASSERT(memcmp(x.in.data, "xxAyyByyCyyDyy", 14) == 0);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 4);
    ASSERT_EQ(x.max_pending, 4);
    for (i = 0; i < 4; i++) {
        ASSERT_EQ(uvs_pipe_pending_kind(rx), kinds[i]);
        rx_accept_one(&x, rx);
        ASSERT_EQ(uvs_pipe_pending_count(rx), 3 - i);
    }
    ASSERT_EQ(uvs_pipe_pending_kind(rx), 0);

    /* The senders' copies are closed; each received handle answers its own peer. */
    for (i = 0; i < 4; i++) {
        char msg[16];
        ASSERT_OK(uvs_close(UVS_HANDLE(sent[i]), NULL, NULL));
        ASSERT_OK(uvs_read_start(peer[i], reader_cb, &at[i]));
        snprintf(msg, sizeof(msg), "handle %d", i);
        write_str(x.got[i], msg, NULL);
    }
    RUN_UNTIL(loop, at[0].len == 8 && at[1].len == 8 && at[2].len == 8 && at[3].len == 8);
    for (i = 0; i < 4; i++) {
        char msg[16];
        snprintf(msg, sizeof(msg), "handle %d", i);
        if (memcmp(at[i].data, msg, 8) != 0)
            FAIL("peer %d received \"%.8s\", expected \"%s\"", i, at[i].data, msg);
        reader_free(&at[i]);
    }
    rx_free(&x);
    finish_loop(loop);
}

/* The same, accepting each handle inside the read callback that brought it. */
static void test_ipc_accept_in_read_callback(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair t[2];
    uvs_stream_t *tx, *rx, *p1, *p2;
    struct rx x;
    struct close_after ca[3];

    rx_init(&x, "123");
    x.accept_in_cb = 1;
    memset(ca, 0, sizeof(ca));
    make_tcp_pair(loop, &t[0]);
    make_tcp_pair(loop, &t[1]);
    make_pipe_pair(loop, 0, &p1, &p2);
    make_pipe_pair(loop, 1, &tx, &rx);
    ASSERT_OK(uvs_read_start(rx, rx_read_cb, &x));
    ca[0].sent = p1;
    ca[1].sent = t[0].conn;
    ca[2].sent = t[1].conn;
    ASSERT_OK(write2_str(tx, "1", p1, close_sent_cb, &ca[0]));
    ASSERT_OK(write2_str(tx, "2", t[0].conn, close_sent_cb, &ca[1]));
    write_str(tx, "--", NULL);
    ASSERT_OK(write2_str(tx, "3", t[1].conn, close_sent_cb, &ca[2]));
    RUN_UNTIL(loop, x.ngot == 3 && x.in.len == 5);
    ASSERT(memcmp(x.in.data, "12--3", 5) == 0);
    ASSERT_EQ(x.kinds[0], UVS_KIND_PIPE);
    ASSERT_EQ(x.kinds[1], UVS_KIND_TCP);
    ASSERT_EQ(x.kinds[2], UVS_KIND_TCP);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 0);
    ASSERT_EQ(ca[0].calls + ca[1].calls + ca[2].calls, 3);
    rx_free(&x);
    finish_loop(loop);
}

/* ======================================================================== */
/* Errors                                                                    */
/* ======================================================================== */

/* uvs_write2's documented errors; none of the failed calls calls back or sends
 * anything; afterwards a valid write2 still works. */
static void test_ipc_write2_errors(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *tx, *rx, *plain1, *plain2, *fresh_tcp = NULL, *fresh_pipe = NULL;
    uvs_stream_t *closing = NULL, *tty = NULL;
    uvs_timer_t *timer = NULL;
    struct rx x;
    uvs_buf_t b, empty[2], nullbase;
    int master = -1, slave = -1, ws = NOT_CALLED;

    rx_init(&x, "!");
    make_tcp_pair(loop, &p);
    make_pipe_pair(loop, 1, &tx, &rx);
    make_pipe_pair(loop, 0, &plain1, &plain2);
    ASSERT_OK(uvs_tcp_new(loop, 0, &fresh_tcp));
    ASSERT_OK(uvs_pipe_new(loop, 0, &fresh_pipe));
    ASSERT_OK(uvs_tcp_new(loop, AF_INET, &closing));
    ASSERT_OK(uvs_timer_new(loop, &timer));
    ASSERT_OK(uvs_read_start(rx, rx_read_cb, &x));
    b.base = "!";
    b.len = 1;
    empty[0].base = "";
    empty[0].len = 0;
    empty[1].base = NULL;
    empty[1].len = 0;
    nullbase.base = NULL;
    nullbase.len = 3;

    /* No bytes: the handle travels with the first byte. */
    ASSERT_ERR(uvs_write2(tx, NULL, 0, p.conn, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(tx, empty, 1, p.conn, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(tx, empty, 2, p.conn, no_req_cb, NULL), UVS_EINVAL);
    /* Bad buffers, as uvs_write. */
    ASSERT_ERR(uvs_write2(tx, NULL, 1, p.conn, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(tx, &nullbase, 1, p.conn, no_req_cb, NULL), UVS_EINVAL);
    /* Not an IPC pipe: a plain pipe, a TCP stream. */
    ASSERT_ERR(uvs_write2(plain1, &b, 1, p.conn, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(p.client, &b, 1, p.conn, no_req_cb, NULL), UVS_EINVAL);
    /* send_handle not a TCP or pipe stream: NULL, a timer, a loop, a TTY. */
    ASSERT_ERR(uvs_write2(tx, &b, 1, NULL, no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(tx, &b, 1, UVS_STREAM(timer), no_req_cb, NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_write2(tx, &b, 1, UVS_STREAM(loop), no_req_cb, NULL), UVS_EINVAL);
    if (openpty(&master, &slave, NULL, NULL, NULL) == 0) {
        ASSERT_OK(uvs_tty_new(loop, slave, 0, &tty));
        ASSERT_ERR(uvs_write2(tx, &b, 1, tty, no_req_cb, NULL), UVS_EINVAL);
        ASSERT_ERR(uvs_write2(tty, &b, 1, p.conn, no_req_cb, NULL), UVS_EINVAL);
    }
    /* send_handle without a descriptor. */
    ASSERT_ERR(uvs_write2(tx, &b, 1, fresh_tcp, no_req_cb, NULL), UVS_EBADF);
    ASSERT_ERR(uvs_write2(tx, &b, 1, fresh_pipe, no_req_cb, NULL), UVS_EBADF);
    /* send_handle closing, then closed. */
    ASSERT_OK(uvs_close(UVS_HANDLE(closing), NULL, NULL));
    ASSERT_ERR(uvs_write2(tx, &b, 1, closing, no_req_cb, NULL), UVS_ECLOSED);
    run_nowait(loop, 2);
    ASSERT_ERR(uvs_write2(tx, &b, 1, closing, no_req_cb, NULL), UVS_ECLOSED);
    /* Nothing went out. */
    ASSERT_UEQ(uvs_write_queue_size(tx), 0);
    run_for(loop, 20);
    ASSERT_UEQ(x.in.len, 0);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 0);

    /* The IPC pipe still works. */
    ASSERT_OK(uvs_write2(tx, &b, 1, p.conn, status_cb, &ws));
    RUN_UNTIL(loop, x.in.len == 1 && ws != NOT_CALLED);
    ASSERT_OK(ws);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 1);

    /* As uvs_write: after shutdown, EPIPE; on a closed IPC pipe, ECLOSED. */
    ASSERT_OK(uvs_shutdown(tx, NULL, NULL));
    ASSERT_ERR(uvs_write2(tx, &b, 1, p.conn, no_req_cb, NULL), UVS_EPIPE);
    ASSERT_OK(uvs_close(UVS_HANDLE(tx), NULL, NULL));
    ASSERT_ERR(uvs_write2(tx, &b, 1, p.conn, no_req_cb, NULL), UVS_ECLOSED);
    run_for(loop, 10);
    if (master >= 0)
        close(master);
    if (slave >= 0)
        close(slave);
    rx_free(&x);
    finish_loop(loop);
}

/* uvs_accept on an IPC pipe. Header: EINVAL when the server is "neither listening
 * nor holding a received handle", EAGAIN when nothing is waiting on a listener;
 * a client of the wrong kind, in use, or on another loop is EINVAL and the pending
 * handle stays for a proper client. */
static void test_ipc_accept_errors(void) {
    uvs_loop_t *loop = make_loop(), *other = make_loop();
    struct tcp_pair p;
    uvs_stream_t *tx, *rx, *pipe_client = NULL, *tcp_client = NULL, *far = NULL;
    struct rx x;
    int ws = NOT_CALLED;

    rx_init(&x, "T");
    make_tcp_pair(loop, &p);
    make_pipe_pair(loop, 1, &tx, &rx);
    ASSERT_OK(uvs_pipe_new(loop, 0, &pipe_client));
    ASSERT_OK(uvs_tcp_new(loop, 0, &tcp_client));
    ASSERT_OK(uvs_tcp_new(other, 0, &far));

    /* Nothing received: the IPC pipe is neither listening nor holding a handle. */
    ASSERT_ERR(uvs_accept(rx, tcp_client), UVS_EINVAL);
    ASSERT_ERR(uvs_accept(rx, pipe_client), UVS_EINVAL);

    ASSERT_OK(write2_str(tx, "T", p.conn, status_cb, &ws));
    ASSERT_OK(uvs_read_start(rx, rx_read_cb, &x));
    RUN_UNTIL(loop, x.in.len == 1 && ws != NOT_CALLED);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 1);
    ASSERT_EQ(uvs_pipe_pending_kind(rx), UVS_KIND_TCP);
    ASSERT_ERR(uvs_accept(rx, pipe_client), UVS_EINVAL); /* wrong kind */
    ASSERT_ERR(uvs_accept(rx, p.client), UVS_EINVAL);    /* in use */
    ASSERT_ERR(uvs_accept(rx, far), UVS_EINVAL);         /* another loop */
    ASSERT_ERR(uvs_accept(rx, rx), UVS_EINVAL);          /* itself */
    ASSERT_EQ(uvs_pipe_pending_count(rx), 1);
    ASSERT_EQ(uvs_pipe_pending_kind(rx), UVS_KIND_TCP);
    /* The wrong clients were not touched. */
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(pipe_client)), UVS_EBADF);
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(far)), UVS_EBADF);
    ASSERT_OK(uvs_accept(rx, tcp_client));
    ASSERT_GE(uvs_fileno(UVS_HANDLE(tcp_client)), 0);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 0);
    /* Holding nothing again. */
    {
        uvs_stream_t *again = NULL;
        ASSERT_OK(uvs_tcp_new(loop, 0, &again));
        ASSERT_ERR(uvs_accept(rx, again), UVS_EINVAL);
    }
    rx_free(&x);
    finish_loop(other);
    finish_loop(loop);
}

/* IPC over a path: an IPC pipe connects to a (plain) listening pipe and the
 * connection is accepted into an IPC pipe; handles pass over it. libuv refuses to
 * listen on an IPC pipe (EINVAL; the header does not say so), so the listener is a
 * plain pipe; with nothing waiting its accept is EAGAIN. */
static void count_conn_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    ASSERT_NOT_SYNC();
    ASSERT_OK(status);
    (*(int *)u)++;
}

static void test_ipc_over_path(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *srv = NULL, *ipcsrv = NULL, *c = NULL, *conn = NULL, *idle = NULL;
    char path[UVS_PIPE_PATH_MAX + 1], path2[UVS_PIPE_PATH_MAX + 1];
    char dir[] = "/tmp/uvs_ctest_XXXXXX";
    int notified = 0, cs = NOT_CALLED, ws = NOT_CALLED, r;
    struct rx x;

    rx_init(&x, "L");
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ipc.sock", dir);
    snprintf(path2, sizeof(path2), "%s/ipc2.sock", dir);
    make_tcp_pair(loop, &p);
    /* Listening on an IPC pipe: refused, never a crash. */
    ASSERT_OK(uvs_pipe_new(loop, 1, &ipcsrv));
    ASSERT_OK(uvs_pipe_bind(ipcsrv, path2));
    r = uvs_listen(ipcsrv, 4, count_conn_cb, &notified);
    if (r == 0)
        FAIL("uvs_listen on an IPC pipe succeeded: libuv 1.44 refuses it (update the test)");
    ASSERT_ERR(r, UVS_EINVAL);

    ASSERT_OK(uvs_pipe_new(loop, 0, &srv));
    ASSERT_OK(uvs_pipe_bind(srv, path));
    ASSERT_OK(uvs_listen(srv, 4, count_conn_cb, &notified));
    ASSERT_OK(uvs_pipe_new(loop, 1, &idle));
    ASSERT_ERR(uvs_accept(srv, idle), UVS_EAGAIN); /* listening, nothing waiting */
    ASSERT_OK(uvs_pipe_new(loop, 1, &c));
    ASSERT_OK(uvs_pipe_connect(c, path, status_cb, &cs));
    RUN_UNTIL(loop, cs != NOT_CALLED && notified == 1);
    ASSERT_OK(cs);
    ASSERT_OK(uvs_pipe_new(loop, 1, &conn));
    ASSERT_OK(uvs_accept(srv, conn));
    ASSERT_EQ(uvs_is_ipc(conn), 1);
    ASSERT_OK(write2_str(c, "L", p.conn, status_cb, &ws));
    ASSERT_OK(uvs_read_start(conn, rx_read_cb, &x));
    RUN_UNTIL(loop, x.in.len == 1 && ws != NOT_CALLED);
    ASSERT_OK(ws);
    ASSERT_EQ(uvs_pipe_pending_kind(conn), UVS_KIND_TCP);
    rx_accept_one(&x, conn);
    rx_free(&x);
    finish_loop(loop);
    unlink(path);
    unlink(path2);
    rmdir(dir);
}

/* uvs_is_ipc and the pending queries on other kinds. */
static void test_ipc_is_ipc(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *ipc = NULL, *plain = NULL, *tcp = NULL;
    uvs_timer_t *t = NULL;

    ASSERT_OK(uvs_pipe_new(loop, 1, &ipc));
    ASSERT_OK(uvs_pipe_new(loop, 0, &plain));
    ASSERT_OK(uvs_tcp_new(loop, 0, &tcp));
    ASSERT_OK(uvs_timer_new(loop, &t));
    ASSERT_EQ(uvs_is_ipc(ipc), 1);
    ASSERT_EQ(uvs_is_ipc(plain), 0);
    ASSERT_EQ(uvs_is_ipc(tcp), 0);
    ASSERT_ERR(uvs_is_ipc(NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_is_ipc(UVS_STREAM(t)), UVS_EINVAL);
    ASSERT_EQ(uvs_pipe_pending_count(plain), 0);
    ASSERT_EQ(uvs_pipe_pending_kind(plain), 0);
    ASSERT_ERR(uvs_pipe_pending_count(tcp), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_kind(tcp), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_count(UVS_STREAM(t)), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_kind(UVS_STREAM(t)), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_count(NULL), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_kind(NULL), UVS_EINVAL);
    finish_loop(loop);
}

/* Closing the receiving IPC pipe with handles still pending closes them (no fd
 * leak, no callback): the peers of the passed connections then see EOF. */
static void test_ipc_close_with_pending_handles(void) {
    uvs_loop_t *loop = make_loop();
    struct tcp_pair p;
    uvs_stream_t *tx, *rx;
    struct rx x;
    struct close_after ca;
    struct reader at_client;
    int closed = 0;

    rx_init(&x, "Z");
    memset(&ca, 0, sizeof(ca));
    memset(&at_client, 0, sizeof(at_client));
    make_tcp_pair(loop, &p);
    make_pipe_pair(loop, 1, &tx, &rx);
    ca.sent = p.conn;
    ASSERT_OK(write2_str(tx, "Z", p.conn, close_sent_cb, &ca));
    ASSERT_OK(uvs_read_start(rx, rx_read_cb, &x));
    RUN_UNTIL(loop, x.in.len == 1 && ca.calls == 1);
    ASSERT_EQ(uvs_pipe_pending_count(rx), 1);
    ASSERT_OK(uvs_read_start(p.client, reader_cb, &at_client));
    ASSERT_OK(uvs_close(UVS_HANDLE(rx), NULL, &closed));
    ASSERT_EQ(uvs_pipe_pending_count(rx), 0);
    ASSERT_EQ(uvs_pipe_pending_kind(rx), 0);
    RUN_UNTIL(loop, at_client.eofs + at_client.errors == 1);
    rx_free(&x);
    reader_free(&at_client);
    finish_loop(loop);
}


/* ======================================================================== */
/* Closing the sent handle at once                                           */
/* ======================================================================== */

/* uvs_write2: "send_handle may be closed or released as soon as this returns". The
 * write2 waits behind 1 MiB the receiver has not read yet; the caller closes its
 * pipe at once and writes again. Every write reports 0, the pipe stays writable,
 * and the receiver gets every byte and a working copy of the pipe. */
static void test_ipc_close_sent_handle_while_queued(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *tx, *rx, *p1, *p2;
    struct rx x;
    struct reader at_p2;
    struct wrec w[3];
    const size_t backlog = 1 << 20;

    ev_reset();
    rx_init(&x, "");
    memset(&at_p2, 0, sizeof(at_p2));
    wrec_init(w, 3);
    make_pipe_pair(loop, 1, &tx, &rx);
    make_pipe_pair(loop, 0, &p1, &p2);
    write_zeros(tx, backlog, wrec_cb, &w[0]);
    ASSERT_GT(uvs_write_queue_size(tx), 0);
    ASSERT_OK(write2_str(tx, "P", p1, wrec_cb, &w[1]));
    ASSERT_OK(uvs_close(UVS_HANDLE(p1), NULL, NULL));
    ASSERT_OK(uvs_write(tx, &(uvs_buf_t){"Q", 1}, 1, wrec_cb, &w[2]));
    x.accept_in_cb = 1;
    x.marks = "P";
    ASSERT_OK(uvs_read_start(rx, rx_read_cb, &x));
    RUN_UNTIL(loop, x.in.len == backlog + 2 && x.ngot == 1 && w[2].calls == 1);
    expect_writes_ok_in_order(w, 3);
    ASSERT_EQ(uvs_is_writable(tx), 1);
    ASSERT_EQ(x.kinds[0], UVS_KIND_PIPE);
    ASSERT(memcmp(x.in.data + backlog, "PQ", 2) == 0);
    ASSERT_OK(uvs_read_start(p2, reader_cb, &at_p2));
    write_str(x.got[0], "still open", NULL);
    RUN_UNTIL(loop, at_p2.len == 10);
    rx_free(&x);
    reader_free(&at_p2);
    finish_loop(loop);
}

const struct uvs_test tests_ipc[] = {
    {"ipc_send_tcp_echo", test_ipc_send_tcp_echo},
    {"ipc_send_pipe", test_ipc_send_pipe},
    {"ipc_several_handles_in_order", test_ipc_several_handles_in_order},
    {"ipc_accept_in_read_callback", test_ipc_accept_in_read_callback},
    {"ipc_write2_errors", test_ipc_write2_errors},
    {"ipc_accept_errors", test_ipc_accept_errors},
    {"ipc_over_path", test_ipc_over_path},
    {"ipc_is_ipc", test_ipc_is_ipc},
    {"ipc_close_with_pending_handles", test_ipc_close_with_pending_handles},
    {"ipc_close_sent_handle_while_queued", test_ipc_close_sent_handle_while_queued},
    {0, 0},
};
