/*
 * runner.c — runs every scenario on both backends and compares the traces.
 *
 *   uvs_conformance [-v] [-l] [-t seconds] [scenario-name ...]
 *
 *   -v   print both traces of every scenario (not only of failures)
 *   -l   list the scenarios and exit
 *   -t   per-run time limit in seconds (default 20)
 *
 * Each scenario runs in its own child process per backend (fork), with a time limit,
 * so an abort inside libuv is recorded as the last trace line ("aborted: SIGABRT")
 * instead of ending the runner. The traces must be identical, except for the scenarios
 * listed in conf_diffs.h: there the libuv trace must end with the declared libuv tail,
 * the uvs trace with the declared uvs tail, and what precedes the tails must be the same.
 * The last line printed is "conformance: N passed, N failed"; the exit status is 1 if
 * anything failed.
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf_diffs.h"
#include "conf_ops.h"

extern int cf_trace_fd;

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static void lines_add(lines *l, const char *s, size_t len) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    char *c = malloc(len + 1);
    memcpy(c, s, len);
    c[len] = 0;
    l->v[l->n++] = c;
}

static void lines_free(lines *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Splits text into lines (the last one may lack its newline). */
static void lines_split(lines *l, const char *text, size_t len) {
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') {
            lines_add(l, text + start, i - start);
            start = i + 1;
        }
    if (start < len) lines_add(l, text + start, len - start);
}

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static int timeout_s = 20;
static const char *base_dir;
static volatile sig_atomic_t interrupted; /* SIGINT, SIGTERM or SIGHUP: clean up and stop */

static void on_interrupt(int sig) { interrupted = sig; }

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *sig_name(int sig) {
    switch (sig) {
    case SIGABRT: return "SIGABRT";
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGPIPE: return "SIGPIPE";
    case SIGKILL: return "SIGKILL";
    case SIGTRAP: return "SIGTRAP";
    default: return "signal";
    }
}

/* The child: runs one scenario on one backend, writing its trace to trace_fd. */
static void child(const cf_scenario *s, const cf_ops *ops, int trace_fd, int err_fd,
                  const char *dir) {
    dup2(err_fd, 1);
    dup2(err_fd, 2);
    close(err_fd);
    cf_trace_fd = trace_fd;
    signal(SIGPIPE, SIG_IGN); /* what any libuv program does; the library does it too */
    O = ops;
    cf_tmpdir = dir;
    cf_loop *loop = NULL;
    int rc = O->loop_new(&loop);
    if (rc != 0) {
        tr("loop_new -> %s", cf_err_name(rc));
        _exit(2);
    }
    s->run(loop);
    if (cf_loop_abandoned) {
        tr("teardown: loop abandoned (it can never become idle)");
        _exit(0);
    }
    if (cf_loop_closed) {
        O->loop_free(loop);
        tr("teardown: the scenario closed the loop");
        _exit(0);
    }
    int close_rc = 0;
    int n = O->loop_teardown(loop, &close_rc);
    tr("teardown: closed %d handle(s), loop_close -> %s", n, cf_err_name(close_rc));
    _exit(0);
}

/* Runs s on ops in a child; fills trace (with the outcome as the last line) and err. */
static void run_child(const cf_scenario *s, const cf_ops *ops, int index, lines *trace, buf *err) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%d%c", base_dir, index, ops == &cf_ops_libuv ? 'l' : 'u');
    if (mkdir(dir, 0700) != 0) {
        perror(dir);
        exit(2);
    }
    int tp[2], ep[2];
    if (pipe(tp) != 0 || pipe(ep) != 0) {
        perror("pipe");
        exit(2);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(tp[0]);
        close(ep[0]);
        child(s, ops, tp[1], ep[1], dir);
    }
    close(tp[1]);
    close(ep[1]);

    buf tb = {0};
    struct pollfd pf[2] = {{tp[0], POLLIN, 0}, {ep[0], POLLIN, 0}};
    int open_fds = 2;
    double deadline = now_s() + timeout_s;
    int timed_out = 0;
    while (open_fds > 0 && !interrupted) {
        int ms = (int)((deadline - now_s()) * 1000);
        if (ms <= 0) {
            timed_out = 1;
            break;
        }
        int r = poll(pf, 2, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char chunk[4096];
            ssize_t n = read(pf[i].fd, chunk, sizeof chunk);
            if (n <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_fds--;
            } else {
                buf_add(i == 0 ? &tb : err, chunk, (size_t)n);
            }
        }
    }
    if (timed_out || interrupted) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    for (int i = 0; i < 2; i++)
        if (pf[i].fd >= 0) close(pf[i].fd);

    if (tb.p) lines_split(trace, tb.p, tb.n);
    free(tb.p);
    char outcome[64];
    if (timed_out)
        snprintf(outcome, sizeof outcome, "timeout (%ds)", timeout_s);
    else if (WIFSIGNALED(status))
        snprintf(outcome, sizeof outcome, "%s: %s",
                 WTERMSIG(status) == SIGABRT ? "aborted" : "crashed", sig_name(WTERMSIG(status)));
    else
        snprintf(outcome, sizeof outcome, "exit %d", WEXITSTATUS(status));
    lines_add(trace, outcome, strlen(outcome));
}

