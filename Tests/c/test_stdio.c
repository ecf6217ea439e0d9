/*
 * What uvs_pipe_open(), uvs_tcp_open() and uvs_tty_new() do to fds 0-2. Each
 * scenario runs in a forked child that first puts its own socket, pipe or
 * pseudo-terminal on fd 0 or 1 (never touching the descriptors it inherited, so
 * nothing leaks to the terminal running the tests), opens a handle on it, uses it,
 * closes the handle and checks:
 *
 *  - the fd is still open afterwards: libuv never closes fds 0-2 (header, sections 8
 *    and 9: "fds 0-2 excepted: they are never closed by the library");
 *  - uvs_pipe_open / uvs_tcp_open made it non-blocking, on the open file description,
 *    so every other holder of it (another process sharing the shell's stdin, say)
 *    sees O_NONBLOCK too (header, uvs_pipe_open: "The fd is made non-blocking, which
 *    also affects other processes sharing it"); the tests watch that through a
 *    dup() of the fd taken before the open;
 *  - uvs_tty_new on a terminal at fd 0-2 reopens the terminal instead, so the other
 *    holders of the original description stay blocking (header, uvs_tty_new).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Runs scenario in a child process; a failure there (reported by the child itself)
 * fails the test. */
static void run_in_child(void (*scenario)(void)) {
    pid_t pid;
    int status = 0;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        scenario();
        exit(0);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            FAIL("waitpid: %s", strerror(errno));
    if (WIFSIGNALED(status))
        FAIL("the scenario's child process was killed by signal %d (%s)", WTERMSIG(status),
             strsignal(WTERMSIG(status)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        FAIL(" <- reported by the scenario's child process (exit status %d)", WEXITSTATUS(status));
}

static int nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    ASSERT_GE(fl, 0);
    return (fl & O_NONBLOCK) != 0;
}

static int is_open(int fd) {
    return fcntl(fd, F_GETFD) != -1;
}

static int same_file(int fd1, int fd2) {
    struct stat a, b;
    ASSERT_EQ(fstat(fd1, &a), 0);
    ASSERT_EQ(fstat(fd2, &b), 0);
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Moves fd onto target (0-2) and returns a second descriptor of the same open file
 * description, to observe its flags. */
static int move_to(int fd, int target) {
    int sharer;
    ASSERT_EQ(dup2(fd, target), target);
    close(fd);
    sharer = dup(target);
    ASSERT_GE(sharer, 0);
    ASSERT_EQ(nonblocking(target), 0);
    return sharer;
}

static void close_and_wait(uvs_loop_t *loop, uvs_stream_t *s) {
    int closed = 0;
    ASSERT_OK(uvs_close(UVS_HANDLE(s), flag_close_cb, &closed));
    RUN_UNTIL(loop, closed);
}

/* ---- uvs_pipe_open on fd 0: one end of a socket pair ---- */

static void scenario_pipe_fd0(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *p = NULL;
    struct reader r;
    int sv[2], sharer, ws;
    char buf[8];

    memset(&r, 0, sizeof(r));
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    sharer = move_to(sv[1], 0);
    ASSERT_OK(uvs_pipe_new(loop, 0, &p));
    ASSERT_OK(uvs_pipe_open(p, 0));
    ASSERT_EQ(uvs_fileno(UVS_HANDLE(p)), 0);
    ASSERT_EQ(nonblocking(0), 1);
    ASSERT_EQ(nonblocking(sharer), 1); /* the description is shared */
    ASSERT_EQ(uvs_is_readable(p), 1);
    ASSERT_EQ(uvs_is_writable(p), 1);
    /* Use it both ways. */
    ASSERT_EQ(write(sv[0], "in", 2), 2);
    ASSERT_OK(uvs_read_start(p, reader_cb, &r));
    write_str(p, "out", &ws);
    RUN_UNTIL(loop, r.len == 2 && ws != NOT_CALLED);
    ASSERT_OK(ws);
    ASSERT(memcmp(r.data, "in", 2) == 0);
    read_exactly(sv[0], buf, 3, "");
    ASSERT(memcmp(buf, "out", 3) == 0);
    /* Closed: fd 0 is still open, still the same socket, still usable. */
    close_and_wait(loop, p);
    ASSERT(is_open(0));
    ASSERT(same_file(0, sharer));
    ASSERT_EQ(write(0, "after", 5), 5);
    read_exactly(sv[0], buf, 5, "");
    ASSERT(memcmp(buf, "after", 5) == 0);
    reader_free(&r);
    finish_loop(loop);
    close(sharer);
    close(sv[0]);
}

static void test_stdio_pipe_open_fd0(void) {
    run_in_child(scenario_pipe_fd0);
}

/* ---- uvs_pipe_open on fd 1: the write end of an anonymous pipe ---- */

static void scenario_pipe_fd1(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *p = NULL;
    int pp[2], sharer, ws;
    char buf[8];

    ASSERT_EQ(pipe(pp), 0);
    sharer = move_to(pp[1], 1);
    ASSERT_OK(uvs_pipe_new(loop, 0, &p));
    ASSERT_OK(uvs_pipe_open(p, 1));
    ASSERT_EQ(nonblocking(1), 1);
    ASSERT_EQ(nonblocking(sharer), 1);
    ASSERT_EQ(uvs_is_readable(p), 0);
    ASSERT_EQ(uvs_is_writable(p), 1);
    write_str(p, "stdout", &ws);
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_OK(ws);
    read_exactly(pp[0], buf, 6, "");
    ASSERT(memcmp(buf, "stdout", 6) == 0);
    close_and_wait(loop, p);
    ASSERT(is_open(1));
    ASSERT_EQ(write(1, "more", 4), 4);
    read_exactly(pp[0], buf, 4, "");
    ASSERT(memcmp(buf, "more", 4) == 0);
    finish_loop(loop);
    close(sharer);
    close(pp[0]);
}

static void test_stdio_pipe_open_fd1(void) {
    run_in_child(scenario_pipe_fd1);
}

/* ---- uvs_tcp_open on fd 0: a connected TCP socket ---- */

static void scenario_tcp_fd0(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *server = NULL, *t = NULL, *accepted = NULL;
    struct reader r, at_server;
    int port, fd, sharer, ws, ws2;

    memset(&r, 0, sizeof(r));
    memset(&at_server, 0, sizeof(at_server));
    port = make_server(loop, "127.0.0.1", &server, accept_into_cb, &accepted);
    fd = raw_connect(port);
    sharer = move_to(fd, 0);
    ASSERT_OK(uvs_tcp_new(loop, 0, &t));
    ASSERT_OK(uvs_tcp_open(t, 0));
    ASSERT_EQ(uvs_fileno(UVS_HANDLE(t)), 0);
    ASSERT_EQ(nonblocking(0), 1);
    ASSERT_EQ(nonblocking(sharer), 1);
    RUN_UNTIL(loop, accepted != NULL);
    ASSERT_OK(uvs_read_start(accepted, reader_cb, &at_server));
    ASSERT_OK(uvs_read_start(t, reader_cb, &r));
    write_str(t, "tcp on stdin", &ws);
    write_str(accepted, "reply", &ws2);
    RUN_UNTIL(loop, at_server.len == 12 && r.len == 5);
    ASSERT(memcmp(at_server.data, "tcp on stdin", 12) == 0);
    ASSERT(memcmp(r.data, "reply", 5) == 0);
    close_and_wait(loop, t);
    /* fd 0 stays open (and sharer too): the server sees no EOF yet. */
    ASSERT(is_open(0));
    ASSERT(same_file(0, sharer));
    run_for(loop, 20);
    ASSERT_EQ(at_server.eofs, 0);
    ASSERT_EQ(write(0, "!", 1), 1);
    RUN_UNTIL(loop, at_server.len == 13);
    /* Closing the last descriptors ends the connection. */
    close(0);
    close(sharer);
    RUN_UNTIL(loop, at_server.eofs == 1);
    reader_free(&r);
    reader_free(&at_server);
    finish_loop(loop);
}

static void test_stdio_tcp_open_fd0(void) {
    run_in_child(scenario_tcp_fd0);
}

/* ---- uvs_tty_new on fd 0 and fd 1: the slave of a pseudo-terminal ---- */

static void scenario_tty_fd0(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *t = NULL;
    struct reader r;
    int master, slave, sharer;

    memset(&r, 0, sizeof(r));
    open_pty_or_skip(&master, &slave);
    sharer = move_to(slave, 0);
    ASSERT_OK(uvs_tty_new(loop, 0, 1, &t));
    ASSERT_EQ(uvs_is_readable(t), 1);
    /* The terminal was reopened: the original description stays blocking. */
    ASSERT_EQ(nonblocking(sharer), 0);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_RAW));
    ASSERT_OK(uvs_read_start(t, reader_cb, &r));
    ASSERT_EQ(write(master, "key", 3), 3);
    RUN_UNTIL(loop, r.len == 3);
    ASSERT(memcmp(r.data, "key", 3) == 0);
    ASSERT_OK(uvs_tty_set_mode(t, UVS_TTY_MODE_NORMAL));
    close_and_wait(loop, t);
    ASSERT(is_open(0));
    ASSERT(isatty(0));
    ASSERT(same_file(0, sharer));
    ASSERT_EQ(nonblocking(sharer), 0);
    reader_free(&r);
    finish_loop(loop);
    close(sharer);
    close(master);
}

