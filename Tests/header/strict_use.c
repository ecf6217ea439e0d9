/*
 * A small program that uses include/swiftuvstream.h the way a C or C++ user does.
 * scripts/check-header compiles it as strict C99 (gcc -std=c99 -Wall -Wextra -pedantic
 * -Werror) and as C++ (g++ -x c++ -Wall -Wextra -pedantic -Werror), links it against the
 * installed library (pkg-config and find_package), and runs it with an empty environment.
 * It prints "strict_use: OK" and exits 0 when every step behaved as the header says.
 */
#include <swiftuvstream.h>

#include <stdio.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "strict_use: %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                               \
        }                                                                             \
    } while (0)

typedef struct {
    int fired;
    int closed;
} timer_state;

static void on_close(uvs_handle_t *handle, void *user_data) {
    timer_state *state = (timer_state *)user_data;
    EXPECT(uvs_handle_kind(handle) == UVS_KIND_TIMER);
    state->closed++;
}

static void on_timer(uvs_timer_t *timer, void *user_data) {
    timer_state *state = (timer_state *)user_data;
    state->fired++;
    EXPECT(uvs_close(UVS_HANDLE(timer), on_close, state) == 0);
}

int main(void) {
    const unsigned int expected_version =
        ((unsigned int)UVS_VERSION_MAJOR << 16) | ((unsigned int)UVS_VERSION_MINOR << 8) |
        (unsigned int)UVS_VERSION_PATCH;
    uvs_loop_t *loop = NULL;
    uvs_timer_t *timer = NULL;
    timer_state state;
    int rc;

    memset(&state, 0, sizeof state);

    EXPECT(uvs_version() == expected_version);
    EXPECT(uvs_version_string() != NULL);
    EXPECT(uvs_libuv_version_string() != NULL);
    EXPECT(strcmp(uvs_err_name(UVS_ECONNREFUSED), "ECONNREFUSED") == 0);
    EXPECT(strcmp(uvs_err_name(UVS_ECLOSED), "ECLOSED") == 0);
    EXPECT(uvs_strerror(UVS_EOF) != NULL && uvs_strerror(UVS_EOF)[0] != '\0');
    EXPECT(uvs_strerror(123456) != NULL);
    printf("strict_use: libswiftuvstream %s on libuv %s; UVS_ECONNREFUSED: %s\n",
           uvs_version_string(), uvs_libuv_version_string(), uvs_strerror(UVS_ECONNREFUSED));

    EXPECT(uvs_loop_new(NULL) == UVS_EINVAL);
    rc = uvs_loop_new(&loop);
    EXPECT(rc == 0 && loop != NULL);
    if (rc != 0 || loop == NULL) {
        fprintf(stderr, "strict_use: uvs_loop_new: %s\n", uvs_strerror(rc));
        return 1;
    }

    EXPECT(uvs_timer_new(loop, &timer) == 0 && timer != NULL);
    EXPECT(uvs_timer_start(timer, 5, 0, on_timer, &state) == 0);
    EXPECT(uvs_is_active(UVS_HANDLE(timer)) == 1);
    EXPECT(uvs_loop_alive(loop) == 1);

    EXPECT(uvs_loop_run(loop, UVS_RUN_DEFAULT) == 0);
    EXPECT(state.fired == 1);
    EXPECT(state.closed == 1);
    EXPECT(uvs_is_closing(UVS_HANDLE(timer)) == 1);
    EXPECT(uvs_timer_start(timer, 5, 0, on_timer, &state) == UVS_ECLOSED);
    uvs_release(UVS_HANDLE(timer));
    uvs_release(NULL);

    EXPECT(uvs_loop_alive(loop) == 0);
    EXPECT(uvs_loop_close(loop) == 0);
    EXPECT(uvs_loop_close(loop) == 0);
    EXPECT(uvs_loop_run(loop, UVS_RUN_DEFAULT) == UVS_ECLOSED);
    uvs_loop_release(loop);
    uvs_loop_release(NULL);

    if (failures != 0) {
        printf("strict_use: %d check(s) failed\n", failures);
        return 1;
    }
    printf("strict_use: OK (timer fired %d time, closed %d time)\n", state.fired, state.closed);
    return 0;
}
