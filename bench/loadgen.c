/*
 * loadgen.c — the load generator of the benchmark suite (libuv, one thread).
 *
 *   loadgen --mode MODE --port PORT [options]
 *
 * Modes (every server under test is an echo server):
 *   pingpong  C connections; each sends an S-byte message, waits for the whole echo, sends
 *             the next. Round trips/s, p50/p99 latency of a round trip.
 *   pump      C connections; each keeps writing S-byte chunks (at most --window bytes sent
 *             and not yet echoed, 256 KiB by default: it stays in the caches; 1 MiB and more
 *             made the figure jump between two modes) and reads the echo. MiB/s echoed back
 *             (one direction).
 *   batch     one connection; --count separate writes of S bytes (default 1,000,000 of 13),
 *             pipelined (at most --window bytes not yet echoed). Seconds until the last
 *             echoed byte arrived.
 *   churn     C clients; each connects, sends S bytes, reads the echo, closes, and starts
 *             over. Connections/s. TIME_WAIT is kept off the ports that are needed: every
 *             connection binds a source address rotated over 127.0.0.2 .. 127.0.0.(1+K)
 *             (--sources K, port chosen at connect time: IP_BIND_ADDRESS_NO_PORT), or
 *             --linger0 closes with SO_LINGER 0 (a reset: no TIME_WAIT at all).
 *   idle      opens C connections (source addresses rotated as in churn), sends one byte
 *             on each and waits for its echo, then prints "IDLE C" and holds them until
 *             stdin reaches EOF or the process is killed.
 *
 * Options:
 *   --host IP         server address (127.0.0.1)
 *   --conns C         connections (1)
 *   --size S          message / chunk size in bytes (64)
 *   --warmup SEC      unmeasured time before the window (1.0)
 *   --duration SEC    measured window (5.0)
 *   --count N         pingpong: stop after N measured round trips instead of a duration;
 *                     batch: the number of writes (1000000)
 *   --window BYTES    pump/batch: most bytes in flight (pump 256 KiB, batch 64 KiB)
 *   --server-pid PID  read the server's CPU time (utime+stime from /proc/PID/stat) at the
 *                     window's start and end: reports server CPU per operation
 *   --malloc-file F   the counters file of malloc_count.so in the server: reports heap
 *                     allocations per operation over the window
 *   --sources K       churn/idle: rotate over K source addresses (64; 0 = no bind)
 *   --linger0         churn: close with SO_LINGER 0
 *
 * Output: one line "RESULT {json}" on stdout. Exit status 0 on success, 1 on error (the
 * JSON then has "error").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { MODE_PINGPONG, MODE_PUMP, MODE_BATCH, MODE_CHURN, MODE_IDLE };

static struct {
    int mode;
    const char *host;
    int port;
    int conns;
    size_t size;
    double warmup, duration;
    long count;
    size_t window;
    int server_pid;
    const char *malloc_file;
    int sources;
    int linger0;
} opt = {MODE_PINGPONG, "127.0.0.1", 0, 1, 64, 1.0, 5.0, -1, 0, 0, NULL, 64, 0};

static uv_loop_t *loop;
static struct sockaddr_in server_addr;
static char *payload; /* what every message carries */

/* ------------------------------------------------------------------------ */
/* Measurement                                                              */
/* ------------------------------------------------------------------------ */

static int measuring;      /* inside the window */
static int finished;       /* the window is over: stop everything */
static uint64_t t_start, t_end;
static double cpu_start, cpu_end; /* server CPU seconds */
static uint64_t allocs_start, allocs_end, frees_start, frees_end;
static uint64_t ops;       /* round trips / connections / writes completed in the window */
static uint64_t bytes_rx;  /* bytes echoed back in the window */
static uint32_t *lat;      /* round-trip latencies (ns, capped) in the window */
static size_t nlat, caplat;
static char errbuf[256];
static int failed;

/* The server's utime+stime in seconds (all threads, from /proc/PID/stat), or -1. */
static double server_cpu(void) {
    char path[64], buf[1024];
    FILE *f;
    size_t n;
    char *p;
    unsigned long utime, stime;

    if (opt.server_pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%d/stat", opt.server_pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (p == NULL)
        return -1;
    /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* The malloc_count.so counters file: [0] allocations, [1] frees, ... (uint64_t each). */
static volatile uint64_t *malloc_counters;

static void open_malloc_file(void) {
    int fd;
    void *p;

    if (opt.malloc_file == NULL)
        return;
    fd = open(opt.malloc_file, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "loadgen: %s: %s\n", opt.malloc_file, strerror(errno));
        return;
    }
    p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p != MAP_FAILED)
        malloc_counters = p;
}

