/*
 * memory_watermarks.c — the write watermarks keep memory bounded.
 *
 *   memory_watermarks [--mib N] [--bound-mib B] [--pause-ms P] [--no-contrast]
 *
 * Sends N MiB (default 256) over a loopback TCP connection inside one process and loop,
 * to a reader that reads slowly: after every 64 KiB it stops reading (uvs_read_stop)
 * and resumes from a P ms timer (default 1), so the run takes a few seconds. The socket
 * buffers are set to 64 KiB (--socket-buffer; 0 keeps the kernel's, which grow to
 * megabytes on loopback), so the backlog stays in the library and the producer spends
 * the run stopping and resuming (about 1800 times for 256 MiB).
 *
 *  1. Bounded case: the producer respects the watermarks (the defaults, 64 KiB high /
 *     16 KiB low). It writes 64 KiB chunks while uvs_is_write_blocked() is 0, stops as
 *     soon as it is 1, and resumes when the writability callback reports 1. The process's
 *     peak RSS may grow by at most B MiB (default 16) during the transfer.
 *  2. Contrast case (unless --no-contrast): the same N MiB written in one go, ignoring
 *     the watermarks (every chunk is queued before the loop runs), to a reader that does
 *     not pause (the peak is reached while queueing, before anything is read). Its peak
 *     growth is printed and must exceed the bound, which shows that the bound measures
 *     something.
 *
 * Both cases check that every byte arrived intact and in order: the reader regenerates
 * the expected stream (a deterministic pseudo-random sequence) and compares, and both
 * sides compute a checksum; the stream must end (EOF, after the sender's uvs_shutdown)
 * at exactly N MiB.
 *
 * Peak RSS: VmHWM from /proc/self/status, reset with /proc/self/clear_refs before each
 * case (Linux); where the reset is refused the peak since start is used, which can only
 * overstate the growth. (getrusage's ru_maxrss cannot be reset, so it would hide the
 * second case's peak behind the first's, and is not used.)
 *
 * Stalls: a watchdog fails the run if nothing arrives for 5 s, with the producer's and
 * the stream's state, so a missing writability callback is reported rather than hung
 * on; each case also has a 60 s deadline.
 *
 * Last line on success:
 *   memory: peak RSS growth X MiB for N MiB through watermarks (bound B MiB) passed
 * Exit status 0 on success, 1 on failure, 2 for bad arguments.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swiftuvstream.h>

#define CHUNK (64u * 1024u)
#define READ_PAUSE_EVERY (64u * 1024u)
/* SO_SNDBUF of the sender and SO_RCVBUF of the reader in the bounded case: small, so the
 * kernel does not absorb the backlog and the producer really spends the run blocked. */
#define SOCKET_BUFFER (64 * 1024)
#define STALL_MS 5000
#define DEADLINE_MS 60000

/* ------------------------------------------------------------------------ */
/* Failing and measuring                                                     */
/* ------------------------------------------------------------------------ */

static void fail(const char *fmt, const char *detail) {
    printf("memory: FAIL: ");
    printf(fmt, detail);
    printf("\n");
    fflush(stdout);
    exit(1);
}

static void check(int r, const char *what) {
    if (r < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s: %s (%s)", what, uvs_strerror(r), uvs_err_name(r));
        fail("%s", msg);
    }
}

