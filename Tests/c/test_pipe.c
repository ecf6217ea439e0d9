/*
 * Pipes (header section 8): Unix sockets bound to a path in a temporary directory,
 * socket pairs, anonymous pipes, uvs_pipe_open() on every kind of fd, and the
 * CONFORMANCE section 2 behaviours (1-13, 16, 17) through pipes.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- temporary directory for socket files ---- */

/* The test's directory under /tmp: created on first use, removed with its files at
 * exit (a failed test leaves it behind for inspection). */
static char tmpdir[64];

static void remove_tmpdir(void) {
    DIR *d;
    struct dirent *e;
    char path[512];

    if (tmpdir[0] == '\0')
        return;
    d = opendir(tmpdir);
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(tmpdir);
    tmpdir[0] = '\0';
}

/* Writes tmpdir/name into out (out_size bytes). */
static void path_in(char *out, size_t out_size, const char *name) {
    int n;
    if (tmpdir[0] == '\0') {
        strcpy(tmpdir, "/tmp/uvs_ctest_XXXXXX");
        if (mkdtemp(tmpdir) == NULL)
            FAIL("mkdtemp: %s", strerror(errno));
        atexit(remove_tmpdir);
    }
    n = snprintf(out, out_size, "%s/%s", tmpdir, name);
    ASSERT(n > 0 && (size_t)n < out_size);
}

/* A path of exactly len characters in tmpdir: tmpdir/<prefix>xxxx... */
static void path_of_length(char *out, size_t out_size, size_t len, char fill) {
    size_t dlen;
    path_in(out, out_size, "");
    dlen = strlen(out);
    ASSERT(len > dlen && len < out_size);
    memset(out + dlen, fill, len - dlen);
    out[len] = '\0';
}

static int file_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* ---- callbacks ---- */

static void count_cb(uvs_stream_t *s, int status, void *u) {
    (void)s;
    (void)status;
    ASSERT_NOT_SYNC();
    (*(int *)u)++;
}

/* ---- a pipe server: accepts every connection, reads it, echoes it back ---- */

struct pserver {
    uvs_stream_t *listener;
    uvs_stream_t *conns[8];
    int nconns;
    int accept_in_cb; /* 1: accept in the connection callback */
    int notified;     /* connection callbacks */
    int echo;         /* echo what is read, shut down after EOF */
    struct reader in; /* what the connections read, together */
};

static void echo_read_cb(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct pserver *ps = u;
    reader_cb(s, status, data, len, &ps->in);
    if (!ps->echo)
        return;
    if (status == 0) {
        uvs_buf_t b;
        b.base = data;
        b.len = len;
        ASSERT_OK(uvs_write(s, &b, 1, NULL, NULL));
    } else if (status == UVS_EOF) {
        ASSERT_OK(uvs_shutdown(s, NULL, NULL));
    }
}

static void pserver_accept(struct pserver *ps) {
    uvs_stream_t *c = NULL;
    ASSERT_LT(ps->nconns, 8);
    ASSERT_OK(uvs_pipe_new(uvs_handle_loop(UVS_HANDLE(ps->listener)), 0, &c));
    ASSERT_OK(uvs_accept(ps->listener, c));
    ASSERT_EQ(uvs_is_readable(c), 1);
    ASSERT_EQ(uvs_is_writable(c), 1);
    ASSERT_OK(uvs_read_start(c, echo_read_cb, ps));
    ps->conns[ps->nconns++] = c;
}

static void pserver_conn_cb(uvs_stream_t *server, int status, void *u) {
    struct pserver *ps = u;
    ASSERT_NOT_SYNC();
    ASSERT_OK(status);
    ASSERT_PTR_EQ(server, ps->listener);
    ps->notified++;
    if (ps->accept_in_cb)
        pserver_accept(ps);
}

/* A pipe listening on tmpdir/name (path written to path). */
static void pserver_start(uvs_loop_t *loop, struct pserver *ps, const char *name, char *path,
                          size_t path_size) {
    memset(ps, 0, sizeof(*ps));
    ps->accept_in_cb = 1;
    ps->echo = 1;
    path_in(path, path_size, name);
    ASSERT_OK(uvs_pipe_new(loop, 0, &ps->listener));
    ASSERT_OK(uvs_pipe_bind(ps->listener, path));
    ASSERT_OK(uvs_listen(ps->listener, 16, pserver_conn_cb, ps));
    ASSERT(file_exists(path));
}

/* A client pipe connected to path (connect callback status 0). */
static uvs_stream_t *connect_client(uvs_loop_t *loop, const char *path) {
    uvs_stream_t *c = NULL;
    int cs = NOT_CALLED;
    ASSERT_OK(uvs_pipe_new(loop, 0, &c));
    in_call = 1;
    ASSERT_OK(uvs_pipe_connect(c, path, status_cb, &cs));
    in_call = 0;
    ASSERT_EQ(cs, NOT_CALLED);
    RUN_UNTIL(loop, cs != NOT_CALLED);
    ASSERT_OK(cs);
    return c;
}

/* ======================================================================== */
/* Creating, binding, connecting                                             */
/* ======================================================================== */

static void test_pipe_new_state(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *p = NULL, *ipc = NULL;
    struct reader r;
    char path[UVS_PIPE_PATH_MAX + 1];
    size_t len = 99;
    uvs_buf_t b;
    int ws = NOT_CALLED;

    memset(&r, 0, sizeof(r));
    ASSERT_OK(uvs_pipe_new(loop, 0, &p));
    ASSERT_NOT_NULL(p);
    ASSERT_OK(uvs_pipe_new(loop, 1, &ipc));
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(p)), UVS_KIND_PIPE);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(ipc)), UVS_KIND_PIPE);
    ASSERT_EQ(uvs_is_ipc(p), 0);
    ASSERT_EQ(uvs_is_ipc(ipc), 1);
    ASSERT_PTR_EQ(uvs_handle_loop(UVS_HANDLE(p)), loop);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(p)), 0);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(p)), 0);
    /* Nothing behind it yet. */
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(p)), UVS_EBADF);
    ASSERT_EQ(uvs_is_readable(p), 0);
    ASSERT_EQ(uvs_is_writable(p), 0);
    ASSERT_EQ(uvs_is_reading(p), 0);
    ASSERT_UEQ(uvs_write_queue_size(p), 0);
    ASSERT_EQ(uvs_is_write_blocked(p), 0);
    ASSERT_ERR(uvs_read_start(p, reader_cb, &r), UVS_ENOTCONN);
    b.base = "x";
    b.len = 1;
    ASSERT_ERR(uvs_write(p, &b, 1, status_cb, &ws), UVS_EPIPE);
    ASSERT_ERR(uvs_shutdown(p, NULL, NULL), UVS_ENOTCONN);
    ASSERT_ERR(uvs_pipe_sockname(p, path, sizeof(path), &len), UVS_EBADF);
    ASSERT_ERR(uvs_pipe_peername(p, path, sizeof(path), &len), UVS_EBADF);
    ASSERT_ERR(uvs_pipe_chmod(p, UVS_PIPE_READABLE), UVS_EBADF);
    ASSERT_EQ(uvs_pipe_pending_count(p), 0);
    ASSERT_EQ(uvs_pipe_pending_kind(p), 0);
    ASSERT_EQ(uvs_pipe_pending_count(ipc), 0);
    ASSERT_EQ(uvs_pipe_pending_kind(ipc), 0);
    run_nowait(loop, 2);
    ASSERT_EQ(ws, NOT_CALLED);
    finish_loop(loop);
}

/* bind + listen + connect + accept, then an echo through the connection; addresses
 * of both ends. */