static void window_begin(void) {
    measuring = 1;
    cpu_start = server_cpu();
    if (malloc_counters != NULL) {
        allocs_start = malloc_counters[0];
        frees_start = malloc_counters[1];
    }
    t_start = uv_hrtime();
}

static void close_walk_cb(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void window_end(void) {
    if (finished)
        return;
    t_end = uv_hrtime();
    cpu_end = server_cpu();
    if (malloc_counters != NULL) {
        allocs_end = malloc_counters[0];
        frees_end = malloc_counters[1];
    }
    measuring = 0;
    finished = 1;
    uv_walk(loop, close_walk_cb, NULL);
}

static void fail(const char *what, int code) {
    if (!failed)
        snprintf(errbuf, sizeof(errbuf), "%s: %s", what, code ? uv_strerror(code) : "failed");
    failed = 1;
    if (!finished) {
        finished = 1;
        uv_walk(loop, close_walk_cb, NULL);
    }
}

static void record_latency(uint64_t ns) {
    if (nlat == caplat) {
        size_t ncap = caplat ? caplat * 2 : 1u << 16;
        uint32_t *n = realloc(lat, ncap * sizeof(*lat));
        if (n == NULL)
            return;
        lat = n;
        caplat = ncap;
    }
    lat[nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_us(double q) {
    size_t i;
    if (nlat == 0)
        return 0;
    i = (size_t)(q * (double)(nlat - 1) + 0.5);
    return lat[i] / 1000.0;
}

static uv_timer_t warmup_timer, window_timer;

static void on_window_timer(uv_timer_t *t) {
    (void)t;
    window_end();
}

static void on_warmup_timer(uv_timer_t *t) {
    (void)t;
    window_begin();
    if (opt.count <= 0 || opt.mode != MODE_PINGPONG)
        uv_timer_start(&window_timer, on_window_timer, (uint64_t)(opt.duration * 1000.0), 0);
}

/* Starts the warm-up; the window follows it. */
static void start_timers(void) {
    uv_timer_init(loop, &warmup_timer);
    uv_timer_init(loop, &window_timer);
    uv_timer_start(&warmup_timer, on_warmup_timer, (uint64_t)(opt.warmup * 1000.0), 0);
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

typedef struct conn_s {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req;
    int index;
    int connected;
    size_t expect;    /* pingpong/churn: echo bytes still to come */
    uint64_t sent_at; /* pingpong: when the message went out */
    uint64_t sent, received; /* pump/batch: bytes */
    long writes_done; /* batch: writes issued */
    int writing;      /* a queued uv_write is pending */
    char *rbuf;
} conn_t;

static conn_t *conns;
static unsigned source_next;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    conn_t *c = h->data;
    (void)suggested;
    buf->base = c->rbuf;
    buf->len = 65536;
}

/* Writes len bytes of the payload: uv_try_write first, a queued uv_write for the rest
 * (the payload is static, so nothing is copied). Returns 0 or a libuv error. */
static void on_write_done(uv_write_t *req, int status);

static int send_bytes(conn_t *c, size_t len) {
    uv_buf_t b = uv_buf_init(payload, (unsigned)len);
    int r;

    if (!c->writing) {
        r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (r == (int)len)
            return 0;
        if (r < 0 && r != UV_EAGAIN)
            return r;
        if (r > 0) {
            b.base += r;
            b.len -= (size_t)r;
        }
        c->writing = 1;
        return uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write_done);
    }
    /* A write is pending (rare: the socket buffer was full): queue behind it. */
    {
        uv_write_t *req = malloc(sizeof(*req));
        if (req == NULL)
            return UV_ENOMEM;
        req->data = req; /* marks a heap request */
        return uv_write(req, (uv_stream_t *)&c->tcp, &b, 1, on_write_done);
    }
}

static void pump_fill(conn_t *c);
static void batch_fill(conn_t *c);

static void on_write_done(uv_write_t *req, int status) {
    conn_t *c = req->handle->data;
    if (req->data == req)
        free(req);
    else
        c->writing = 0;
    if (status < 0) {
        if (status != UV_ECANCELED)
            fail("write", status);
        return;
    }
    if (finished)
        return;
    if (opt.mode == MODE_PUMP && !c->writing)
        pump_fill(c);
    else if (opt.mode == MODE_BATCH && !c->writing)
        batch_fill(c);
}

static void set_nodelay(conn_t *c) {
    uv_tcp_nodelay(&c->tcp, 1);
}

/* A TCP handle with a socket bound to the next rotated source address (port chosen by
 * connect), or a plain handle when --sources is 0. */
static int make_socket(conn_t *c) {
    int fd, one = 1, r;
    struct sockaddr_in src;

    if (opt.sources <= 0)
        return uv_tcp_init(loop, &c->tcp);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000002u + (source_next++ % (unsigned)opt.sources));
    if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    r = uv_tcp_init(loop, &c->tcp);
    if (r == 0)
        r = uv_tcp_open(&c->tcp, fd);
    if (r < 0)
        close(fd);
    return r;
}

/* --- pingpong ------------------------------------------------------------ */

static void pingpong_send(conn_t *c) {
    int r;
    c->expect = opt.size;
    c->sent_at = uv_hrtime();
    r = send_bytes(c, opt.size);
    if (r < 0)
        fail("write", r);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* --- pump / batch -------------------------------------------------------- */

static void pump_fill(conn_t *c) {
    while (!finished && !c->writing && c->sent - c->received + opt.size <= opt.window) {
        int r = send_bytes(c, opt.size);
        if (r < 0) {
            fail("write", r);
            return;
        }
        c->sent += opt.size;
    }
}

static void batch_fill(conn_t *c) {
    while (!finished && !c->writing && c->writes_done < opt.count &&
           c->sent - c->received + opt.size <= opt.window) {
        int r = send_bytes(c, opt.size);
        if (r < 0) {
            fail("write", r);
            return;
        }
        c->sent += opt.size;
        c->writes_done++;
    }
}

/* --- churn --------------------------------------------------------------- */

static void churn_start(conn_t *c);
static void on_connect(uv_connect_t *req, int status);

static void on_churn_closed(uv_handle_t *h) {
    conn_t *c = h->data;
    if (!finished)
        churn_start(c);
}

static void churn_done(conn_t *c) {
    if (measuring)
        ops++;
    if (opt.linger0) {
        struct linger l = {1, 0};
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    uv_close((uv_handle_t *)&c->tcp, on_churn_closed);
}

static void churn_start(conn_t *c) {
    int r = make_socket(c);
    if (r < 0) {
        fail("socket", r);
        return;
    }
    c->tcp.data = c;
    c->writing = 0;
    set_nodelay(c);
    r = uv_tcp_connect(&c->connect_req, &c->tcp, (struct sockaddr *)&server_addr, on_connect);
    if (r < 0)
        fail("connect", r);
}

/* --- idle ---------------------------------------------------------------- */

static int idle_started, idle_ready, idle_inflight;
static uv_pipe_t stdin_pipe;
static int stdin_open;

static void idle_start_more(void);

static void on_stdin_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    (void)s;
    (void)buf;
    if (n < 0)
        window_end(); /* EOF: the driver is done measuring */
}

static void on_stdin_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    static char b[256];
    (void)h;
    (void)suggested;
    buf->base = b;
    buf->len = sizeof(b);
}

static void idle_one_ready(void) {
    idle_ready++;
    idle_inflight--;
    if (idle_ready == opt.conns) {
        printf("IDLE %d\n", idle_ready);
        fflush(stdout);
        window_begin();
        if (uv_pipe_init(loop, &stdin_pipe, 0) == 0 && uv_pipe_open(&stdin_pipe, 0) == 0 &&
            uv_read_start((uv_stream_t *)&stdin_pipe, on_stdin_alloc, on_stdin_read) == 0)
            stdin_open = 1;
    } else {
        idle_start_more();
    }
}

static void idle_start_more(void) {
    while (idle_started < opt.conns && idle_inflight < 256) {
        conn_t *c = &conns[idle_started++];
        int r = make_socket(c);
        if (r < 0) {
            fail("socket", r);
            return;
        }
        c->tcp.data = c;
        idle_inflight++;
        r = uv_tcp_connect(&c->connect_req, &c->tcp, (struct sockaddr *)&server_addr, on_connect);
        if (r < 0) {
            fail("connect", r);
            return;
        }
    }
}

/* --- common -------------------------------------------------------------- */

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    conn_t *c = s->data;
    (void)buf;

    if (n < 0) {
        if (!finished)
            fail("read", (int)n);
        return;
    }
    if (n == 0)
        return;
    switch (opt.mode) {
    case MODE_PINGPONG:
        if ((size_t)n > c->expect) {
            fail("read: more echo than sent", 0);
            return;
        }
        c->expect -= (size_t)n;
        if (c->expect == 0) {
            if (measuring) {
                ops++;
                record_latency(uv_hrtime() - c->sent_at);
                if (opt.count > 0 && (long)ops >= opt.count) {
                    window_end();
                    return;
                }
            }
            pingpong_send(c);
        }
        break;
    case MODE_PUMP:
        c->received += (uint64_t)n;
        if (measuring)
            bytes_rx += (uint64_t)n;
        pump_fill(c);
        break;
    case MODE_BATCH:
        c->received += (uint64_t)n;
        bytes_rx += (uint64_t)n;
        if (c->received == (uint64_t)opt.count * opt.size) {
            ops = (uint64_t)opt.count;
            window_end();
            return;
        }
        batch_fill(c);
        break;
    case MODE_CHURN:
        if ((size_t)n > c->expect) {
            fail("read: more echo than sent", 0);
            return;
        }
        c->expect -= (size_t)n;
        if (c->expect == 0) {
            uv_read_stop(s);
            churn_done(c);
        }
        break;
    case MODE_IDLE:
        if (c->expect > 0) {
            c->expect = 0;
            idle_one_ready();
        }
        break;
    }
}

