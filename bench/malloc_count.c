/*
 * malloc_count.c — an LD_PRELOAD shim that counts heap allocations (glibc).
 *
 *   MALLOC_COUNT_FILE=/tmp/counts LD_PRELOAD=build/bench/malloc_count.so server ...
 *
 * Every malloc, calloc, realloc, memalign, posix_memalign, aligned_alloc, valloc and
 * pvalloc counts as one allocation, every free (of a non-NULL pointer) as one free; the
 * work is done by glibc's own __libc_* functions, so the allocator is unchanged. The
 * counters live in a shared mapping of MALLOC_COUNT_FILE (created, 4096 bytes, as
 * uint64_t: [0] allocations, [1] frees, [2] bytes requested), which any other process can
 * map and read at any moment: the load generator reads it at the start and end of its
 * measured window (loadgen --malloc-file). Without MALLOC_COUNT_FILE the counters are
 * kept in memory only. Thread-safe (relaxed atomic increments).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

static uint64_t local_counters[512];
static uint64_t *counters = local_counters;

__attribute__((constructor)) static void malloc_count_init(void) {
    const char *path = getenv("MALLOC_COUNT_FILE");
    int fd;
    void *p;

    if (path == NULL || *path == '\0')
        return;
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (ftruncate(fd, 4096) == 0) {
        p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
            uint64_t *c = p;
            c[0] = __atomic_load_n(&local_counters[0], __ATOMIC_RELAXED);
            c[1] = __atomic_load_n(&local_counters[1], __ATOMIC_RELAXED);
            c[2] = __atomic_load_n(&local_counters[2], __ATOMIC_RELAXED);
            __atomic_store_n(&counters, c, __ATOMIC_RELEASE);
        }
    }
    close(fd);
}

static inline void count_alloc(size_t n) {
    uint64_t *c = __atomic_load_n(&counters, __ATOMIC_ACQUIRE);
    __atomic_fetch_add(&c[0], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c[2], n, __ATOMIC_RELAXED);
}

static inline void count_free(void) {
    uint64_t *c = __atomic_load_n(&counters, __ATOMIC_ACQUIRE);
    __atomic_fetch_add(&c[1], 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n) {
    count_alloc(n);
    return __libc_malloc(n);
}

void *calloc(size_t m, size_t n) {
    count_alloc(m * n);
    return __libc_calloc(m, n);
}

void *realloc(void *p, size_t n) {
    if (n == 0 && p != NULL) {
        count_free();
        return __libc_realloc(p, n);
    }
    count_alloc(n);
    if (p != NULL)
        count_free();
    return __libc_realloc(p, n);
}

void free(void *p) {
    if (p == NULL)
        return;
    count_free();
    __libc_free(p);
}

void *memalign(size_t a, size_t n) {
    count_alloc(n);
    return __libc_memalign(a, n);
}

void *aligned_alloc(size_t a, size_t n) {
    count_alloc(n);
    return __libc_memalign(a, n);
}

int posix_memalign(void **out, size_t a, size_t n) {
    void *p;
    if (a < sizeof(void *) || (a & (a - 1)) != 0)
        return EINVAL;
    count_alloc(n);
    p = __libc_memalign(a, n);
    if (p == NULL && n != 0)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n) {
    count_alloc(n);
    return __libc_valloc(n);
}

void *pvalloc(size_t n) {
    count_alloc(n);
    return __libc_pvalloc(n);
}
