/*
 * TTYs (header section 9) on a pseudo-terminal from openpty(), never the session's
 * own terminal: creation, window size, modes (checked with tcgetattr), reset, and
 * data both ways between the TTY stream (on the slave) and the master.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

struct pty {
    int master;
    int slave;
    struct termios initial; /* the slave's attributes before the test changed them */
};

static void open_pty(struct pty *p) {
    open_pty_or_skip(&p->master, &p->slave);
    ASSERT_EQ(tcgetattr(p->slave, &p->initial), 0);
}

/* open_pty(), then a TTY stream on the slave. */
static uvs_stream_t *open_tty(uvs_loop_t *loop, struct pty *p, int readable) {
    uvs_stream_t *t = NULL;
    open_pty(p);
    ASSERT_OK(uvs_tty_new(loop, p->slave, readable, &t));
    return t;
}

static void close_pty(struct pty *p) {
    close(p->master);
    close(p->slave); /* the caller's fd: the TTY handle works on its own duplicate */
}

static void write_all(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t r = write(fd, s, n);
        if (r < 0 && errno == EINTR)
            continue;
        ASSERT_GT(r, 0);
        s += r;
        n -= (size_t)r;
    }
}

/* ======================================================================== */

/* uvs_tty_new on the slave: readable (input) and not (output only). */
static void test_tty_new_readable_and_not(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *in = NULL, *out = NULL;
    struct reader r;
    int fd2;

    memset(&r, 0, sizeof(r));
    open_pty(&p);
    fd2 = dup(p.slave);
    ASSERT_GE(fd2, 0);
    ASSERT_OK(uvs_tty_new(loop, p.slave, 1, &in));
    ASSERT_NOT_NULL(in);
    ASSERT_OK(uvs_tty_new(loop, fd2, 0, &out));
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(in)), UVS_KIND_TTY);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(out)), UVS_KIND_TTY);
    ASSERT_PTR_EQ(uvs_handle_loop(UVS_HANDLE(in)), loop);
    ASSERT_GE(uvs_fileno(UVS_HANDLE(in)), 0);
    ASSERT_GE(uvs_fileno(UVS_HANDLE(out)), 0);
    ASSERT_EQ(uvs_is_ipc(in), 0);
    ASSERT_EQ(uvs_is_readable(in), 1);
    ASSERT_EQ(uvs_is_writable(in), 1);
    ASSERT_EQ(uvs_is_readable(out), 0);
    ASSERT_EQ(uvs_is_writable(out), 1);
    ASSERT_ERR(uvs_read_start(out, reader_cb, &r), UVS_ENOTCONN);
    ASSERT_EQ(uvs_is_reading(out), 0);
    ASSERT_OK(uvs_read_start(in, reader_cb, &r));
    ASSERT_EQ(uvs_is_reading(in), 1);
    ASSERT_OK(uvs_read_stop(in));
    finish_loop(loop);
    close(fd2);
    close_pty(&p);
}

/* The window size set on the master with TIOCSWINSZ; width/height may be NULL. */
static void test_tty_winsize(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *t = NULL;
    struct winsize ws;
    int w = -1, h = -1;

    open_pty(&p);
    memset(&ws, 0, sizeof(ws));
    ws.ws_col = 123;
    ws.ws_row = 45;
    ASSERT_EQ(ioctl(p.master, TIOCSWINSZ, &ws), 0);
    ASSERT_OK(uvs_tty_new(loop, p.slave, 0, &t));
    ASSERT_OK(uvs_tty_get_winsize(t, &w, &h));
    ASSERT_EQ(w, 123);
    ASSERT_EQ(h, 45);
    /* A resize is seen at once. */
    ws.ws_col = 80;
    ws.ws_row = 24;
    ASSERT_EQ(ioctl(p.master, TIOCSWINSZ, &ws), 0);
    w = h = -1;
    ASSERT_OK(uvs_tty_get_winsize(t, &w, NULL));
    ASSERT_EQ(w, 80);
    ASSERT_OK(uvs_tty_get_winsize(t, NULL, &h));
    ASSERT_EQ(h, 24);
    ASSERT_OK(uvs_tty_get_winsize(t, NULL, NULL));
    finish_loop(loop);
    close_pty(&p);
}

static void expect_normal(const struct pty *p) {
    struct termios now;
    ASSERT_EQ(tcgetattr(p->slave, &now), 0);
    ASSERT_EQ(now.c_lflag & (ICANON | ECHO | ISIG), p->initial.c_lflag & (ICANON | ECHO | ISIG));
    ASSERT_NE(now.c_lflag & ICANON, 0);
    ASSERT_NE(now.c_lflag & ECHO, 0);
    ASSERT_NE(now.c_lflag & ISIG, 0);
    ASSERT_EQ(now.c_iflag, p->initial.c_iflag);
    ASSERT_EQ(now.c_oflag, p->initial.c_oflag);
    ASSERT_EQ(now.c_lflag, p->initial.c_lflag);
}

