/*
 * scenarios_tty.c — terminals: a pseudo-terminal (openpty) driven from its master side,
 * and descriptors that are not terminals.
 */
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "conf_ops.h"

/* openpty with both ends close-on-exec; traces "openpty failed" and returns 0 on failure. */
static int open_pty(int *master, int *slave) {
    if (openpty(master, slave, NULL, NULL, NULL) != 0) {
        tr("openpty failed");
        return 0;
    }
    fcntl(*master, F_SETFD, FD_CLOEXEC);
    fcntl(*slave, F_SETFD, FD_CLOEXEC);
    return 1;
}

static cf_h *tty(cf_loop *loop, const char *label, int fd, int readable) {
    cf_h *h = NULL;
    int rc = O->tty_new(loop, label, fd, readable, &h);
    tr("tty_new(%s, readable=%d) -> %s", label, readable, cf_err_name(rc));
    return rc == 0 ? h : NULL;
}

static struct {
    cf_h *out;
} pty;

static void pty_read_cb(const cf_event *ev) {
    cf_trace_cb(ev);
    if (ev->status != 0) return;
    tr_rc("read_stop", ev->h, O->read_stop(ev->h));
    cf_write_str(pty.out, "pong\n", "pong");
}

/* A pty: winsize set with TIOCSWINSZ is read back; raw mode, a read from the master's
 * input, a write that the master reads (with the terminal's \n -> \r\n), normal mode. */
static void s_tty_pty(cf_loop *loop) {
    int master, slave;
    if (!open_pty(&master, &slave)) return;
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_col = 100;
    ws.ws_row = 40;
    ioctl(master, TIOCSWINSZ, &ws);
    int out_fd = fcntl(slave, F_DUPFD_CLOEXEC, 3);
    cf_h *in = tty(loop, "tty-in", slave, 1);
    pty.out = tty(loop, "tty-out", out_fd, 0);
    if (in == NULL || pty.out == NULL) return;
    tr_flags(in);
    tr_writable(pty.out); /* its readability: tty_output_not_readable */
    int w = 0, h = 0;
    tr_rc("winsize", in, O->tty_winsize(in, &w, &h));
    tr("winsize %dx%d", w, h);
    tr_rc("set_mode raw", in, O->tty_set_mode(in, CF_TTY_RAW));
    if (write(master, "ping", 4) != 4) tr("master write failed");
    tr_rc("read_start", in, O->read_start(in, pty_read_cb, NULL));
    cf_run(loop);
    cf_peer_expect(master, 6, 0, "master");
    tr_rc("set_mode normal", in, O->tty_set_mode(in, CF_TTY_NORMAL));
    cf_close_run(loop, in);
    tr_rc("close", pty.out, O->close(pty.out, cf_trace_cb, NULL));
    cf_run(loop);
    close(master);
}

/* A TTY made for output (readable 0) on a pty: is it readable, can it read? */
static void s_tty_output_not_readable(cf_loop *loop) {
    int master, slave;
    if (!open_pty(&master, &slave)) return;
    cf_h *out = tty(loop, "tty-out", slave, 0);
    if (out == NULL) return;
    tr_flags(out);
    tr_rc("read_start", out, O->read_start(out, cf_trace_cb, NULL));
    cf_close_run(loop, out);
    close(master);
}

/* Who owns the descriptor: is the fd still open once the TTY handle has closed? */
static void s_tty_close_keeps_fd(cf_loop *loop) {
    int master, slave;
    if (!open_pty(&master, &slave)) return;
    cf_h *t = tty(loop, "tty", slave, 0);
    if (t == NULL) return;
    tr("fileno(tty) is the fd given: %s", O->fileno(t) == slave ? "yes" : "no");
    cf_close_run(loop, t);
    int open_after = fcntl(slave, F_GETFD) >= 0;
    tr("fd still open after the close callback: %s", open_after ? "yes" : "no");
    if (open_after) close(slave);
    close(master);
}

/* tty_new on a regular file and on /dev/null. */
static void s_tty_new_file_devnull(cf_loop *loop) {
    int f = open(cf_path("regular-file"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    cf_h *a = tty(loop, "file", f, 0);
    int n = open("/dev/null", O_RDWR | O_CLOEXEC);
    cf_h *b = tty(loop, "devnull", n, 0);
    cf_close_quiet(a);
    cf_close_quiet(b);
    cf_run(loop);
    if (a == NULL) close(f);
    if (b == NULL) close(n);
}

/* tty_new on a pipe and on a socket. */
static void s_tty_new_pipe_socket(cf_loop *loop) {
    int p[2], sp[2];
    if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) abort();
    cf_h *a = tty(loop, "pipe", p[1], 0);
    if (a) {
        int w = 0, h = 0;
        tr_rc("winsize", a, O->tty_winsize(a, &w, &h));
        tr_rc("set_mode raw", a, O->tty_set_mode(a, CF_TTY_RAW));
    }
    cf_h *b = tty(loop, "socket", sp[0], 0);
    if (b) {
        int w = 0, h = 0;
        tr_rc("winsize", b, O->tty_winsize(b, &w, &h));
    }
    cf_close_quiet(a);
    cf_close_quiet(b);
    cf_run(loop);
    if (a == NULL) close(p[1]);
    if (b == NULL) close(sp[0]);
    close(p[0]);
    close(sp[1]);
}

const cf_scenario cf_scenarios_tty[] = {
    {"tty_pty", s_tty_pty},
    {"tty_output_not_readable", s_tty_output_not_readable},
    {"tty_close_keeps_fd", s_tty_close_keeps_fd},
    {"tty_new_file_devnull", s_tty_new_file_devnull},
    {"tty_new_pipe_socket", s_tty_new_pipe_socket},
    {NULL, NULL},
};