/* Diff ------------------------------------------------------------------------------ */

/* Prints an LCS diff of a (libuv, "-") and b (uvs, "+"). */
static void print_diff(char **a, size_t na, char **b, size_t nb) {
    size_t w = nb + 1;
    unsigned *t = calloc((na + 1) * (nb + 1), sizeof *t);
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            t[i * w + j] = strcmp(a[i], b[j]) == 0 ? t[(i + 1) * w + j + 1] + 1
                           : t[(i + 1) * w + j] >= t[i * w + j + 1] ? t[(i + 1) * w + j]
                                                                    : t[i * w + j + 1];
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && strcmp(a[i], b[j]) == 0) {
            printf("        %s\n", a[i]);
            i++, j++;
        } else if (j < nb && (i == na || t[i * w + j + 1] >= t[(i + 1) * w + j])) {
            printf("      + %s\n", b[j++]);
        } else {
            printf("      - %s\n", a[i++]);
        }
    }
    free(t);
}

static void print_trace(const char *title, const lines *l) {
    printf("    --- %s\n", title);
    for (size_t i = 0; i < l->n; i++) printf("        %s\n", l->v[i]);
}

static void print_err(const char *title, const buf *e) {
    if (e->n == 0) return;
    printf("    --- %s stderr\n", title);
    lines l = {0};
    lines_split(&l, e->p, e->n);
    for (size_t i = 0; i < l.n && i < 20; i++) printf("        %s\n", l.v[i]);
    if (l.n > 20) printf("        ... (%zu more lines)\n", l.n - 20);
    lines_free(&l);
}

static size_t count(const char *const *v) {
    size_t n = 0;
    while (v && v[n]) n++;
    return n;
}

/* 1 if l ends with tail; *prefix = number of lines before it. */
static int ends_with(const lines *l, const char *const *tail, size_t *prefix) {
    size_t n = count(tail);
    if (n > l->n) return 0;
    *prefix = l->n - n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l->v[*prefix + i], tail[i]) != 0) return 0;
    return 1;
}

static const cf_diff *find_diff(const char *name) {
    for (size_t i = 0; cf_diffs[i].scenario; i++)
        if (strcmp(cf_diffs[i].scenario, name) == 0) return &cf_diffs[i];
    return NULL;
}

static const char *const kinds[] = {"abort", "undefined", "truncation", "hang", "misbehaviour",
                                    "contract"};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static int kind_index(const char *kind) {
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i], kind) == 0) return (int)i;
    return -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