/* Raw, normal, io and back, checked with tcgetattr on the slave. */
static void test_tty_set_mode(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *t = NULL;
    struct termios now;

    t = open_tty(loop, &p, 1);
    expect_normal(&p);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_NORMAL)); /* already normal */
    expect_normal(&p);

    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_RAW));
    ASSERT_EQ(tcgetattr(p.slave, &now), 0);
    ASSERT_EQ(now.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0);
    ASSERT_EQ(now.c_iflag & (ICRNL | IXON | BRKINT | ISTRIP | INPCK), 0);
    ASSERT_EQ(now.c_cflag & CSIZE, CS8);
    ASSERT_EQ(now.c_cc[VMIN], 1);
    ASSERT_EQ(now.c_cc[VTIME], 0);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_RAW)); /* again: no change */

    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_NORMAL));
    expect_normal(&p);

    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_IO));
    ASSERT_EQ(tcgetattr(p.slave, &now), 0);
    ASSERT_EQ(now.c_lflag & (ICANON | ECHO | ISIG), 0);
    ASSERT_EQ(now.c_oflag & OPOST, 0); /* binary-safe: no output processing */
    ASSERT_EQ(now.c_iflag & (ICRNL | IXON), 0);
    ASSERT_EQ(now.c_cflag & CSIZE, CS8);

    /* io -> raw directly, then back to normal. */
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_RAW));
    ASSERT_EQ(tcgetattr(p.slave, &now), 0);
    ASSERT_EQ(now.c_lflag & (ICANON | ECHO | ISIG), 0);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_NORMAL));
    expect_normal(&p);

    finish_loop(loop);
    close_pty(&p);
}

/* Unknown modes are UVS_EINVAL ("Nothing in this library aborts, traps or exits the
 * process on bad input ... out-of-range values are all reported as error codes"),
 * and leave the terminal alone. */
static void test_tty_set_mode_unknown(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *t = NULL;

    t = open_tty(loop, &p, 1);
    ASSERT_ERR(uvs_tty_set_mode(t, (uvs_tty_mode)3), UVS_EINVAL);
    ASSERT_ERR(uvs_tty_set_mode(t, (uvs_tty_mode)1000), UVS_EINVAL);
    ASSERT_ERR(uvs_tty_set_mode(t, (uvs_tty_mode)INT32_MAX), UVS_EINVAL);
    expect_normal(&p);
    /* A negative value (an int cast to the enum): as large unsigned on this ABI. */
    ASSERT_ERR(uvs_tty_set_mode(t, (uvs_tty_mode)-1), UVS_EINVAL);
    ASSERT_ERR(uvs_tty_set_mode(t, (uvs_tty_mode)INT32_MIN), UVS_EINVAL);
    expect_normal(&p);
    finish_loop(loop);
    close_pty(&p);
}

/* uvs_tty_reset_mode restores the mode from before the first change away from
 * normal; with nothing changed it succeeds and changes nothing. */
static void test_tty_reset_mode(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *t = NULL;
    struct termios now;

    open_pty(&p);
    ASSERT_OK(uvs_tty_reset_mode());
    ASSERT_OK(uvs_tty_new(loop, p.slave, 1, &t));
    ASSERT_OK(uvs_tty_reset_mode());
    expect_normal(&p);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_RAW));
    ASSERT_EQ(tcgetattr(p.slave, &now), 0);
    ASSERT_EQ(now.c_lflag & ICANON, 0);
    ASSERT_OK(uvs_tty_reset_mode());
    expect_normal(&p);
    ASSERT_OK(uvs_tty_reset_mode()); /* again */
    expect_normal(&p);
    finish_loop(loop);
    close_pty(&p);
}

/* uvs_tty_reset_mode from another thread while the loop runs: "Any thread". */
struct reset_thread {
    uvs_loop_t *loop;
    int result;
};

static void *reset_main(void *arg) {
    struct reset_thread *rt = arg;
    rt->result = uvs_tty_reset_mode();
    if (uvs_loop_post(rt->loop, stop_loop_cb, NULL) != 0)
        FAIL("uvs_loop_post failed");
    return NULL;
}

static void test_tty_reset_mode_other_thread(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *t = NULL;
    uvs_timer_t *keep = NULL;
    struct reset_thread rt;
    pthread_t th;

    t = open_tty(loop, &p, 1);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_RAW));
    rt.loop = loop;
    rt.result = 1;
    ASSERT_OK(uvs_timer_new(loop, &keep));
    guard_arm(loop, __FILE__, __LINE__, "the resetting thread", 1);
    ASSERT_EQ(pthread_create(&th, NULL, reset_main, &rt), 0);
    ASSERT_GE(uvs_loop_run(loop, UVS_RUN_DEFAULT), 0); /* until the thread posts stop */
    guard_disarm(loop);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_OK(rt.result);
    expect_normal(&p);
    finish_loop(loop);
    close_pty(&p);
}