static void test_pipe_bind_listen_connect_echo(void) {
    uvs_loop_t *loop = make_loop();
    struct pserver ps;
    struct reader back;
    char path[UVS_PIPE_PATH_MAX + 1], name[UVS_PIPE_PATH_MAX + 1];
    uvs_stream_t *c;
    size_t len = 12345;
    int ws;

    memset(&back, 0, sizeof(back));
    pserver_start(loop, &ps, "echo.sock", path, sizeof(path));
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(ps.listener)), 1);
    ASSERT_EQ(uvs_is_readable(ps.listener), 0);
    ASSERT_EQ(uvs_is_writable(ps.listener), 0);
    ASSERT_OK(uvs_pipe_sockname(ps.listener, name, sizeof(name), &len));
    ASSERT_STR_EQ(name, path);
    ASSERT_UEQ(len, strlen(path));
    /* A listener has no peer. */
    ASSERT_ERR(uvs_pipe_peername(ps.listener, name, sizeof(name), &len), UVS_ENOTCONN);

    c = connect_client(loop, path);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(c)), UVS_KIND_PIPE);
    ASSERT_GE(uvs_fileno(UVS_HANDLE(c)), 0);
    ASSERT_EQ(uvs_is_readable(c), 1);
    ASSERT_EQ(uvs_is_writable(c), 1);
    ASSERT_OK(uvs_read_start(c, reader_cb, &back));
    write_str(c, "hello through a pipe", &ws);
    RUN_UNTIL(loop, back.len >= 20 && ps.nconns == 1);
    ASSERT_OK(ws);
    ASSERT_UEQ(back.len, 20);
    ASSERT(memcmp(back.data, "hello through a pipe", 20) == 0);

    /* The client is unbound: empty sockname; its peer is the listener's path. The
     * accepted end is bound to the path, its peer (the client) unbound. */
    len = 999;
    ASSERT_OK(uvs_pipe_sockname(c, name, sizeof(name), &len));
    ASSERT_STR_EQ(name, "");
    ASSERT_UEQ(len, 0);
    len = 999;
    ASSERT_OK(uvs_pipe_peername(c, name, sizeof(name), &len));
    ASSERT_STR_EQ(name, path);
    ASSERT_UEQ(len, strlen(path));
    ASSERT_OK(uvs_pipe_sockname(ps.conns[0], name, sizeof(name), NULL));
    ASSERT_STR_EQ(name, path);
    ASSERT_OK(uvs_pipe_peername(ps.conns[0], name, sizeof(name), &len));
    ASSERT_STR_EQ(name, "");
    ASSERT_UEQ(len, 0);

    /* The client shuts down: the server sees EOF and shuts down too (echo). */
    ASSERT_OK(uvs_shutdown(c, NULL, NULL));
    RUN_UNTIL(loop, back.eofs == 1 && ps.in.eofs == 1);
    ASSERT_EQ(back.errors + ps.in.errors + back.bad_args + ps.in.bad_args, 0);
    ASSERT_EQ(ps.notified, 1);
    reader_free(&back);
    reader_free(&ps.in);
    finish_loop(loop);
}

/* The path is never truncated: a path of exactly UVS_PIPE_PATH_MAX characters binds
 * and reads back whole; sockname/peername report ENOBUFS for a buffer one byte too
 * small, with the length in *length. */
static void test_pipe_sockname_full_path(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *srv = NULL, *c;
    char path[UVS_PIPE_PATH_MAX + 8], name[UVS_PIPE_PATH_MAX + 8];
    size_t len;
    int notified = 0;

    path_of_length(path, sizeof(path), UVS_PIPE_PATH_MAX, 'm');
    ASSERT_UEQ(strlen(path), UVS_PIPE_PATH_MAX);
    ASSERT_OK(uvs_pipe_new(loop, 0, &srv));
    ASSERT_OK(uvs_pipe_bind(srv, path));
    ASSERT(file_exists(path));
    ASSERT_OK(uvs_listen(srv, 4, count_cb, &notified));

    /* Exactly enough room (path + NUL). */
    memset(name, 'Z', sizeof(name));
    len = 0;
    ASSERT_OK(uvs_pipe_sockname(srv, name, UVS_PIPE_PATH_MAX + 1, &len));
    ASSERT_STR_EQ(name, path);
    ASSERT_UEQ(len, UVS_PIPE_PATH_MAX);
    /* One byte short: ENOBUFS (*length: see pipe_names_enobufs_length). */
    ASSERT_ERR(uvs_pipe_sockname(srv, name, UVS_PIPE_PATH_MAX, &len), UVS_ENOBUFS);
    ASSERT_ERR(uvs_pipe_sockname(srv, name, UVS_PIPE_PATH_MAX, NULL), UVS_ENOBUFS);
    ASSERT_ERR(uvs_pipe_sockname(srv, name, 1, NULL), UVS_ENOBUFS);
    ASSERT_ERR(uvs_pipe_sockname(srv, name, 0, NULL), UVS_ENOBUFS);

    c = connect_client(loop, path);
    memset(name, 'Z', sizeof(name));
    len = 0;
    ASSERT_OK(uvs_pipe_peername(c, name, UVS_PIPE_PATH_MAX + 1, &len));
    ASSERT_STR_EQ(name, path);
    ASSERT_UEQ(len, UVS_PIPE_PATH_MAX);
    ASSERT_ERR(uvs_pipe_peername(c, name, UVS_PIPE_PATH_MAX, &len), UVS_ENOBUFS);
    /* An unbound socket's empty name still needs its NUL. */
    ASSERT_ERR(uvs_pipe_sockname(c, name, 0, &len), UVS_ENOBUFS);
    ASSERT_OK(uvs_pipe_sockname(c, name, 1, &len));
    ASSERT_STR_EQ(name, "");
    RUN_UNTIL(loop, notified == 1);
    finish_loop(loop);
}

/* Header: "*length, if not NULL, receives the path's length" (unconditionally), so
 * a caller whose buffer was too small learns the size it needs from the ENOBUFS. */
static void test_pipe_names_enobufs_length(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *srv = NULL, *c;
    char path[UVS_PIPE_PATH_MAX + 1], name[8];
    size_t len;
    int notified = 0;

    path_in(path, sizeof(path), "enobufs.sock");
    ASSERT_OK(uvs_pipe_new(loop, 0, &srv));
    ASSERT_OK(uvs_pipe_bind(srv, path));
    ASSERT_OK(uvs_listen(srv, 4, count_cb, &notified));
    len = 0;
    ASSERT_ERR(uvs_pipe_sockname(srv, name, sizeof(name), &len), UVS_ENOBUFS);
    ASSERT_UEQ(len, strlen(path));
    c = connect_client(loop, path);
    len = 0;
    ASSERT_ERR(uvs_pipe_peername(c, name, sizeof(name), &len), UVS_ENOBUFS);
    ASSERT_UEQ(len, strlen(path));
    finish_loop(loop);
}

/* A missing socket file: ENOENT in the callback (never the return value), from the
 * loop; a write queued during the connect is cancelled after it; the stream is then
 * neither readable nor writable. */
static void test_pipe_connect_enoent(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *c = NULL;
    char path[UVS_PIPE_PATH_MAX + 1];
    uvs_buf_t b;

    path_in(path, sizeof(path), "nobody-here.sock");
    ASSERT(!file_exists(path));
    ASSERT_OK(uvs_pipe_new(loop, 0, &c));
    b.base = "lost";
    b.len = 4;
    in_call = 1;
    ASSERT_OK(uvs_pipe_connect(c, path, log_connect_cb, NULL));
    ASSERT_EQ(uvs_is_writable(c), 1); /* connecting: writable at once */
    ASSERT_OK(uvs_write(c, &b, 1, log_write_cb, ""));
    in_call = 0;
    ASSERT_STR_EQ(evlog(), "");
    RUN_UNTIL(loop, strstr(evlog(), "write") != NULL);
    ASSERT_STR_EQ(evlog(), "connect:ENOENT write:ECANCELED");
    ASSERT_EQ(uvs_is_readable(c), 0);
    ASSERT_EQ(uvs_is_writable(c), 0);
    ASSERT_ERR(uvs_write(c, &b, 1, log_write_cb, "X"), UVS_EPIPE);
    run_for(loop, 10);
    ASSERT_STR_EQ(evlog(), "connect:ENOENT write:ECANCELED");
    finish_loop(loop);
}

/* A socket file bound but not listening: ECONNREFUSED in the callback. */
static void test_pipe_connect_refused(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *c = NULL;
    char path[UVS_PIPE_PATH_MAX + 1];
    struct sockaddr_un sa;
    int fd;

    path_in(path, sizeof(path), "deaf.sock");
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ASSERT_OK(uvs_pipe_new(loop, 0, &c));
    in_call = 1;
    ASSERT_OK(uvs_pipe_connect(c, path, log_connect_cb, NULL));
    in_call = 0;
    RUN_UNTIL(loop, strstr(evlog(), "connect") != NULL);
    ASSERT_STR_EQ(evlog(), "connect:ECONNREFUSED");
    ASSERT_EQ(uvs_is_writable(c), 0);
    close(fd);
    finish_loop(loop);
}

