/*
 * writability_repro.c — regression test for a lost writability callback.
 *
 *   writability_repro [CHUNK_BYTES]      (default 100000)
 *
 * A producer follows the header's flow-control contract to the letter: it writes chunks
 * while uvs_is_write_blocked() is 0, stops as soon as it reads 1, and resumes only when
 * the writability callback reports 1. The peer is a child process that reads the other
 * end of a socket pair as fast as it can.
 *
 * Every stop on uvs_is_write_blocked() == 1 must be followed by the callback with 1. The
 * bug this guards against: a write raised the queue above the high watermark, the queue
 * drained before the loop reported the rise, and neither callback came, so the producer
 * waited forever. The library now reports every crossing, even one undone before the
 * loop could report it.
 *
 * Exit: 0 if no callback was lost within 8 GiB, 3 when one was, 1 on errors.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <swiftuvstream.h>

#define LIMIT (8ull << 30)

static uvs_stream_t *stream;
static char chunk[1 << 20];
static size_t chunk_size = 100000;
static int waiting, idle_ticks;
static unsigned long long sent, stops, cb_blocked, cb_writable;
static pid_t reader;

static void finish(int status, const char *what) {
    printf("writability_repro: %s: sent %llu bytes; stopped on uvs_is_write_blocked() == 1 "
           "%llu times; callbacks 0:%llu 1:%llu; now uvs_is_write_blocked() %d, write "
           "queue %zu bytes, producer %s\n",
           what, sent, stops, cb_blocked, cb_writable, uvs_is_write_blocked(stream),
           uvs_write_queue_size(stream), waiting ? "waiting for the callback" : "running");
    fflush(stdout);
    kill(reader, SIGKILL);
    waitpid(reader, NULL, 0);
    exit(status);
}

static void produce(void) {
    for (;;) {
        uvs_buf_t buf;
        buf.base = chunk;
        buf.len = chunk_size;
        if (uvs_write(stream, &buf, 1, NULL, NULL) < 0)
            finish(1, "write failed");
        sent += chunk_size;
        if (uvs_is_write_blocked(stream) == 1) {
            stops++;
            waiting = 1;
            return;
        }
    }
}

static void on_writability(uvs_stream_t *s, int writable, void *user_data) {
    (void)s;
    (void)user_data;
    if (!writable) {
        cb_blocked++;
        return;
    }
    cb_writable++;
    if (waiting) {
        waiting = 0;
        produce();
    }
}

static void on_tick(uvs_timer_t *timer, void *user_data) {
    (void)timer;
    (void)user_data;
    /* Waiting, yet not blocked: the callback that would resume us was lost. Three ticks
     * in a row (300 ms) rule out a report that is merely on its way. */
    if (waiting && uvs_is_write_blocked(stream) == 0 && uvs_write_queue_size(stream) == 0) {
        if (++idle_ticks >= 3)
            finish(3, "LOST WRITABILITY CALLBACK");
    } else {
        idle_ticks = 0;
    }
    if (sent >= LIMIT)
        finish(0, "no callback lost");
}

int main(int argc, char **argv) {
    uvs_loop_t *loop;
    uvs_timer_t *tick;
    int fds[2];

    if (argc > 1)
        chunk_size = (size_t)strtoul(argv[1], NULL, 10);
    if (chunk_size == 0 || chunk_size > sizeof(chunk)) {
        fprintf(stderr, "usage: writability_repro [CHUNK_BYTES (1..%zu)]\n", sizeof(chunk));
        return 1;
    }
    if (uvs_socketpair(fds) < 0)
        return 1;
    reader = fork();
    if (reader == 0) {
        static char buf[1 << 20];
        close(fds[0]);
        while (read(fds[1], buf, sizeof(buf)) > 0) {
        }
        _exit(0);
    }
    close(fds[1]);
    if (uvs_loop_new(&loop) < 0 || uvs_pipe_new(loop, 0, &stream) < 0 ||
        uvs_pipe_open(stream, fds[0]) < 0 ||
        uvs_on_writability_changed(stream, on_writability, NULL) < 0 ||
        uvs_timer_new(loop, &tick) < 0 || uvs_timer_start(tick, 100, 100, on_tick, NULL) < 0) {
        fprintf(stderr, "writability_repro: setup failed\n");
        return 1;
    }
    produce();
    uvs_loop_run(loop, UVS_RUN_DEFAULT);
    finish(1, "the loop ended");
    return 1;
}