/* A "VmXXX:   1234 kB" line of /proc/self/status, in KiB (-1 if unavailable). */
static long status_kib(const char *key) {
    char line[256];
    long value = -1;
    size_t keylen = strlen(key);
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, keylen) == 0 && line[keylen] == ':') {
            value = strtol(line + keylen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

/* Resets VmHWM to the current RSS; 1 if the kernel allowed it. */
static int reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    int ok;

    if (f == NULL)
        return 0;
    ok = fputs("5", f) >= 0;
    ok = (fclose(f) == 0) && ok;
    return ok;
}

/* ------------------------------------------------------------------------ */
/* The byte stream: word k is splitmix64(k); bytes little-endian              */
/* ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* The stream's bytes [offset, offset + len) into out. */
static void fill_stream(unsigned char *out, uint64_t offset, size_t len) {
    while (len > 0) {
        uint64_t word = splitmix64(offset / 8);
        unsigned shift = (unsigned)(offset % 8);
        while (shift < 8 && len > 0) {
            *out++ = (unsigned char)(word >> (8 * shift));
            shift++;
            offset++;
            len--;
        }
    }
}

/* FNV-1a (64-bit) over the bytes: order-sensitive, and the same whatever the split. */
static uint64_t checksum_update(uint64_t h, const unsigned char *p, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}
#define CHECKSUM_INIT 0xCBF29CE484222325ull

/* ------------------------------------------------------------------------ */
/* One transfer                                                              */
/* ------------------------------------------------------------------------ */

typedef struct {
    int respect_watermarks; /* 1: bounded producer; 0: everything at once */
    int slow_reader;
    uint64_t total;
    unsigned pause_ms;
    int socket_buffer; /* SO_SNDBUF / SO_RCVBUF, 0: the kernel's */

    uvs_loop_t *loop;
    uvs_stream_t *server, *writer, *reader;
    uvs_timer_t *resume, *watchdog;

    /* producer */
    uint64_t produced;
    int waiting_writable;         /* stopped on uvs_is_write_blocked() == 1 */
    unsigned long blocked_stops;  /* times it stopped so */
    unsigned long cb_blocked, cb_writable; /* writability callbacks: 0 / 1 */
    size_t max_queue;             /* largest uvs_write_queue_size() seen after a write */
    uint64_t send_sum;
    int shutdown_done;

    /* reader */
    uint64_t received;
    uint64_t since_pause;
    unsigned long pauses;
    uint64_t recv_sum;
    int eof;

    /* watchdog */
    uint64_t last_received;
    uint64_t last_progress_ms;
    uint64_t started_ms;
    int connected;
    int finished;
} transfer_t;

static unsigned char chunk[CHUNK];
static unsigned char expect[65536 * 4];

static void finish(transfer_t *t);

static void produce(transfer_t *t) {
    while (t->produced < t->total) {
        size_t n = t->total - t->produced < CHUNK ? (size_t)(t->total - t->produced) : CHUNK;
        uvs_buf_t buf;
        size_t queued;

        if (t->respect_watermarks && uvs_is_write_blocked(t->writer) == 1) {
            t->waiting_writable = 1;
            t->blocked_stops++;
            return;
        }
        fill_stream(chunk, t->produced, n);
        t->send_sum = checksum_update(t->send_sum, chunk, n);
        buf.base = chunk; /* reused at once: the library copies what it keeps */
        buf.len = n;
        check(uvs_write(t->writer, &buf, 1, NULL, NULL), "write");
        t->produced += n;
        queued = uvs_write_queue_size(t->writer);
        if (queued > t->max_queue)
            t->max_queue = queued;
    }
    /* Everything is queued: end the stream after it. */
    check(uvs_shutdown(t->writer, NULL, NULL), "shutdown");
    t->shutdown_done = 1;
}

static void on_writability(uvs_stream_t *stream, int writable, void *user_data) {
    transfer_t *t = user_data;

    (void)stream;
    if (!writable) {
        t->cb_blocked++;
        return;
    }
    t->cb_writable++;
    if (t->waiting_writable) {
        t->waiting_writable = 0;
        produce(t);
    }
}

static void on_read(uvs_stream_t *stream, int status, const char *data, size_t len,
                    void *user_data);

static void on_resume(uvs_timer_t *timer, void *user_data) {
    transfer_t *t = user_data;

    (void)timer;
    check(uvs_read_start(t->reader, on_read, t), "read_start");
}

static void on_read(uvs_stream_t *stream, int status, const char *data, size_t len,
                    void *user_data) {
    transfer_t *t = user_data;
    size_t done = 0;

    if (status == UVS_EOF) {
        t->eof = 1;
        finish(t);
        return;
    }
    if (status < 0)
        check(status, "read");
    if (t->received + len > t->total)
        fail("%s", "more bytes arrived than were sent");
    while (done < len) {
        size_t n = len - done < sizeof(expect) ? len - done : sizeof(expect);
        fill_stream(expect, t->received + done, n);
        if (memcmp(expect, data + done, n) != 0) {
            char msg[128];
            snprintf(msg, sizeof(msg), "corrupt data near offset %llu",
                     (unsigned long long)(t->received + done));
            fail("%s", msg);
        }
        done += n;
    }
    t->recv_sum = checksum_update(t->recv_sum, (const unsigned char *)data, len);
    t->received += len;
    if (!t->slow_reader)
        return;
    t->since_pause += len;
    if (t->since_pause >= READ_PAUSE_EVERY) {
        /* Slow reader: stop, resume from a timer. */
        t->since_pause = 0;
        t->pauses++;
        check(uvs_read_stop(stream), "read_stop");
        check(uvs_timer_start(t->resume, t->pause_ms, 0, on_resume, t), "timer");
    }
}

static void describe(transfer_t *t, char *msg, size_t size) {
    snprintf(msg, size,
             "produced %llu, received %llu of %llu; producer %s; uvs_is_write_blocked %d, "
             "write queue %zu bytes; stopped on blocked %lu times, writability callbacks "
             "0:%lu 1:%lu",
             (unsigned long long)t->produced, (unsigned long long)t->received,
             (unsigned long long)t->total,
             t->waiting_writable ? "waiting for the writability callback" : "not waiting",
             uvs_is_write_blocked(t->writer), uvs_write_queue_size(t->writer), t->blocked_stops,
             t->cb_blocked, t->cb_writable);
}

static void on_watchdog(uvs_timer_t *timer, void *user_data) {
    transfer_t *t = user_data;
    uint64_t now = uvs_loop_now(t->loop);
    char msg[512], full[700];

    (void)timer;
    if (t->received != t->last_received) {
        t->last_received = t->received;
        t->last_progress_ms = now;
    }
    if (now - t->last_progress_ms >= STALL_MS) {
        describe(t, msg, sizeof(msg));
        snprintf(full, sizeof(full), "stalled: nothing arrived for %d ms: %s%s", STALL_MS, msg,
                 t->waiting_writable && uvs_is_write_blocked(t->writer) == 0
                     ? " -- the queue fell below the low watermark but no writability "
                       "callback came (library bug)"
                     : "");
        fail("%s", full);
    }
    if (now - t->started_ms >= DEADLINE_MS) {
        describe(t, msg, sizeof(msg));
        snprintf(full, sizeof(full), "no end within %d ms: %s", DEADLINE_MS, msg);
        fail("%s", full);
    }
}

static void finish(transfer_t *t) {
    if (t->finished)
        return;
    t->finished = 1;
    uvs_loop_close_all(t->loop, NULL, NULL);
}

static void on_connection(uvs_stream_t *server, int status, void *user_data) {
    transfer_t *t = user_data;

    check(status, "listen");
    check(uvs_tcp_new(t->loop, 0, &t->reader), "tcp_new");
    check(uvs_accept(server, t->reader), "accept");
    check(uvs_read_start(t->reader, on_read, t), "read_start");
    uvs_close(UVS_HANDLE(server), NULL, NULL);
}

static void on_connect(uvs_stream_t *stream, int status, void *user_data) {
    transfer_t *t = user_data;

    (void)stream;
    check(status, "connect");
    t->connected = 1;
}

/* Runs one transfer; returns the peak RSS growth in KiB. */
static long run_transfer(transfer_t *t, const char *name, double *seconds) {
    char ip[UVS_IP_MAX];
    int port = 0, peak_reset;
    long before_rss, peak;
    uint64_t start_ms;

    check(uvs_loop_new(&t->loop), "loop_new");
    check(uvs_tcp_new(t->loop, 0, &t->server), "tcp_new");
    check(uvs_tcp_bind(t->server, "127.0.0.1", 0, 0), "bind");
    check(uvs_listen(t->server, 1, on_connection, t), "listen");
    check(uvs_tcp_sockname(t->server, ip, sizeof(ip), &port, NULL), "sockname");
    check(uvs_tcp_new(t->loop, 0, &t->writer), "tcp_new");
    check(uvs_tcp_connect(t->writer, "127.0.0.1", port, on_connect, t), "connect");
    check(uvs_timer_new(t->loop, &t->resume), "timer_new");
    check(uvs_timer_new(t->loop, &t->watchdog), "timer_new");
    /* Connected and accepted before measuring. */
    while (t->reader == NULL || !t->connected)
        check(uvs_loop_run(t->loop, UVS_RUN_ONCE), "run");
    check(uvs_on_writability_changed(t->writer, on_writability, t), "on_writability_changed");
    if (t->socket_buffer > 0) {
        check(uvs_set_send_buffer_size(UVS_HANDLE(t->writer), t->socket_buffer), "sndbuf");
        check(uvs_set_receive_buffer_size(UVS_HANDLE(t->reader), t->socket_buffer), "rcvbuf");
    }
    t->send_sum = t->recv_sum = CHECKSUM_INIT;

    peak_reset = reset_peak();
    before_rss = status_kib(peak_reset ? "VmRSS" : "VmHWM");
    check(uvs_loop_update_time(t->loop), "update_time");
    start_ms = t->started_ms = t->last_progress_ms = uvs_loop_now(t->loop);
    check(uvs_timer_start(t->watchdog, 250, 250, on_watchdog, t), "timer");

    produce(t);
    check(uvs_loop_run(t->loop, UVS_RUN_DEFAULT), "run");

    peak = status_kib("VmHWM");
    check(uvs_loop_update_time(t->loop), "update_time");
    *seconds = (double)(uvs_loop_now(t->loop) - start_ms) / 1000.0;

    if (!t->eof || t->received != t->total || !t->shutdown_done)
        fail("%s", "the stream did not end exactly after every byte");
    if (t->send_sum != t->recv_sum)
        fail("%s", "checksums differ");
    printf("memory: %s: %llu MiB in %.2f s, checksum %016llx ok; peak RSS %ld KiB, "
           "was %ld KiB (%s)\n",
           name, (unsigned long long)(t->total >> 20), *seconds,
           (unsigned long long)t->recv_sum, peak, before_rss,
           peak_reset ? "VmHWM reset before the case" : "VmHWM could not be reset");

    uvs_release(UVS_HANDLE(t->server));
    uvs_release(UVS_HANDLE(t->writer));
    uvs_release(UVS_HANDLE(t->reader));
    uvs_release(UVS_HANDLE(t->resume));
    uvs_release(UVS_HANDLE(t->watchdog));
    check(uvs_loop_close(t->loop), "loop_close");
    uvs_loop_release(t->loop);
    if (peak < 0 || before_rss < 0)
        fail("%s", "cannot read VmHWM/VmRSS from /proc/self/status");
    return peak > before_rss ? peak - before_rss : 0;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

static void usage(FILE *out) {
    fprintf(out, "usage: memory_watermarks [--mib N] [--bound-mib B] [--pause-ms P]\n"
                 "                         [--socket-buffer BYTES] [--no-contrast]\n"
                 "  Sends N MiB (default 256) to a slow reader through the write watermarks\n"
                 "  and checks that peak RSS grows by at most B MiB (default 16).\n");
}

static long number_arg(int argc, char **argv, int *i, long min, long max) {
    char *end;
    long value;

    if (*i + 1 >= argc) {
        usage(stderr);
        exit(2);
    }
    value = strtol(argv[++*i], &end, 10);
    if (*end != '\0' || value < min || value > max) {
        usage(stderr);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv) {
    long mib = 256, bound_mib = 16, pause_ms = 1, socket_buffer = SOCKET_BUFFER;
    long growth, contrast_growth;
    int contrast = 1, i;
    transfer_t t;
    double seconds;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--mib") == 0) {
            mib = number_arg(argc, argv, &i, 1, 4096);
        } else if (strcmp(argv[i], "--bound-mib") == 0) {
            bound_mib = number_arg(argc, argv, &i, 1, 4096);
        } else if (strcmp(argv[i], "--pause-ms") == 0) {
            pause_ms = number_arg(argc, argv, &i, 0, 1000);
        } else if (strcmp(argv[i], "--socket-buffer") == 0) {
            socket_buffer = number_arg(argc, argv, &i, 0, 64L << 20);
        } else if (strcmp(argv[i], "--no-contrast") == 0) {
            contrast = 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    memset(&t, 0, sizeof(t));
    t.respect_watermarks = 1;
    t.slow_reader = 1;
    t.total = (uint64_t)mib << 20;
    t.pause_ms = (unsigned)pause_ms;
    t.socket_buffer = (int)socket_buffer;
    growth = run_transfer(&t, "through watermarks", &seconds);
    printf("memory: through watermarks: peak RSS growth %.1f MiB (bound %ld MiB); largest "
           "write queue %zu bytes; producer stopped %lu times; writability callbacks "
           "0:%lu 1:%lu; reader paused %lu times\n",
           growth / 1024.0, bound_mib, t.max_queue, t.blocked_stops, t.cb_blocked,
           t.cb_writable, t.pauses);
    if (growth > bound_mib * 1024) {
        char msg[128];
        snprintf(msg, sizeof(msg), "peak RSS grew by %.1f MiB, more than the %ld MiB bound",
                 growth / 1024.0, bound_mib);
        fail("%s", msg);
    }

    if (contrast) {
        memset(&t, 0, sizeof(t));
        t.respect_watermarks = 0;
        t.slow_reader = 0;
        t.total = (uint64_t)mib << 20;
        contrast_growth = run_transfer(&t, "ignoring watermarks", &seconds);
        printf("memory: ignoring watermarks: peak RSS growth %.1f MiB (%.0fx the bounded "
               "case); largest write queue %zu bytes\n",
               contrast_growth / 1024.0, growth > 0 ? (double)contrast_growth / growth : 0.0,
               t.max_queue);
        if (contrast_growth <= bound_mib * 1024) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "writing %ld MiB at once grew the peak RSS by only %.1f MiB: the %ld MiB "
                     "bound does not show anything",
                     mib, contrast_growth / 1024.0, bound_mib);
            fail("%s", msg);
        }
    }

    printf("memory: peak RSS growth %.1f MiB for %ld MiB through watermarks (bound %ld MiB) "
           "passed\n",
           growth / 1024.0, mib, bound_mib);
    return 0;
}