/* Writing to the TTY: the master reads it. */
static void test_tty_write_read_on_master(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *t = NULL;
    uvs_buf_t b[2];
    int ws = NOT_CALLED;
    char buf[64];

    t = open_tty(loop, &p, 0);
    b[0].base = "hello, ";
    b[0].len = 7;
    b[1].base = "terminal";
    b[1].len = 8;
    in_call = 1;
    ASSERT_OK(uvs_write(t, b, 2, status_cb, &ws));
    in_call = 0;
    ASSERT_EQ(ws, NOT_CALLED);
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_OK(ws);
    read_exactly(p.master, buf, 15, " from the pty master");
    ASSERT(memcmp(buf, "hello, terminal", 15) == 0);
    ASSERT_UEQ(uvs_write_queue_size(t), 0);
    /* try_write too. */
    b[0].base = "!";
    b[0].len = 1;
    ASSERT_ERR(uvs_try_write(t, b, 1), 1);
    read_exactly(p.master, buf, 1, " from the pty master");
    ASSERT_EQ(buf[0], '!');
    finish_loop(loop);
    close_pty(&p);
}

/* Reading from the TTY in raw mode: bytes typed on the master arrive at once (no
 * line buffering) and are not echoed. */
static void test_tty_read_raw_from_master(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *t = NULL;
    struct reader r;
    char echo[16];
    ssize_t n;

    memset(&r, 0, sizeof(r));
    t = open_tty(loop, &p, 1);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_RAW));
    in_call = 1;
    ASSERT_OK(uvs_read_start(t, reader_cb, &r));
    in_call = 0;
    write_all(p.master, "abc", 3); /* no newline: raw mode delivers it anyway */
    RUN_UNTIL(loop, r.len >= 3);
    ASSERT_UEQ(r.len, 3);
    ASSERT(memcmp(r.data, "abc", 3) == 0);
    write_all(p.master, "\x03\r", 2); /* ^C is a byte, not a signal; \r stays \r */
    RUN_UNTIL(loop, r.len >= 5);
    ASSERT_UEQ(r.len, 5);
    ASSERT(memcmp(r.data + 3, "\x03\r", 2) == 0);
    /* Nothing was echoed back to the master. */
    ASSERT_EQ(fcntl(p.master, F_SETFL, fcntl(p.master, F_GETFL) | O_NONBLOCK), 0);
    n = read(p.master, echo, sizeof(echo));
    ASSERT(n < 0 && errno == EAGAIN);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_NORMAL));
    ASSERT_EQ(r.errors + r.eofs + r.bad_args, 0);
    reader_free(&r);
    finish_loop(loop);
    close_pty(&p);
}

/* In normal mode the line arrives when it is complete. */
static void test_tty_read_normal_line(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *t = NULL;
    struct reader r;

    memset(&r, 0, sizeof(r));
    t = open_tty(loop, &p, 1);
    ASSERT_OK(uvs_read_start(t, reader_cb, &r));
    write_all(p.master, "partial", 7);
    run_for(loop, 20);
    ASSERT_UEQ(r.len, 0); /* canonical mode: no line yet */
    write_all(p.master, " line\n", 6);
    RUN_UNTIL(loop, r.len >= 13);
    ASSERT_UEQ(r.len, 13);
    ASSERT(memcmp(r.data, "partial line\n", 13) == 0);
    reader_free(&r);
    finish_loop(loop);
    close_pty(&p);
}

/* Not a terminal: EINVAL and *out NULL; a closed fd: EBADF. */
static void expect_tty_error(uvs_loop_t *loop, int fd, int code) {
    uvs_stream_t *t = (uvs_stream_t *)&fd;
    ASSERT_GE(fd, 0);
    ASSERT_ERR(uvs_tty_new(loop, fd, 1, &t), code);
    ASSERT_NULL(t);
    t = (uvs_stream_t *)&fd;
    ASSERT_ERR(uvs_tty_new(loop, fd, 0, &t), code);
    ASSERT_NULL(t);
    ASSERT(fcntl(fd, F_GETFD) != -1); /* left alone */
    close(fd);
}