/* A path longer than UVS_PIPE_PATH_MAX: ENAMETOOLONG in the callback, never
 * truncated. Its first UVS_PIPE_PATH_MAX characters name a listening socket, so a
 * truncated path would connect. */
static void test_pipe_connect_path_too_long(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *srv = NULL, *c = NULL, *c2 = NULL;
    char path[UVS_PIPE_PATH_MAX + 1], longer[UVS_PIPE_PATH_MAX + 64];
    int notified = 0;

    path_of_length(path, sizeof(path), UVS_PIPE_PATH_MAX, 't');
    ASSERT_OK(uvs_pipe_new(loop, 0, &srv));
    ASSERT_OK(uvs_pipe_bind(srv, path));
    ASSERT_OK(uvs_listen(srv, 4, count_cb, &notified));
    strcpy(longer, path);
    strcat(longer, "t");
    ASSERT_UEQ(strlen(longer), UVS_PIPE_PATH_MAX + 1);

    ASSERT_OK(uvs_pipe_new(loop, 0, &c));
    in_call = 1;
    ASSERT_OK(uvs_pipe_connect(c, longer, log_connect_cb, NULL));
    in_call = 0;
    ASSERT_STR_EQ(evlog(), "");
    RUN_UNTIL(loop, strstr(evlog(), "connect") != NULL);
    ASSERT_STR_EQ(evlog(), "connect:ENAMETOOLONG");
    ASSERT_EQ(uvs_is_writable(c), 0);
    ASSERT_EQ(uvs_is_readable(c), 0);

    /* Much longer, too. */
    ev_reset();
    memset(longer, 'q', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    longer[0] = '/';
    ASSERT_OK(uvs_pipe_new(loop, 0, &c2));
    ASSERT_OK(uvs_pipe_connect(c2, longer, log_connect_cb, NULL));
    RUN_UNTIL(loop, strstr(evlog(), "connect") != NULL);
    ASSERT_STR_EQ(evlog(), "connect:ENAMETOOLONG");

    /* Nothing reached the listener. */
    run_for(loop, 20);
    ASSERT_EQ(notified, 0);
    finish_loop(loop);
}

/* bind: too long (UVS_ENAMETOOLONG, nothing created at the truncated path), path
 * taken (EADDRINUSE), bound twice (EINVAL), no permission (EACCES). */
static void test_pipe_bind_errors(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    char path[UVS_PIPE_PATH_MAX + 1], longer[UVS_PIPE_PATH_MAX + 8], other[UVS_PIPE_PATH_MAX + 1];

    path_of_length(longer, sizeof(longer), UVS_PIPE_PATH_MAX + 1, 'b');
    memcpy(path, longer, UVS_PIPE_PATH_MAX);
    path[UVS_PIPE_PATH_MAX] = '\0'; /* what a truncating bind would create */
    ASSERT_OK(uvs_pipe_new(loop, 0, &a));
    ASSERT_ERR(uvs_pipe_bind(a, longer), UVS_ENAMETOOLONG);
    ASSERT(!file_exists(path));
    ASSERT(!file_exists(longer));
    /* The failed bind left the pipe usable: bind to the longest valid path. */
    ASSERT_OK(uvs_pipe_bind(a, path));
    ASSERT(file_exists(path));
    /* Already bound. */
    path_in(other, sizeof(other), "second.sock");
    ASSERT_ERR(uvs_pipe_bind(a, other), UVS_EINVAL);
    ASSERT(!file_exists(other));
    /* The path is taken (by a's socket file). */
    ASSERT_OK(uvs_pipe_new(loop, 0, &b));
    ASSERT_ERR(uvs_pipe_bind(b, path), UVS_EADDRINUSE);
    /* A directory we may not write to (root may write almost anywhere: a directory
     * without write permission is then writable, so only /proc is used). */
    ASSERT_OK(uvs_pipe_new(loop, 0, &c));
    {
        int r = uvs_pipe_bind(c, "/proc/uvs_ctest.sock");
        if (r != UVS_EACCES && r != UVS_ENOENT) /* /proc refuses new entries */
            FAIL("bind in /proc returned %s, expected EACCES", code_name(r));
    }
    ASSERT_OK(uvs_pipe_new(loop, 0, &d));
    ASSERT_OK(uvs_pipe_bind(d, other)); /* the path a refused is free */
    finish_loop(loop);
}

/* A directory in the path that does not exist: libuv 1.44 reports EACCES (see the header). */
static void test_pipe_bind_missing_dir_eacces(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *c = NULL;
    char path[UVS_PIPE_PATH_MAX + 1];

    path_in(path, sizeof(path), "no-such-dir/x.sock");
    ASSERT_OK(uvs_pipe_new(loop, 0, &c));
    ASSERT_ERR(uvs_pipe_bind(c, path), UVS_EACCES);
    finish_loop(loop);
}

/* chmod makes the socket file readable and/or writable by everyone (checked with
 * stat); bad flags are EINVAL; an unbound pipe is EBADF. */
static void test_pipe_chmod(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *p = NULL, *q = NULL;
    char path[UVS_PIPE_PATH_MAX + 1];
    struct stat st;
    mode_t old = umask(077);
    int notified = 0;

    path_in(path, sizeof(path), "chmod.sock");
    ASSERT_OK(uvs_pipe_new(loop, 0, &p));
    ASSERT_OK(uvs_pipe_bind(p, path));
    umask(old);
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT(S_ISSOCK(st.st_mode));
    ASSERT_EQ(st.st_mode & 077, 0);

    ASSERT_ERR(uvs_pipe_chmod(p, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_chmod(p, 4), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_chmod(p, -1), UVS_EINVAL);
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 077, 0);

    ASSERT_OK(uvs_pipe_chmod(p, UVS_PIPE_READABLE));
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0444, 0444);
    ASSERT_EQ(st.st_mode & 0022, 0);

    ASSERT_OK(uvs_pipe_chmod(p, UVS_PIPE_WRITABLE));
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0222, 0222);

    ASSERT_OK(uvs_pipe_chmod(p, UVS_PIPE_READABLE | UVS_PIPE_WRITABLE));
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0666, 0666);
    ASSERT(S_ISSOCK(st.st_mode));

    /* Listening does not change that. */
    ASSERT_OK(uvs_listen(p, 4, count_cb, &notified));
    ASSERT_OK(uvs_pipe_chmod(p, UVS_PIPE_READABLE));

    /* Not bound. */
    ASSERT_OK(uvs_pipe_new(loop, 0, &q));
    ASSERT_ERR(uvs_pipe_chmod(q, UVS_PIPE_READABLE), UVS_EBADF);
    finish_loop(loop);
}

/* chmod on a pipe that has a descriptor but no path (a socket pair end): UVS_ENOENT,
 * as the header says. */
static void test_pipe_chmod_unbound_socket(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;

    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_ERR(uvs_pipe_chmod(a, UVS_PIPE_READABLE), UVS_ENOENT);
    ASSERT_ERR(uvs_pipe_chmod(b, UVS_PIPE_READABLE | UVS_PIPE_WRITABLE), UVS_ENOENT);
    finish_loop(loop);
}

/* pending_instances: accepted (and ignored) for count >= 1, EINVAL below. */
static void test_pipe_pending_instances(void) {
    uvs_loop_t *loop = make_loop();
    struct pserver ps;
    char path[UVS_PIPE_PATH_MAX + 1];
    uvs_stream_t *fresh = NULL, *c;
    int ws;
    struct reader back;

    memset(&back, 0, sizeof(back));
    ASSERT_OK(uvs_pipe_new(loop, 0, &fresh));
    ASSERT_OK(uvs_pipe_pending_instances(fresh, 1));
    ASSERT_OK(uvs_pipe_pending_instances(fresh, 1000));
    ASSERT_ERR(uvs_pipe_pending_instances(fresh, 0), UVS_EINVAL);
    ASSERT_ERR(uvs_pipe_pending_instances(fresh, -1), UVS_EINVAL);
    pserver_start(loop, &ps, "instances.sock", path, sizeof(path));
    ASSERT_OK(uvs_pipe_pending_instances(ps.listener, 4));
    ASSERT_ERR(uvs_pipe_pending_instances(ps.listener, 0), UVS_EINVAL);
    /* The listener still works. */
    c = connect_client(loop, path);
    ASSERT_OK(uvs_read_start(c, reader_cb, &back));
    write_str(c, "ok", &ws);
    RUN_UNTIL(loop, back.len == 2);
    reader_free(&back);
    reader_free(&ps.in);
    finish_loop(loop);
}