static void on_connect(uv_connect_t *req, int status) {
    conn_t *c = req->handle->data;
    int r;

    if (status < 0) {
        if (status != UV_ECANCELED && !finished)
            fail("connect", status);
        return;
    }
    if (finished)
        return;
    c->connected = 1;
    set_nodelay(c);
    r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (r < 0) {
        fail("read_start", r);
        return;
    }
    switch (opt.mode) {
    case MODE_PINGPONG:
        pingpong_send(c);
        break;
    case MODE_PUMP:
        pump_fill(c);
        break;
    case MODE_BATCH:
        window_begin();
        batch_fill(c);
        break;
    case MODE_CHURN:
        c->expect = opt.size;
        r = send_bytes(c, opt.size);
        if (r < 0)
            fail("write", r);
        break;
    case MODE_IDLE:
        c->expect = 1;
        r = send_bytes(c, 1);
        if (r < 0)
            fail("write", r);
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

static void usage(void) {
    fprintf(stderr,
            "usage: loadgen --mode pingpong|pump|batch|churn|idle --port PORT [--host IP]\n"
            "               [--conns C] [--size S] [--warmup SEC] [--duration SEC] [--count N]\n"
            "               [--window BYTES] [--server-pid PID] [--malloc-file F]\n"
            "               [--sources K] [--linger0]\n");
    exit(2);
}

static void parse(int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--linger0") == 0) {
            opt.linger0 = 1;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--mode") == 0) {
            if (strcmp(v, "pingpong") == 0) opt.mode = MODE_PINGPONG;
            else if (strcmp(v, "pump") == 0) opt.mode = MODE_PUMP;
            else if (strcmp(v, "batch") == 0) opt.mode = MODE_BATCH;
            else if (strcmp(v, "churn") == 0) opt.mode = MODE_CHURN;
            else if (strcmp(v, "idle") == 0) opt.mode = MODE_IDLE;
            else usage();
        } else if (strcmp(a, "--host") == 0) opt.host = v;
        else if (strcmp(a, "--port") == 0) opt.port = atoi(v);
        else if (strcmp(a, "--conns") == 0) opt.conns = atoi(v);
        else if (strcmp(a, "--size") == 0) opt.size = (size_t)strtoull(v, NULL, 10);
        else if (strcmp(a, "--warmup") == 0) opt.warmup = atof(v);
        else if (strcmp(a, "--duration") == 0) opt.duration = atof(v);
        else if (strcmp(a, "--count") == 0) opt.count = atol(v);
        else if (strcmp(a, "--window") == 0) opt.window = (size_t)strtoull(v, NULL, 10);
        else if (strcmp(a, "--server-pid") == 0) opt.server_pid = atoi(v);
        else if (strcmp(a, "--malloc-file") == 0) opt.malloc_file = v;
        else if (strcmp(a, "--sources") == 0) opt.sources = atoi(v);
        else usage();
    }
    if (opt.port <= 0 || opt.conns <= 0 || opt.size == 0 || opt.size > 65536)
        usage();
    if (opt.mode == MODE_BATCH) {
        opt.conns = 1;
        if (opt.count <= 0)
            opt.count = 1000000;
        if (opt.window == 0)
            opt.window = 65536;
    }
    if (opt.mode == MODE_PUMP && opt.window == 0)
        opt.window = 256u * 1024u;
    if (opt.mode == MODE_PUMP && opt.window < opt.size)
        opt.window = opt.size;
}