static void test_tty_new_not_a_terminal(void) {
    uvs_loop_t *loop = make_loop();
    char path[] = "/tmp/uvs_ctest_XXXXXX";
    int fds[2], fd, sv[2];
    uvs_stream_t *t = (uvs_stream_t *)&fd;

    expect_tty_error(loop, mkstemp(path), UVS_EINVAL);
    unlink(path);
    expect_tty_error(loop, open("/dev/null", O_RDWR), UVS_EINVAL);
    ASSERT_EQ(pipe(fds), 0);
    expect_tty_error(loop, fds[0], UVS_EINVAL);
    expect_tty_error(loop, fds[1], UVS_EINVAL);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    expect_tty_error(loop, sv[0], UVS_EINVAL);
    close(sv[1]);
    expect_tty_error(loop, socket(AF_INET, SOCK_STREAM, 0), UVS_EINVAL);
    /* A closed fd. */
    fd = open("/dev/null", O_RDONLY);
    ASSERT_GE(fd, 0);
    close(fd);
    ASSERT_ERR(uvs_tty_new(loop, fd, 1, &t), UVS_EBADF);
    ASSERT_NULL(t);
    t = (uvs_stream_t *)&fd;
    ASSERT_ERR(uvs_tty_new(loop, -1, 1, &t), UVS_EINVAL);
    ASSERT_NULL(t);
    ASSERT_EQ(uvs_loop_handle_count(loop), 0);
    finish_loop(loop);
}

/* A TTY stream closes like any stream: pending writes done, then ECLOSED. */
static void test_tty_close(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *t = NULL;
    int w = 0, h = 0;

    t = open_tty(loop, &p, 1);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_RAW));
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_NORMAL));
    ASSERT_OK(uvs_close(UVS_HANDLE(t), NULL, NULL));
    ASSERT_ERR(uvs_tty_set_mode(t, UVS_TTY_MODE_RAW), UVS_ECLOSED);
    ASSERT_ERR(uvs_tty_get_winsize(t, &w, &h), UVS_ECLOSED);
    ASSERT_EQ(uvs_is_readable(t), 0);
    ASSERT_EQ(uvs_is_writable(t), 0);
    run_nowait(loop, 2);
    ASSERT_ERR(uvs_tty_set_mode(t, UVS_TTY_MODE_NORMAL), UVS_ECLOSED);
    ASSERT_ERR(uvs_tty_get_winsize(t, &w, &h), UVS_ECLOSED);
    ASSERT_EQ(uvs_handle_kind(UVS_HANDLE(t)), UVS_KIND_TTY);
    finish_loop(loop);
    close_pty(&p);
}


/* uvs_tty_new: "The caller keeps fd: closing the handle never closes it". A pty
 * master is the case libuv cannot reopen (it would adopt, and then close, the fd it
 * is given); a slave is reopened. Both of the caller's fds stay open and usable. */
static void test_tty_keeps_callers_fd(void) {
    uvs_loop_t *loop = make_loop();
    struct pty p;
    uvs_stream_t *on_master = NULL, *on_slave = NULL;
    char line[2] = {0, 0};

    open_pty(&p);
    ASSERT_OK(uvs_tty_new(loop, p.master, 1, &on_master));
    ASSERT_OK(uvs_tty_new(loop, p.slave, 1, &on_slave));
    ASSERT_NE(uvs_fileno(UVS_HANDLE(on_master)), p.master);
    ASSERT_NE(uvs_fileno(UVS_HANDLE(on_slave)), p.slave);
    ASSERT_OK(uvs_close(UVS_HANDLE(on_master), NULL, NULL));
    ASSERT_OK(uvs_close(UVS_HANDLE(on_slave), NULL, NULL));
    run_nowait(loop, 2);
    ASSERT_NE(fcntl(p.master, F_GETFD), -1);
    ASSERT_NE(fcntl(p.slave, F_GETFD), -1);
    write_all(p.master, "k\n", 2); /* a line: the slave is in canonical mode */
    ASSERT_EQ(read(p.slave, line, 2), 2);
    ASSERT_EQ(line[0], 'k');
    finish_loop(loop);
    close_pty(&p);
}

const struct uvs_test tests_tty[] = {
    {"tty_new_readable_and_not", test_tty_new_readable_and_not},
    {"tty_winsize", test_tty_winsize},
    {"tty_set_mode", test_tty_set_mode},
    {"tty_set_mode_unknown", test_tty_set_mode_unknown},
    {"tty_reset_mode", test_tty_reset_mode},
    {"tty_reset_mode_other_thread", test_tty_reset_mode_other_thread},
    {"tty_write_read_on_master", test_tty_write_read_on_master},
    {"tty_read_raw_from_master", test_tty_read_raw_from_master},
    {"tty_read_normal_line", test_tty_read_normal_line},
    {"tty_new_not_a_terminal", test_tty_new_not_a_terminal},
    {"tty_close", test_tty_close},
    {"tty_keeps_callers_fd", test_tty_keeps_callers_fd},
    {0, 0},
};
