/*
 * tty_cat.c — a raw-mode terminal echo on libswiftuvstream.
 *
 *   tty_cat [--help]
 *
 * Opens standard input (fd 0) as a readable terminal and standard output (fd 1) as an
 * output terminal, switches the terminal to raw mode (byte by byte, no echo by the
 * terminal, no signal keys) and echoes every byte typed, a carriage return (the Enter
 * key) as CR LF. It prints the window size at start ("window 80x24") and again whenever
 * it changes (SIGWINCH). Ctrl-D, q or Ctrl-C (a plain byte in raw mode) quits; so does
 * SIGINT, SIGTERM or SIGHUP sent to it. Every way out restores the terminal's mode with
 * uvs_tty_reset_mode().
 *
 * Exit status: 0 after a quit key or a signal, 1 on errors (for example when fd 0 or 1
 * is not a terminal, or reading the terminal fails), 2 for bad arguments.
 *
 * What it shows:
 *   - uvs_tty_new / uvs_tty_set_mode / uvs_tty_get_winsize / uvs_tty_reset_mode,
 *   - a signal thread (sigwait) that hands SIGWINCH and the stop signals to the loop with
 *     uvs_loop_post(), the one thread-safe call,
 *   - restoring the terminal on every exit path (atexit as the safety net).
 *
 * Build: cc -std=c99 tty_cat.c -lswiftuvstream -lpthread -o tty_cat
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swiftuvstream.h>

#define CTRL_C 0x03
#define CTRL_D 0x04

static uvs_loop_t *loop;
static uvs_stream_t *tty_in, *tty_out;
static int quitting;
static int exit_status;

static void usage(FILE *out) {
    fprintf(out, "usage: tty_cat\n"
                 "  Echoes what is typed on the terminal (fd 0 and 1) in raw mode and\n"
                 "  reports the window size. Ctrl-D, q or Ctrl-C quits.\n");
}

/* The safety net: whatever way the process exits through exit(), the terminal gets its
 * mode back. (Calling it when the mode was never changed is harmless.) */
static void restore_terminal(void) {
    uvs_tty_reset_mode();
}

static void die(const char *what, int code) {
    restore_terminal();
    fprintf(stderr, "tty_cat: %s: %s\n", what, uvs_strerror(code));
    exit(1);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

static void on_write(uvs_stream_t *stream, int status, void *user_data) {
    (void)stream;
    (void)user_data;
    if (status < 0 && status != UVS_ECANCELED && !quitting) {
        fprintf(stderr, "\r\ntty_cat: writing the terminal: %s\r\n", uvs_strerror(status));
        exit_status = 1;
    }
}

static void say(const char *text, size_t len) {
    uvs_buf_t buf;
    int r;

    buf.base = text;
    buf.len = len;
    r = uvs_write(tty_out, &buf, 1, on_write, NULL);
    if (r < 0 && !quitting)
        die("writing the terminal", r);
}

static void report_window_size(void) {
    char line[64];
    int width = 0, height = 0, r;

    r = uvs_tty_get_winsize(tty_out, &width, &height);
    if (r < 0)
        snprintf(line, sizeof(line), "window size unknown (%s)\r\n", uvs_strerror(r));
    else
        snprintf(line, sizeof(line), "window %dx%d\r\n", width, height);
    say(line, strlen(line));
}

/* ------------------------------------------------------------------------ */
/* Quitting                                                                  */
/* ------------------------------------------------------------------------ */

/* The goodbye line is written: the terminal gets its mode back and every handle
 * closes; uvs_loop_run() then returns. */
static void on_goodbye_written(uvs_stream_t *stream, int status, void *user_data) {
    (void)stream;
    (void)status;
    (void)user_data;
    restore_terminal();
    uvs_loop_close_all(loop, NULL, NULL);
}

static void quit(const char *why) {
    static char text[96];
    uvs_buf_t buf;

    if (quitting)
        return;
    quitting = 1;
    uvs_read_stop(tty_in);
    snprintf(text, sizeof(text), "\r\ntty_cat: %s, bye\r\n", why);
    buf.base = text;
    buf.len = strlen(text);
    if (uvs_write(tty_out, &buf, 1, on_goodbye_written, NULL) < 0)
        on_goodbye_written(tty_out, 0, NULL);
}

/* ------------------------------------------------------------------------ */
/* Input                                                                     */
/* ------------------------------------------------------------------------ */

static void on_read(uvs_stream_t *stream, int status, const char *data, size_t len,
                    void *user_data) {
    char out[2 * 65536];
    size_t i, n = 0;
    const char *why = NULL;

    (void)stream;
    (void)user_data;
    if (status == UVS_EOF) {
        quit("end of input");
        return;
    }
    if (status < 0) {
        fprintf(stderr, "tty_cat: reading the terminal: %s\r\n", uvs_strerror(status));
        exit_status = 1;
        quit("input failed");
        return;
    }
    for (i = 0; i < len && why == NULL; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == CTRL_D)
            why = "Ctrl-D";
        else if (c == 'q')
            why = "q";
        else if (c == CTRL_C)
            why = "Ctrl-C";
        else if (c == '\r') {
            out[n++] = '\r';
            out[n++] = '\n';
        } else if (n < sizeof(out)) {
            out[n++] = (char)c;
        }
    }
    if (n > 0)
        say(out, n); /* copied by the library if the terminal does not take it at once */
    if (why != NULL)
        quit(why);
}