int main(int argc, char **argv) {
    int i, r;
    double secs, cpu = -1;
    const char *mode_names[] = {"pingpong", "pump", "batch", "churn", "idle"};

    parse(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    if ((r = uv_ip4_addr(opt.host, opt.port, &server_addr)) < 0) {
        fprintf(stderr, "loadgen: bad address %s\n", opt.host);
        return 2;
    }
    payload = malloc(65536);
    for (i = 0; i < 65536; i++)
        payload[i] = (char)('a' + i % 26);
    conns = calloc((size_t)opt.conns, sizeof(*conns));
    for (i = 0; i < opt.conns; i++) {
        conns[i].index = i;
        conns[i].rbuf = opt.mode == MODE_IDLE ? NULL : malloc(65536);
    }
    if (opt.mode == MODE_IDLE) {
        static char shared_rbuf[65536];
        for (i = 0; i < opt.conns; i++)
            conns[i].rbuf = shared_rbuf;
    }
    open_malloc_file();

    switch (opt.mode) {
    case MODE_CHURN:
        start_timers();
        for (i = 0; i < opt.conns && !finished; i++)
            churn_start(&conns[i]);
        break;
    case MODE_IDLE:
        idle_start_more();
        break;
    case MODE_BATCH:
        for (i = 0; i < opt.conns; i++) {
            conns[i].tcp.data = &conns[i];
            uv_tcp_init(loop, &conns[i].tcp);
            r = uv_tcp_connect(&conns[i].connect_req, &conns[i].tcp,
                               (struct sockaddr *)&server_addr, on_connect);
            if (r < 0)
                fail("connect", r);
        }
        break;
    default:
        start_timers();
        for (i = 0; i < opt.conns; i++) {
            conns[i].tcp.data = &conns[i];
            uv_tcp_init(loop, &conns[i].tcp);
            r = uv_tcp_connect(&conns[i].connect_req, &conns[i].tcp,
                               (struct sockaddr *)&server_addr, on_connect);
            if (r < 0)
                fail("connect", r);
        }
        break;
    }
    uv_run(loop, UV_RUN_DEFAULT);

    if (t_end == 0 && !failed) {
        failed = 1;
        snprintf(errbuf, sizeof(errbuf), "the run ended before its window did");
    }
    secs = t_end > t_start ? (double)(t_end - t_start) / 1e9 : 0;
    if (opt.mode == MODE_PUMP)
        ops = bytes_rx / opt.size; /* chunks echoed: server CPU per S-byte chunk */
    if (cpu_start >= 0 && cpu_end >= 0)
        cpu = cpu_end - cpu_start;
    qsort(lat, nlat, sizeof(*lat), cmp_u32);

    printf("RESULT {\"mode\": \"%s\", \"conns\": %d, \"size\": %zu, \"seconds\": %.6f, "
           "\"ops\": %llu, \"ops_per_s\": %.3f, \"bytes\": %llu, \"mib_per_s\": %.3f",
           mode_names[opt.mode], opt.conns, opt.size, secs, (unsigned long long)ops,
           secs > 0 ? (double)ops / secs : 0.0, (unsigned long long)bytes_rx,
           secs > 0 ? (double)bytes_rx / secs / 1048576.0 : 0.0);
    if (nlat > 0)
        printf(", \"p50_us\": %.2f, \"p99_us\": %.2f", percentile_us(0.50), percentile_us(0.99));
    if (cpu >= 0)
        printf(", \"server_cpu_s\": %.4f, \"server_cpu_us_per_op\": %.4f", cpu,
               ops > 0 ? cpu * 1e6 / (double)ops : 0.0);
    if (malloc_counters != NULL)
        printf(", \"allocs\": %llu, \"frees\": %llu, \"allocs_per_op\": %.4f",
               (unsigned long long)(allocs_end - allocs_start),
               (unsigned long long)(frees_end - frees_start),
               ops > 0 ? (double)(allocs_end - allocs_start) / (double)ops : 0.0);
    if (failed) {
        char *p;
        for (p = errbuf; *p; p++)
            if (*p == '"' || *p == '\\')
                *p = '\'';
        printf(", \"error\": \"%s\"", errbuf);
    }
    printf("}\n");
    fflush(stdout);
    return failed ? 1 : 0;
}