int main(int argc, char **argv) {
    int verbose = 0, list = 0;
    int first_name = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) verbose = 1;
        else if (strcmp(argv[i], "-l") == 0) list = 1;
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) timeout_s = atoi(argv[++i]);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [-v] [-l] [-t seconds] [scenario ...]\n", argv[0]);
            return 2;
        } else {
            first_name = i;
            break;
        }
    }
    const cf_scenario *tables[] = {cf_scenarios_tcp, cf_scenarios_pipe, cf_scenarios_tty,
                                   cf_scenarios_loop};
    /* Every declared difference must name a scenario that exists. */
    int bad_table = 0;
    for (size_t d = 0; cf_diffs[d].scenario; d++) {
        int found = 0;
        for (size_t t = 0; t < 4; t++)
            for (const cf_scenario *s = tables[t]; s->name; s++)
                if (strcmp(s->name, cf_diffs[d].scenario) == 0) found = 1;
        if (!found) {
            printf("conf_diffs.h names an unknown scenario: %s\n", cf_diffs[d].scenario);
            bad_table++;
        }
        if (kind_index(cf_diffs[d].kind) < 0) {
            printf("conf_diffs.h: unknown kind '%s' for %s\n", cf_diffs[d].kind, cf_diffs[d].scenario);
            bad_table++;
        }
    }
    if (list) {
        for (size_t t = 0; t < 4; t++)
            for (const cf_scenario *s = tables[t]; s->name; s++)
                printf("%s%s\n", s->name, find_diff(s->name) ? "  (deliberate difference)" : "");
        return 0;
    }

    char tmpl[] = "/tmp/uvsconf.XXXXXX";
    base_dir = mkdtemp(tmpl);
    if (base_dir == NULL) {
        perror("mkdtemp");
        return 2;
    }
    printf("conformance: libuv (raw) vs libswiftuvstream (uvs_), one child process per run\n");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt; /* no SA_RESTART: poll() returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    int passed = 0, failed = bad_table, index = 0, identical = 0;
    int per_kind[NKINDS] = {0};
    for (size_t t = 0; t < 4; t++) {
        for (const cf_scenario *s = tables[t]; s->name; s++) {
            index++;
            if (first_name < argc) {
                int want = 0;
                for (int i = first_name; i < argc; i++)
                    if (strcmp(argv[i], s->name) == 0) want = 1;
                if (!want) continue;
            }
            lines a = {0}, b = {0};
            buf ea = {0}, eb = {0};
            run_child(s, &cf_ops_libuv, index, &a, &ea);
            if (!interrupted) run_child(s, &cf_ops_uvs, index, &b, &eb);
            if (interrupted) {
                nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
                printf("interrupted by signal %d\n", (int)interrupted);
                printf("conformance: %d passed, %d failed\n", passed, failed + 1);
                return 130;
            }
            const cf_diff *d = find_diff(s->name);
            int ok;
            size_t pa = 0, pb = 0;
            if (d == NULL) {
                ok = a.n == b.n && strncmp(a.v[a.n - 1], "timeout", 7) != 0;
                for (size_t i = 0; ok && i < a.n; i++) ok = strcmp(a.v[i], b.v[i]) == 0;
            } else {
                ok = ends_with(&a, d->libuv_tail, &pa) && ends_with(&b, d->uvs_tail, &pb) && pa == pb;
                for (size_t i = 0; ok && i < pa; i++) ok = strcmp(a.v[i], b.v[i]) == 0;
            }
            if (ok) {
                passed++;
                if (d) {
                    per_kind[kind_index(d->kind)]++;
                    printf("ok   %-36s declared difference (%s)\n", s->name, d->kind);
                    printf("       libuv:   %s\n       library: %s\n", d->libuv_does, d->library_does);
                } else {
                    identical++;
                    printf("ok   %-36s (%zu trace lines identical)\n", s->name, a.n);
                }
                if (verbose) {
                    print_trace("libuv", &a);
                    print_trace("uvs", &b);
                }
            } else {
                failed++;
                if (d) {
                    printf("FAIL %-36s declared difference (%s) not observed as declared\n", s->name,
                           d->kind);
                    printf("    declared: libuv %s; library %s\n", d->libuv_does, d->library_does);
                    printf("    --- expected libuv tail\n");
                    for (size_t i = 0; d->libuv_tail[i]; i++) printf("        %s\n", d->libuv_tail[i]);
                    printf("    --- expected uvs tail\n");
                    for (size_t i = 0; d->uvs_tail[i]; i++) printf("        %s\n", d->uvs_tail[i]);
                    printf("    --- diff (- libuv, + uvs)\n");
                } else {
                    printf("FAIL %-36s traces differ (- libuv, + uvs)\n", s->name);
                }
                print_diff(a.v, a.n, b.v, b.n);
                print_err("libuv", &ea);
                print_err("uvs", &eb);
                if (verbose) {
                    print_trace("libuv", &a);
                    print_trace("uvs", &b);
                }
            }
            lines_free(&a);
            lines_free(&b);
            free(ea.p);
            free(eb.p);
            fflush(stdout);
        }
    }
    nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("identical traces: %d; declared differences observed:", identical);
    for (size_t k = 0; k < NKINDS; k++) printf(" %s %d%s", kinds[k], per_kind[k], k + 1 < NKINDS ? "," : "\n");
    printf("conformance: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