/* ======================================================================== */
/* uvs_pipe_pair, uvs_socketpair, uvs_pipe_open                              */
/* ======================================================================== */

static int accmode(int fd) {
    int fl = fcntl(fd, F_GETFL);
    ASSERT_GE(fl, 0);
    return fl & O_ACCMODE;
}

static int cloexec(int fd) {
    int fl = fcntl(fd, F_GETFD);
    ASSERT_GE(fl, 0);
    return (fl & FD_CLOEXEC) != 0;
}

/* An anonymous pipe: fds[0] the read end, fds[1] the write end, close-on-exec. The
 * handles follow the fds' access modes; data flows; closing the write end gives the
 * reader EOF, once. */
static void test_pipe_pair_read_write_eof(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *r = NULL, *w = NULL;
    int fds[2] = {-1, -1}, ws, ws2 = NOT_CALLED;
    struct reader in;
    uvs_buf_t b;
    struct stat st;

    memset(&in, 0, sizeof(in));
    ASSERT_OK(uvs_pipe_pair(fds));
    ASSERT_GE(fds[0], 0);
    ASSERT_GE(fds[1], 0);
    ASSERT_NE(fds[0], fds[1]);
    ASSERT_EQ(fstat(fds[0], &st), 0);
    ASSERT(S_ISFIFO(st.st_mode));
    ASSERT_EQ(accmode(fds[0]), O_RDONLY);
    ASSERT_EQ(accmode(fds[1]), O_WRONLY);
    ASSERT_EQ(cloexec(fds[0]), 1);
    ASSERT_EQ(cloexec(fds[1]), 1);

    ASSERT_OK(uvs_pipe_new(loop, 0, &r));
    ASSERT_OK(uvs_pipe_new(loop, 0, &w));
    ASSERT_OK(uvs_pipe_open(r, fds[0]));
    ASSERT_OK(uvs_pipe_open(w, fds[1]));
    ASSERT_EQ(uvs_fileno(UVS_HANDLE(r)), fds[0]);
    ASSERT_EQ(uvs_fileno(UVS_HANDLE(w)), fds[1]);
    ASSERT_EQ(uvs_is_readable(r), 1);
    ASSERT_EQ(uvs_is_writable(r), 0);
    ASSERT_EQ(uvs_is_readable(w), 0);
    ASSERT_EQ(uvs_is_writable(w), 1);
    /* The wrong directions. */
    b.base = "x";
    b.len = 1;
    ASSERT_ERR(uvs_write(r, &b, 1, status_cb, &ws2), UVS_EPIPE);
    ASSERT_ERR(uvs_try_write(r, &b, 1), UVS_EPIPE);
    ASSERT_ERR(uvs_shutdown(r, NULL, NULL), UVS_ENOTCONN);
    ASSERT_ERR(uvs_read_start(w, reader_cb, &in), UVS_ENOTCONN);

    ASSERT_OK(uvs_read_start(r, reader_cb, &in));
    write_str(w, "through the pipe", &ws);
    RUN_UNTIL(loop, in.len == 16 && ws != NOT_CALLED);
    ASSERT_OK(ws);
    ASSERT(memcmp(in.data, "through the pipe", 16) == 0);
    ASSERT_OK(uvs_close(UVS_HANDLE(w), NULL, NULL));
    RUN_UNTIL(loop, in.eofs == 1);
    run_for(loop, 10);
    ASSERT_EQ(in.eofs, 1);
    ASSERT_EQ(in.after_end + in.errors + in.bad_args, 0);
    ASSERT_EQ(uvs_is_readable(r), 0);
    ASSERT_EQ(ws2, NOT_CALLED);
    reader_free(&in);
    finish_loop(loop);
}

/* A socket pair: both ends read-write, close-on-exec, unbound (empty names); data
 * goes both ways. */
static void test_socketpair_echo(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a = NULL, *b = NULL;
    int fds[2] = {-1, -1}, ws;
    struct reader ra, rb;
    char name[UVS_PIPE_PATH_MAX + 1];
    size_t len = 77;
    struct stat st;

    memset(&ra, 0, sizeof(ra));
    memset(&rb, 0, sizeof(rb));
    ASSERT_OK(uvs_socketpair(fds));
    ASSERT_NE(fds[0], fds[1]);
    ASSERT_EQ(fstat(fds[0], &st), 0);
    ASSERT(S_ISSOCK(st.st_mode));
    ASSERT_EQ(accmode(fds[0]), O_RDWR);
    ASSERT_EQ(accmode(fds[1]), O_RDWR);
    ASSERT_EQ(cloexec(fds[0]), 1);
    ASSERT_EQ(cloexec(fds[1]), 1);
    ASSERT_OK(uvs_pipe_new(loop, 0, &a));
    ASSERT_OK(uvs_pipe_new(loop, 0, &b));
    ASSERT_OK(uvs_pipe_open(a, fds[0]));
    ASSERT_OK(uvs_pipe_open(b, fds[1]));
    ASSERT_EQ(uvs_is_readable(a), 1);
    ASSERT_EQ(uvs_is_writable(a), 1);
    ASSERT_EQ(uvs_is_ipc(a), 0);
    ASSERT_OK(uvs_pipe_sockname(a, name, sizeof(name), &len));
    ASSERT_STR_EQ(name, "");
    ASSERT_UEQ(len, 0);
    len = 77;
    ASSERT_OK(uvs_pipe_peername(a, name, sizeof(name), &len));
    ASSERT_STR_EQ(name, "");
    ASSERT_UEQ(len, 0);

    ASSERT_OK(uvs_read_start(a, reader_cb, &ra));
    ASSERT_OK(uvs_read_start(b, echo_back_cb, &rb));
    write_str(a, "marco", &ws);
    RUN_UNTIL(loop, ra.len == 5);
    ASSERT(memcmp(ra.data, "marco", 5) == 0);
    ASSERT_UEQ(rb.len, 5);
    /* Each fd is owned by its handle now: closing a closes fds[0], so b sees EOF. */
    ASSERT_OK(uvs_close(UVS_HANDLE(a), NULL, NULL));
    RUN_UNTIL(loop, rb.eofs == 1);
    reader_free(&ra);
    reader_free(&rb);
    finish_loop(loop);
}

static void expect_pipe_open_error(uvs_loop_t *loop, int fd, int code) {
    uvs_stream_t *p = NULL;
    ASSERT_GE(fd, 0);
    ASSERT_OK(uvs_pipe_new(loop, 0, &p));
    ASSERT_ERR(uvs_pipe_open(p, fd), code);
    /* The failed open adopted nothing: the pipe is still fresh, the fd still ours. */
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(p)), UVS_EBADF);
    ASSERT_EQ(uvs_is_readable(p), 0);
    ASSERT(fcntl(fd, F_GETFD) != -1);
    close(fd);
    uvs_release(UVS_HANDLE(p));
}

/* CONFORMANCE 17: uvs_pipe_open refuses what is not a pipe, FIFO or Unix stream
 * socket with EINVAL (a regular file, /dev/null, a TCP socket, a Unix datagram
 * socket, a terminal), a closed fd with EBADF, a negative fd with EINVAL, and a
 * second open with EBUSY. Never an abort. */