static void test_stdio_tty_new_fd0(void) {
    run_in_child(scenario_tty_fd0);
}

static void scenario_tty_fd1(void) {
    uvs_loop_t *loop = make_loop();
    uvs_stream_t *t = NULL;
    int master, slave, sharer, ws;
    char buf[8];

    open_pty_or_skip(&master, &slave);
    sharer = move_to(slave, 1);
    ASSERT_OK(uvs_tty_new(loop, 1, 0, &t));
    ASSERT_EQ(uvs_is_readable(t), 0);
    ASSERT_EQ(uvs_is_writable(t), 1);
    ASSERT_EQ(nonblocking(sharer), 0);
    write_str(t, "shown", &ws);
    RUN_UNTIL(loop, ws != NOT_CALLED);
    ASSERT_OK(ws);
    read_exactly(master, buf, 5, "");
    ASSERT(memcmp(buf, "shown", 5) == 0);
    close_and_wait(loop, t);
    ASSERT(is_open(1));
    ASSERT(isatty(1));
    ASSERT_EQ(nonblocking(sharer), 0);
    finish_loop(loop);
    close(sharer);
    close(master);
}

static void test_stdio_tty_new_fd1(void) {
    run_in_child(scenario_tty_fd1);
}

const struct uvs_test tests_stdio[] = {
    {"stdio_pipe_open_fd0", test_stdio_pipe_open_fd0},
    {"stdio_pipe_open_fd1", test_stdio_pipe_open_fd1},
    {"stdio_tcp_open_fd0", test_stdio_tcp_open_fd0},
    {"stdio_tty_new_fd0", test_stdio_tty_new_fd0},
    {"stdio_tty_new_fd1", test_stdio_tty_new_fd1},
    {0, 0},
};