/* ------------------------------------------------------------------------ */
/* Signals                                                                   */
/* ------------------------------------------------------------------------ */

/* SIGWINCH and the stop signals are blocked in every thread and taken by sigwait() in a
 * thread of their own, which hands them to the loop's thread with uvs_loop_post(). */
static sigset_t handled_signals;
static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;
static int exiting; /* main() is done with the loop: the signal thread must not post */

static void on_post_winch(uvs_loop_t *l, void *user_data) {
    (void)l;
    (void)user_data;
    if (!quitting)
        report_window_size();
}

static void on_post_stop(uvs_loop_t *l, void *user_data) {
    (void)l;
    quit(user_data);
}

static void *signal_thread(void *arg) {
    (void)arg;
    for (;;) {
        int sig = 0, done;

        sigwait(&handled_signals, &sig);
        pthread_mutex_lock(&exit_lock);
        done = exiting;
        if (!done) {
            if (sig == SIGWINCH)
                uvs_loop_post(loop, on_post_winch, NULL);
            else
                uvs_loop_post(loop, on_post_stop,
                              sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM");
        }
        pthread_mutex_unlock(&exit_lock);
        if (done)
            return NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

/* Opens fd as a terminal, with a clear message when it is not one. */
static uvs_stream_t *open_tty(int fd, int readable, const char *name) {
    uvs_stream_t *tty = NULL;
    int r = uvs_tty_new(loop, fd, readable, &tty);

    if (r == UVS_EINVAL) {
        fprintf(stderr, "tty_cat: %s (fd %d) is not a terminal; run tty_cat in one\n", name, fd);
        exit(1);
    }
    if (r < 0) {
        char what[64];
        snprintf(what, sizeof(what), "opening %s (fd %d) as a terminal", name, fd);
        die(what, r);
    }
    return tty;
}

int main(int argc, char **argv) {
    static const char hello[] = "tty_cat: raw mode; type to echo, Ctrl-D or q quits\r\n";
    pthread_t signals;
    int r;

    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }

    /* Block the signals before any thread exists, so every thread inherits the mask. */
    sigemptyset(&handled_signals);
    sigaddset(&handled_signals, SIGWINCH);
    sigaddset(&handled_signals, SIGINT);
    sigaddset(&handled_signals, SIGTERM);
    sigaddset(&handled_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &handled_signals, NULL);

    if ((r = uvs_loop_new(&loop)) < 0)
        die("loop", r);
    tty_in = open_tty(0, 1, "standard input");
    tty_out = open_tty(1, 0, "standard output");

    atexit(restore_terminal);
    if ((r = uvs_tty_set_mode(tty_in, UVS_TTY_MODE_RAW)) < 0)
        die("raw mode", r);
    if ((r = uvs_read_start(tty_in, on_read, NULL)) < 0)
        die("reading the terminal", r);
    if (pthread_create(&signals, NULL, signal_thread, NULL) != 0) {
        restore_terminal();
        fprintf(stderr, "tty_cat: cannot start the signal thread\n");
        return 1;
    }
    say(hello, sizeof(hello) - 1);
    report_window_size();

    r = uvs_loop_run(loop, UVS_RUN_DEFAULT); /* until quit() closed both handles */

    pthread_mutex_lock(&exit_lock);
    exiting = 1;
    pthread_mutex_unlock(&exit_lock);
    pthread_kill(signals, SIGTERM); /* wake it if it still waits */
    pthread_join(signals, NULL);
    restore_terminal(); /* already done by quit(); a loop error ends up here too */
    if (r < 0)
        die("run", r);

    uvs_loop_close_all(loop, NULL, NULL);
    uvs_loop_run(loop, UVS_RUN_DEFAULT); /* close callbacks and late posted functions */
    uvs_release(UVS_HANDLE(tty_in));
    uvs_release(UVS_HANDLE(tty_out));
    if ((r = uvs_loop_close(loop)) < 0)
        die("loop close", r);
    uvs_loop_release(loop);
    return exit_status;
}