static void test_pipe_open_rejects(void) {
    uvs_loop_t *loop = make_loop();
    char path[] = "/tmp/uvs_ctest_XXXXXX";
    int master = -1, slave = -1, fd, fds[2];
    uvs_stream_t *p = NULL;

    expect_pipe_open_error(loop, mkstemp(path), UVS_EINVAL);
    unlink(path);
    expect_pipe_open_error(loop, open("/dev/null", O_RDWR), UVS_EINVAL);
    expect_pipe_open_error(loop, socket(AF_INET, SOCK_STREAM, 0), UVS_EINVAL);
    expect_pipe_open_error(loop, socket(AF_UNIX, SOCK_DGRAM, 0), UVS_EINVAL);
    if (openpty(&master, &slave, NULL, NULL, NULL) == 0) {
        expect_pipe_open_error(loop, slave, UVS_EINVAL);
        close(master);
    }
    /* A closed fd. */
    fd = open("/dev/null", O_RDONLY);
    ASSERT_GE(fd, 0);
    close(fd);
    ASSERT_OK(uvs_pipe_new(loop, 0, &p));
    ASSERT_ERR(uvs_pipe_open(p, fd), UVS_EBADF);
    ASSERT_ERR(uvs_pipe_open(p, -1), UVS_EINVAL);
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(p)), UVS_EBADF);
    /* A second open. */
    ASSERT_OK(uvs_socketpair(fds));
    ASSERT_OK(uvs_pipe_open(p, fds[0]));
    ASSERT_ERR(uvs_pipe_open(p, fds[1]), UVS_EBUSY);
    ASSERT_ERR(uvs_pipe_open(p, fds[0]), UVS_EBUSY);
    ASSERT_EQ(uvs_fileno(UVS_HANDLE(p)), fds[0]);
    ASSERT(fcntl(fds[1], F_GETFD) != -1);
    close(fds[1]);
    finish_loop(loop);
}

/* A FIFO is a pipe: opened read-only it is readable and not writable. */
static void test_pipe_open_fifo(void) {
    uvs_loop_t *loop = make_loop();
    char path[UVS_PIPE_PATH_MAX + 1];
    uvs_stream_t *p = NULL;
    int rfd, wfd;
    struct reader in;

    memset(&in, 0, sizeof(in));
    path_in(path, sizeof(path), "fifo");
    ASSERT_EQ(mkfifo(path, 0600), 0);
    rfd = open(path, O_RDONLY | O_NONBLOCK);
    ASSERT_GE(rfd, 0);
    wfd = open(path, O_WRONLY);
    ASSERT_GE(wfd, 0);
    ASSERT_OK(uvs_pipe_new(loop, 0, &p));
    ASSERT_OK(uvs_pipe_open(p, rfd));
    ASSERT_EQ(uvs_is_readable(p), 1);
    ASSERT_EQ(uvs_is_writable(p), 0);
    ASSERT_OK(uvs_read_start(p, reader_cb, &in));
    ASSERT_EQ(write(wfd, "fifo!", 5), 5);
    close(wfd);
    RUN_UNTIL(loop, in.eofs == 1);
    ASSERT_UEQ(in.len, 5);
    ASSERT(memcmp(in.data, "fifo!", 5) == 0);
    reader_free(&in);
    finish_loop(loop);
}

/* ======================================================================== */
/* CONFORMANCE 2-4 through pipes: reading                                    */
/* ======================================================================== */

/* CONFORMANCE 1 and 2: the read callback never runs inside read_start; EOF is
 * reported once; after it the stream is not readable but still writable and may be
 * shut down (half-close). */
static void test_pipe_eof_once_half_close(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct half h;
    struct reader back;
    int ws, ss = NOT_CALLED, ws2, ss2 = NOT_CALLED;

    memset(&h, 0, sizeof(h));
    memset(&back, 0, sizeof(back));
    make_pipe_pair(loop, 0, &a, &b);
    write_str(a, "ping", &ws);
    ASSERT_OK(uvs_shutdown(a, status_cb, &ss));
    ASSERT_EQ(uvs_is_writable(a), 0);
    ASSERT_EQ(uvs_is_readable(a), 1);
    RUN_UNTIL(loop, ss != NOT_CALLED && ws != NOT_CALLED); /* data + EOF wait in b */
    in_call = 1;
    ASSERT_OK(uvs_read_start(b, half_read, &h));
    in_call = 0;
    ASSERT_OK(uvs_read_start(a, reader_cb, &back));
    RUN_UNTIL(loop, h.in.eofs == 1);
    ASSERT_OK(ws);
    ASSERT_OK(ss);
    ASSERT_UEQ(h.in.len, 4);
    ASSERT(memcmp(h.in.data, "ping", 4) == 0);
    ASSERT_EQ(h.eof_readable, 0);
    ASSERT_EQ(h.eof_writable, 1);
    ASSERT_EQ(h.eof_reading, 0);
    ASSERT_ERR(h.restart, UVS_ENOTCONN);
    /* b answers after EOF, then shuts down. */
    write_str(b, "pong", &ws2);
    ASSERT_OK(uvs_shutdown(b, status_cb, &ss2));
    RUN_UNTIL(loop, back.eofs == 1 && ss2 != NOT_CALLED);
    ASSERT_OK(ws2);
    ASSERT_OK(ss2);
    ASSERT_UEQ(back.len, 4);
    ASSERT(memcmp(back.data, "pong", 4) == 0);
    run_for(loop, 20);
    ASSERT_EQ(h.in.eofs, 1);
    ASSERT_EQ(back.eofs, 1);
    ASSERT_EQ(h.in.after_end + back.after_end + h.in.errors + back.errors, 0);
    ASSERT_EQ(h.in.bad_args + back.bad_args, 0);
    ASSERT_EQ(uvs_is_readable(a), 0);
    ASSERT_EQ(uvs_is_writable(a), 0);
    ASSERT_EQ(uvs_is_readable(b), 0);
    ASSERT_EQ(uvs_is_writable(b), 0);
    reader_free(&h.in);
    reader_free(&back);
    finish_loop(loop);
}

/* CONFORMANCE 3: a read error is reported once; then neither readable nor writable.
 * A Unix socket closed with unread data in its receive queue resets its peer: the
 * peer's next read fails with ECONNRESET. */
static void test_pipe_read_error_once(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct reader r;
    int ws, ws2 = NOT_CALLED;
    uvs_buf_t buf;

    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    write_str(a, "never read", &ws);
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_OK(ws);
    ASSERT_OK(uvs_close(UVS_HANDLE(b), NULL, NULL)); /* with "never read" unread */
    ASSERT_OK(uvs_read_start(a, reader_cb, &r));
    expect_reset_once(loop, a, &r);
    buf.base = "x";
    buf.len = 1;
    ASSERT_ERR(uvs_write(a, &buf, 1, status_cb, &ws2), UVS_EPIPE);
    ASSERT_ERR(uvs_shutdown(a, NULL, NULL), UVS_ENOTCONN);
    run_for(loop, 20);
    ASSERT_EQ(r.errors, 1);
    ASSERT_EQ(r.after_end, 0);
    ASSERT_EQ(ws2, NOT_CALLED);
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 4: read_stop inside the callback takes effect at once though more
 * data waits; read_start/read_stop in any order; reading resumes where it stopped. */
static void test_pipe_read_stop_start(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct stopper st;
    const size_t total = 1024 * 1024;
    int ws = NOT_CALLED;

    memset(&st, 0, sizeof(st));
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_OK(uvs_read_stop(b)); /* not reading: fine */
    ASSERT_EQ(uvs_is_reading(b), 0);
    write_pattern_at(a, 0, total, status_cb, &ws);
    ASSERT_OK(uvs_read_start(b, stop_on_first_chunk, &st));
    ASSERT_OK(uvs_read_start(b, stop_on_first_chunk, &st)); /* again: replaces */
    ASSERT_EQ(uvs_is_reading(b), 1);
    expect_stop_on_first_chunk(loop, b, &st, total, 20);
    /* start / stop / start with no loop turn between. */
    ASSERT_OK(uvs_read_start(b, reader_cb, &st.r));
    ASSERT_OK(uvs_read_stop(b));
    ASSERT_OK(uvs_read_start(b, reader_cb, &st.r));
    expect_pattern_read(loop, &st.r, total, &ws);
    reader_free(&st.r);
    finish_loop(loop);
}

/* ======================================================================== */
/* CONFORMANCE 5-9 through pipes: writing                                    */
/* ======================================================================== */

/* CONFORMANCE 5: many writes of mixed sizes (two of 4 MiB, so they queue): every
 * callback once, in submission order; the bytes arrive in order. */
static void test_pipe_write_order_many(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct reader r;
    enum { N = 60 };
    struct wrec w[N];
    size_t total = 0;
    int i;

    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    wrec_init(w, N);
    for (i = 0; i < N; i++) {
        size_t n = (i == 5 || i == 40) ? 4 * MIB : (size_t)(1 + (i * 7919) % 3000);
        in_call = 1;
        write_pattern_at(a, total, n, wrec_cb, &w[i]);
        in_call = 0;
        total += n;
        if (i == 5)
            ASSERT(uvs_write_queue_size(a) > 0);
    }
    ASSERT_STR_EQ(evlog(), "");
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, r.len >= total && w[N - 1].calls > 0);
    ASSERT_PATTERN(r, total);
    expect_writes_ok_in_order(w, N);
    ASSERT_UEQ(uvs_write_queue_size(a), 0);
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 6: writes issued while a pipe connect is pending are sent after it. */
static void test_pipe_write_during_connect(void) {
    uvs_loop_t *loop = make_loop();
    struct pserver ps;
    char path[UVS_PIPE_PATH_MAX + 1];
    uvs_stream_t *c = NULL;
    struct wrec w0 = {0, 0, 0}, w1 = {1, 0, 0}, w2 = {2, 0, 0};
    uvs_buf_t b;

    pserver_start(loop, &ps, "early.sock", path, sizeof(path));
    ps.echo = 0;
    ASSERT_OK(uvs_pipe_new(loop, 0, &c));
    ASSERT_OK(uvs_pipe_connect(c, path, log_connect_cb, NULL));
    in_call = 1;
    b.base = "abc";
    b.len = 3;
    ASSERT_OK(uvs_write(c, &b, 1, wrec_cb, &w0));
    ASSERT_OK(uvs_write(c, NULL, 0, wrec_cb, &w1));
    b.base = "def";
    ASSERT_OK(uvs_write(c, &b, 1, wrec_cb, &w2));
    ASSERT_OK(uvs_shutdown(c, log_shutdown_cb, NULL));
    in_call = 0;
    RUN_UNTIL(loop, ps.in.eofs == 1 && strstr(evlog(), "shutdown") != NULL);
    ASSERT_STR_EQ(evlog(), "connect:0 w0:0 w1:0 w2:0 shutdown:0");
    ASSERT_UEQ(ps.in.len, 6);
    ASSERT(memcmp(ps.in.data, "abcdef", 6) == 0);
    reader_free(&ps.in);
    finish_loop(loop);
}

/* CONFORMANCE 7: zero buffers and zero-byte writes complete with 0, from the loop,
 * in order; nothing is sent for them. */
static void test_pipe_write_zero_bytes(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct reader r;
    struct wrec w[4];
    uvs_buf_t bufs[2];

    memset(&r, 0, sizeof(r));
    wrec_init(w, 4);
    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    bufs[0].base = "";
    bufs[0].len = 0;
    bufs[1].base = NULL;
    bufs[1].len = 0;
    in_call = 1;
    ASSERT_OK(uvs_write(a, NULL, 0, wrec_cb, &w[0]));
    ASSERT_OK(uvs_write(a, bufs, 2, wrec_cb, &w[1]));
    bufs[0].base = "z";
    bufs[0].len = 1;
    ASSERT_OK(uvs_write(a, bufs, 1, wrec_cb, &w[2]));
    ASSERT_OK(uvs_write(a, bufs, 0, wrec_cb, &w[3]));
    in_call = 0;
    RUN_UNTIL(loop, w[3].calls == 1 && r.len == 1);
    ASSERT_STR_EQ(evlog(), "w0:0 w1:0 w2:0 w3:0");
    run_for(loop, 10);
    ASSERT_UEQ(r.len, 1);
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 8: with writes queued, try_write reports EAGAIN (never reorders). */
static void test_pipe_try_write_queued(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct reader r;
    uvs_buf_t buf;
    int ws = NOT_CALLED, n;
    char tail[64];

    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    /* Idle: written at once. */
    fill_pattern(tail, 10, 0);
    buf.base = tail;
    buf.len = 10;
    ASSERT_ERR(uvs_try_write(a, &buf, 1), 10);
    write_pattern_at(a, 10, 4 * MIB, status_cb, &ws);
    ASSERT(uvs_write_queue_size(a) > 0);
    fill_pattern(tail, sizeof(tail), 10 + 4 * MIB);
    buf.len = sizeof(tail);
    ASSERT_ERR(uvs_try_write(a, &buf, 1), UVS_EAGAIN);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_OK(ws);
    n = uvs_try_write(a, &buf, 1);
    ASSERT_GT(n, 0);
    if ((size_t)n < sizeof(tail)) {
        buf.base = tail + n;
        buf.len = sizeof(tail) - (size_t)n;
        ASSERT_OK(uvs_write(a, &buf, 1, NULL, NULL));
    }
    RUN_UNTIL(loop, r.len >= 10 + 4 * MIB + sizeof(tail));
    ASSERT_PATTERN(r, 10 + 4 * MIB + sizeof(tail));
    reader_free(&r);
    finish_loop(loop);
}

/* CONFORMANCE 9: after shutdown the pipe is not writable; a second shutdown is
 * ENOTCONN; later writes EPIPE; queued writes reach the peer before its EOF. */
static void test_pipe_shutdown(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;
    struct reader r;
    int ws = NOT_CALLED, ws2 = NOT_CALLED;
    uvs_buf_t buf;
    const size_t total = 4 * MIB;

    memset(&r, 0, sizeof(r));
    make_pipe_pair(loop, 0, &a, &b);
    write_pattern_at(a, 0, total, log_write_cb, "");
    ASSERT(uvs_write_queue_size(a) > 0);
    ASSERT_OK(uvs_shutdown(a, log_shutdown_cb, NULL));
    ASSERT_EQ(uvs_is_writable(a), 0);
    ASSERT_ERR(uvs_shutdown(a, log_shutdown_cb, NULL), UVS_ENOTCONN);
    buf.base = "x";
    buf.len = 1;
    ASSERT_ERR(uvs_write(a, &buf, 1, status_cb, &ws), UVS_EPIPE);
    ASSERT_ERR(uvs_try_write(a, &buf, 1), UVS_EPIPE);
    ASSERT_ERR(uvs_write(a, NULL, 0, status_cb, &ws2), UVS_EPIPE);
    ASSERT_OK(uvs_read_start(b, reader_cb, &r));
    RUN_UNTIL(loop, r.eofs == 1 && strstr(evlog(), "shutdown") != NULL);
    ASSERT_STR_EQ(evlog(), "write:0 shutdown:0");
    ASSERT_PATTERN(r, total);
    ASSERT_EQ(ws, NOT_CALLED);
    ASSERT_EQ(ws2, NOT_CALLED);
    reader_free(&r);
    finish_loop(loop);
}

/* ======================================================================== */
/* CONFORMANCE 10-13 through pipes: closing, lifetime, listening             */
/* ======================================================================== */

static void pipe_calls_closed(uvs_stream_t *s) {
    char name[UVS_PIPE_PATH_MAX + 1];
    size_t len;
    uvs_buf_t b;
    int ws = NOT_CALLED, fds[2];
    struct reader r;

    memset(&r, 0, sizeof(r));
    b.base = "x";
    b.len = 1;
    ASSERT_ERR(uvs_read_start(s, reader_cb, &r), UVS_ECLOSED);
    ASSERT_ERR(uvs_read_stop(s), UVS_ECLOSED);
    ASSERT_ERR(uvs_write(s, &b, 1, status_cb, &ws), UVS_ECLOSED);
    ASSERT_ERR(uvs_try_write(s, &b, 1), UVS_ECLOSED);
    ASSERT_ERR(uvs_shutdown(s, NULL, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_listen(s, 4, pserver_conn_cb, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_pipe_bind(s, "/tmp/uvs-never-bound.sock"), UVS_ECLOSED);
    ASSERT_ERR(uvs_pipe_connect(s, "/tmp/uvs-never.sock", log_connect_cb, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_pipe_chmod(s, UVS_PIPE_READABLE), UVS_ECLOSED);
    ASSERT_ERR(uvs_pipe_sockname(s, name, sizeof(name), &len), UVS_ECLOSED);
    ASSERT_ERR(uvs_pipe_peername(s, name, sizeof(name), &len), UVS_ECLOSED);
    ASSERT_ERR(uvs_pipe_pending_instances(s, 2), UVS_ECLOSED);
    ASSERT_ERR(uvs_set_write_watermarks(s, 100, 10), UVS_ECLOSED);
    ASSERT_ERR(uvs_on_writability_changed(s, NULL, NULL), UVS_ECLOSED);
    ASSERT_ERR(uvs_fileno(UVS_HANDLE(s)), UVS_ECLOSED);
    ASSERT_OK(uvs_socketpair(fds));
    ASSERT_ERR(uvs_pipe_open(s, fds[0]), UVS_ECLOSED);
    ASSERT(fcntl(fds[0], F_GETFD) != -1); /* not adopted */
    close(fds[0]);
    close(fds[1]);
    ASSERT_EQ(uvs_pipe_pending_count(s), 0);
    ASSERT_EQ(uvs_pipe_pending_kind(s), 0);
    ASSERT_EQ(uvs_is_readable(s), 0);
    ASSERT_EQ(uvs_is_writable(s), 0);
    ASSERT_EQ(uvs_is_reading(s), 0);
    ASSERT_EQ(uvs_is_write_blocked(s), 0);
    ASSERT_EQ(uvs_is_active(UVS_HANDLE(s)), 0);
    ASSERT_UEQ(uvs_write_queue_size(s), 0);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(s)), UVS_KIND_PIPE);
    ASSERT_OK(uvs_close(UVS_HANDLE(s), NULL, NULL));
    ASSERT_EQ(ws, NOT_CALLED);
}

/* CONFORMANCE 10: pending writes and shutdown complete with ECANCELED, in order,
 * before the close callback, which runs once; every later call is ECLOSED. */
static void test_pipe_close_cancels_pending(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;

    make_pipe_pair(loop, 0, &a, &b);
    write_pattern_at(a, 0, 8 * MIB, log_write_cb, "1"); /* b does not read: queues */
    ASSERT(uvs_write_queue_size(a) > 0);
    write_pattern_at(a, 8 * MIB, 1, log_write_cb, "2");
    ASSERT_OK(uvs_write(a, NULL, 0, log_write_cb, "3"));
    ASSERT_OK(uvs_shutdown(a, log_shutdown_cb, NULL));
    in_call = 1;
    ASSERT_OK(uvs_close(UVS_HANDLE(a), log_close_cb, "A"));
    ASSERT_OK(uvs_close(UVS_HANDLE(a), log_close_cb, "B"));
    in_call = 0;
    ASSERT_STR_EQ(evlog(), "");
    pipe_calls_closed(a); /* closing */
    RUN_UNTIL(loop, strstr(evlog(), "close") != NULL);
    pipe_calls_closed(a); /* closed */
    run_for(loop, 10);
    ASSERT_STR_EQ(evlog(), "write1:ECANCELED write2:ECANCELED write3:ECANCELED "
                           "shutdown:ECANCELED closeA");
    finish_loop(loop);
}

/* A pending pipe connect (the socket connects at once, but its callback has not run)
 * completes with ECANCELED (or 0) before the close callback. */
static void test_pipe_close_pending_connect(void) {
    uvs_loop_t *loop = make_loop();
    struct pserver ps;
    char path[UVS_PIPE_PATH_MAX + 1], longer[UVS_PIPE_PATH_MAX + 8];
    uvs_stream_t *c = NULL, *d = NULL;

    pserver_start(loop, &ps, "cancel.sock", path, sizeof(path));
    ASSERT_OK(uvs_pipe_new(loop, 0, &c));
    ASSERT_OK(uvs_pipe_connect(c, path, log_connect_cb, NULL));
    ASSERT_OK(uvs_close(UVS_HANDLE(c), log_close_cb, NULL));
    RUN_UNTIL(loop, strstr(evlog(), "close") != NULL);
    run_for(loop, 10);
    if (strcmp(evlog(), "connect:ECANCELED close") != 0 && strcmp(evlog(), "connect:0 close") != 0)
        FAIL("event log \"%s\", expected \"connect:ECANCELED close\"", evlog());

    /* A connect whose failure is known at once (path too long) is still reported
     * once, before the close callback. */
    ev_reset();
    path_of_length(longer, sizeof(longer), UVS_PIPE_PATH_MAX + 1, 'c');
    ASSERT_OK(uvs_pipe_new(loop, 0, &d));
    ASSERT_OK(uvs_pipe_connect(d, longer, log_connect_cb, NULL));
    ASSERT_OK(uvs_close(UVS_HANDLE(d), log_close_cb, NULL));
    RUN_UNTIL(loop, strstr(evlog(), "close") != NULL);
    run_for(loop, 10);
    if (strcmp(evlog(), "connect:ECANCELED close") != 0 &&
        strcmp(evlog(), "connect:ENAMETOOLONG close") != 0)
        FAIL("event log \"%s\", expected \"connect:ECANCELED close\"", evlog());
    reader_free(&ps.in);
    finish_loop(loop);
}

/* A second connect while one is pending: EALREADY; once connected: EISCONN. */
static void test_pipe_connect_twice(void) {
    uvs_loop_t *loop = make_loop();
    struct pserver ps;
    char path[UVS_PIPE_PATH_MAX + 1];
    uvs_stream_t *c = NULL;

    pserver_start(loop, &ps, "twice.sock", path, sizeof(path));
    ASSERT_OK(uvs_pipe_new(loop, 0, &c));
    ASSERT_OK(uvs_pipe_connect(c, path, log_connect_cb, NULL));
    ASSERT_ERR(uvs_pipe_connect(c, path, log_connect_cb, NULL), UVS_EALREADY);
    RUN_UNTIL(loop, strstr(evlog(), "connect") != NULL);
    ASSERT_ERR(uvs_pipe_connect(c, path, log_connect_cb, NULL), UVS_EISCONN);
    run_for(loop, 10);
    ASSERT_STR_EQ(evlog(), "connect:0");
    reader_free(&ps.in);
    finish_loop(loop);
}

/* CONFORMANCE 11: closing a loop with a live pipe is EBUSY; after closing every
 * handle and running, it succeeds. */
static void test_pipe_loop_close_busy(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a, *b;

    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_ERR(uvs_loop_close(loop), UVS_EBUSY);
    ASSERT_EQ(uvs_loop_close_all(loop, NULL, NULL), 2);
    ASSERT_ERR(uvs_loop_close(loop), UVS_EBUSY); /* close callbacks still to run */
    finish_loop(loop);
}

/* CONFORMANCE 12: releasing the pipe inside its own read callback is safe, and no
 * callback of it comes afterwards. */
struct releaser {
    int calls;
};

static void release_in_read(uvs_stream_t *s, int status, const char *data, size_t len, void *u) {
    struct releaser *rl = u;
    (void)status;
    (void)data;
    (void)len;
    rl->calls++;
    (uvs_release)(UVS_HANDLE(s)); /* the harness does not own it: see below */
}

static void test_pipe_release_in_callback(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *a = NULL, *b = NULL;
    struct releaser rl = {0};
    int fds[2], ws, i;

    ASSERT_OK(uvs_socketpair(fds));
    ASSERT_OK(uvs_pipe_new(loop, 0, &a));
    ASSERT_OK((uvs_pipe_new)(loop, 0, &b)); /* not through the harness: released in the cb */
    ASSERT_OK(uvs_pipe_open(a, fds[0]));
    ASSERT_OK(uvs_pipe_open(b, fds[1]));
    ASSERT_OK(uvs_read_start(b, release_in_read, &rl));
    write_str(a, "chunk ", &ws);
    for (i = 0; i < 9; i++) {
        uvs_buf_t buf;
        buf.base = "chunk ";
        buf.len = 6;
        ASSERT_OK(uvs_write(a, &buf, 1, NULL, NULL));
    }
    RUN_UNTIL(loop, rl.calls == 1);
    run_for(loop, 20);
    ASSERT_EQ(rl.calls, 1);
    finish_loop(loop);
}

/* CONFORMANCE 13: a listening pipe that does not accept in its callback keeps the
 * connection; accepting later works; accepting into a TCP handle is EINVAL and
 * loses nothing; with nothing waiting, EAGAIN. */
static void test_pipe_listen_accept_later(void) {
    uvs_loop_t *loop = make_loop();
    struct pserver ps;
    char path[UVS_PIPE_PATH_MAX + 1];
    uvs_stream_t *c, *tcp = NULL, *extra = NULL;
    struct reader back;
    int ws;

    memset(&back, 0, sizeof(back));
    pserver_start(loop, &ps, "later.sock", path, sizeof(path));
    ps.accept_in_cb = 0;
    c = connect_client(loop, path);
    RUN_UNTIL(loop, ps.notified == 1);
    run_for(loop, 20);
    ASSERT_EQ(ps.notified, 1);
    ASSERT_OK(uvs_tcp_new(loop, 0, &tcp));
    ASSERT_ERR(uvs_accept(ps.listener, tcp), UVS_EINVAL);
    pserver_accept(&ps);
    ASSERT_OK(uvs_pipe_new(loop, 0, &extra));
    ASSERT_ERR(uvs_accept(ps.listener, extra), UVS_EAGAIN);
    ASSERT_OK(uvs_read_start(c, reader_cb, &back));
    write_str(c, "late", &ws);
    RUN_UNTIL(loop, back.len == 4);
    ASSERT(memcmp(back.data, "late", 4) == 0);
    reader_free(&back);
    reader_free(&ps.in);
    finish_loop(loop);
}

/* ======================================================================== */
/* CONFORMANCE 16: a write to a closed peer: EPIPE, never SIGPIPE            */
/* ======================================================================== */

static void test_pipe_write_closed_peer_epipe(void) {
    uvs_loop_t *loop = make_loop(); /* SIGPIPE was SIG_DFL before this (runner) */
    uvs_stream_t *a, *b;
    int ws = NOT_CALLED, ws2 = NOT_CALLED, closed = 0;
    uvs_buf_t buf;

    make_pipe_pair(loop, 0, &a, &b);
    ASSERT_OK(uvs_close(UVS_HANDLE(b), count_close_cb, &closed));
    RUN_UNTIL(loop, closed == 1);
    buf.base = "into the void";
    buf.len = 13;
    ASSERT_OK(uvs_write(a, &buf, 1, status_cb, &ws));
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_ERR(ws, UVS_EPIPE);
    ASSERT_EQ(uvs_is_writable(a), 0);
    ASSERT_ERR(uvs_write(a, &buf, 1, status_cb, &ws2), UVS_EPIPE);
    run_nowait(loop, 2);
    ASSERT_EQ(ws2, NOT_CALLED);
    finish_loop(loop);
}

/* The same through an anonymous pipe whose read end was closed. */
static void test_pipe_pair_write_closed_reader_epipe(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *r = NULL, *w = NULL;
    int fds[2], ws = NOT_CALLED, closed = 0;
    uvs_buf_t buf;

    ASSERT_OK(uvs_pipe_pair(fds));
    ASSERT_OK(uvs_pipe_new(loop, 0, &r));
    ASSERT_OK(uvs_pipe_new(loop, 0, &w));
    ASSERT_OK(uvs_pipe_open(r, fds[0]));
    ASSERT_OK(uvs_pipe_open(w, fds[1]));
    ASSERT_OK(uvs_close(UVS_HANDLE(r), count_close_cb, &closed));
    RUN_UNTIL(loop, closed == 1);
    buf.base = "nobody reads";
    buf.len = 12;
    ASSERT_OK(uvs_write(w, &buf, 1, status_cb, &ws));
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_ERR(ws, UVS_EPIPE);
    ASSERT_EQ(uvs_is_writable(w), 0);
    finish_loop(loop);
}


/* uvs_pipe_bind(""): UVS_EINVAL (libuv would bind Linux's empty abstract address);
 * the pipe stays open. */
static void test_pipe_bind_empty_path(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *p = NULL;

    ASSERT_OK(uvs_pipe_new(loop, 0, &p));
    ASSERT_ERR(uvs_pipe_bind(p, ""), UVS_EINVAL);
    ASSERT_EQ(uvs_is_closing(UVS_HANDLE(p)), 0);
    finish_loop(loop);
}


/* A path that is not UTF-8 (Linux paths are bytes) is bound, reported and connected
 * to byte for byte: nothing rewrites it. A path of UVS_PIPE_PATH_MAX such bytes
 * fits. */
static void test_pipe_path_bytes_kept(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *client = NULL;
    char path[UVS_PIPE_PATH_MAX + 1], name[UVS_PIPE_PATH_MAX + 1];
    size_t len = sizeof(name);
    int connected = NOT_CALLED;

    path_in(path, sizeof(path), "s\xff\xfe");
    ASSERT_OK(uvs_pipe_new(loop, 0, &server));
    ASSERT_OK(uvs_pipe_bind(server, path));
    ASSERT(file_exists(path));
    ASSERT_OK(uvs_pipe_sockname(server, name, sizeof(name), &len));
    ASSERT_UEQ(len, strlen(path));
    ASSERT(strcmp(name, path) == 0);
    ASSERT_OK(uvs_listen(server, 5, nop_connection_cb, NULL));
    ASSERT_OK(uvs_pipe_new(loop, 0, &client));
    ASSERT_OK(uvs_pipe_connect(client, path, status_cb, &connected));
    RUN_UNTIL(loop, connected != NOT_CALLED);
    ASSERT_OK(connected);
    unlink(path);

    path_of_length(path, sizeof(path), UVS_PIPE_PATH_MAX, '\xe9');
    ASSERT_OK(uvs_pipe_new(loop, 0, &server));
    ASSERT_OK(uvs_pipe_bind(server, path));
    ASSERT(file_exists(path));
    unlink(path);
    finish_loop(loop);
}

const struct uvs_test tests_pipe[] = {
    {"pipe_new_state", test_pipe_new_state},
    {"pipe_bind_listen_connect_echo", test_pipe_bind_listen_connect_echo},
    {"pipe_sockname_full_path", test_pipe_sockname_full_path},
    {"pipe_names_enobufs_length", test_pipe_names_enobufs_length},
    {"pipe_connect_enoent", test_pipe_connect_enoent},
    {"pipe_connect_refused", test_pipe_connect_refused},
    {"pipe_connect_path_too_long", test_pipe_connect_path_too_long},
    {"pipe_connect_twice", test_pipe_connect_twice},
    {"pipe_bind_errors", test_pipe_bind_errors},
    {"pipe_bind_missing_dir_eacces", test_pipe_bind_missing_dir_eacces},
    {"pipe_chmod", test_pipe_chmod},
    {"pipe_chmod_unbound_socket", test_pipe_chmod_unbound_socket},
    {"pipe_pending_instances", test_pipe_pending_instances},
    {"pipe_pair_read_write_eof", test_pipe_pair_read_write_eof},
    {"pipe_socketpair_echo", test_socketpair_echo},
    {"pipe_open_rejects", test_pipe_open_rejects},
    {"pipe_open_fifo", test_pipe_open_fifo},
    {"pipe_eof_once_half_close", test_pipe_eof_once_half_close},
    {"pipe_read_error_once", test_pipe_read_error_once},
    {"pipe_read_stop_start", test_pipe_read_stop_start},
    {"pipe_write_order_many", test_pipe_write_order_many},
    {"pipe_write_during_connect", test_pipe_write_during_connect},
    {"pipe_write_zero_bytes", test_pipe_write_zero_bytes},
    {"pipe_try_write_queued", test_pipe_try_write_queued},
    {"pipe_shutdown", test_pipe_shutdown},
    {"pipe_close_cancels_pending", test_pipe_close_cancels_pending},
    {"pipe_close_pending_connect", test_pipe_close_pending_connect},
    {"pipe_loop_close_busy", test_pipe_loop_close_busy},
    {"pipe_release_in_callback", test_pipe_release_in_callback},
    {"pipe_listen_accept_later", test_pipe_listen_accept_later},
    {"pipe_write_closed_peer_epipe", test_pipe_write_closed_peer_epipe},
    {"pipe_pair_write_closed_reader_epipe", test_pipe_pair_write_closed_reader_epipe},
    {"pipe_bind_empty_path", test_pipe_bind_empty_path},
    {"pipe_path_bytes_kept", test_pipe_path_bytes_kept},
    {0, 0},
};
