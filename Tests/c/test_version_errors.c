/* Version (header section 1) and error codes (section 2). */
#include "harness.h"

#include <limits.h>
#include <stdio.h>

static void test_version_macros_match_runtime(void) {
    unsigned int packed = ((unsigned int)UVS_VERSION_MAJOR << 16) |
                          ((unsigned int)UVS_VERSION_MINOR << 8) | (unsigned int)UVS_VERSION_PATCH;
    char text[64];

    ASSERT_UEQ(uvs_version(), packed);
    snprintf(text, sizeof(text), "%d.%d.%d", UVS_VERSION_MAJOR, UVS_VERSION_MINOR,
             UVS_VERSION_PATCH);
    ASSERT_NOT_NULL(uvs_version_string());
    ASSERT_STR_EQ(uvs_version_string(), text);
    /* Static storage: the same text every time. */
    ASSERT_STR_EQ(uvs_version_string(), uvs_version_string());
}

static void test_libuv_version_string(void) {
    const char *v = uvs_libuv_version_string();
    int major = -1, minor = -1, patch = -1;

    ASSERT_NOT_NULL(v);
    ASSERT_EQ(sscanf(v, "%d.%d.%d", &major, &minor, &patch), 3);
    /* The library is built on libuv 1.44 (DESIGN.md): nothing older. */
    ASSERT_EQ(major, 1);
    ASSERT_GE(minor, 44);
}

/* Every code of the header has its name, and libuv's message. */
static void test_err_name_and_strerror_known_codes(void) {
    const struct uvs_code *c;
    int n = 0;

    for (c = uvs_test_codes; c->name != NULL; c++, n++) {
        const char *name = uvs_err_name(c->code);
        const char *msg = uvs_strerror(c->code);
        if (name == NULL || strcmp(name, c->name) != 0)
            FAIL("uvs_err_name(%d) = \"%s\", expected \"%s\"", c->code, name ? name : "(null)",
                 c->name);
        if (msg == NULL || msg[0] == '\0')
            FAIL("uvs_strerror(%d) is NULL or empty", c->code);
        if (c->message != NULL && strcmp(msg, c->message) != 0)
            FAIL("uvs_strerror(%s) = \"%s\", expected \"%s\"", c->name, msg, c->message);
    }
    ASSERT_EQ(n, 84);
}

static void test_err_name_examples(void) {
    ASSERT_STR_EQ(uvs_err_name(UVS_ECONNREFUSED), "ECONNREFUSED");
    ASSERT_STR_EQ(uvs_strerror(UVS_ECONNREFUSED), "connection refused");
    ASSERT_STR_EQ(uvs_err_name(UVS_EOF), "EOF");
    ASSERT_STR_EQ(uvs_strerror(UVS_EOF), "end of file");
    ASSERT_STR_EQ(uvs_err_name(UVS_EAGAIN), "EAGAIN");
    ASSERT_STR_EQ(uvs_err_name(UVS_ECANCELED), "ECANCELED");
    ASSERT_STR_EQ(uvs_strerror(UVS_EINVAL), "invalid argument");
    ASSERT_STR_EQ(uvs_err_name(UVS_ECLOSED), "ECLOSED");
    ASSERT_STR_EQ(uvs_err_name(UVS_EWRONGTHREAD), "EWRONGTHREAD");
    /* The library's own codes have their own messages, not "unknown error". */
    ASSERT(strcmp(uvs_strerror(UVS_ECLOSED), "unknown error") != 0);
    ASSERT(strcmp(uvs_strerror(UVS_EWRONGTHREAD), "unknown error") != 0);
    ASSERT(strcmp(uvs_strerror(UVS_ECLOSED), uvs_strerror(UVS_EWRONGTHREAD)) != 0);
}

/* Unknown codes: never NULL; "UNKNOWN" / "unknown error" (header section 2). */
static void test_err_unknown_codes(void) {
    static const int unknown[] = {12345, -12345, INT_MIN, INT_MAX, -5003, -5000, -4093, 1, -999};
    size_t i;

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        ASSERT_STR_EQ(uvs_err_name(unknown[i]), "UNKNOWN");
        ASSERT_STR_EQ(uvs_strerror(unknown[i]), "unknown error");
    }
}

/* Any int at all gives a non-NULL, non-empty string, repeatedly (no allocation that
 * could fail or leak: LeakSanitizer checks the latter when built with ASan). */
static void test_err_never_null_any_int(void) {
    long long code;
    int round;

    for (round = 0; round < 2; round++) {
        for (code = -6000; code <= 200; code++) {
            const char *name = uvs_err_name((int)code);
            const char *msg = uvs_strerror((int)code);
            if (name == NULL || name[0] == '\0')
                FAIL("uvs_err_name(%lld) is NULL or empty", code);
            if (msg == NULL || msg[0] == '\0')
                FAIL("uvs_strerror(%lld) is NULL or empty", code);
        }
    }
    ASSERT_NOT_NULL(uvs_err_name(0));
    ASSERT_NOT_NULL(uvs_strerror(0));
}

/* Pointers stay valid: static storage, the text does not change later. */
static void test_err_static_storage(void) {
    const char *a = uvs_strerror(UVS_EPIPE);
    const char *b = uvs_err_name(UVS_EPIPE);
    (void)uvs_strerror(UVS_ECONNRESET);
    (void)uvs_err_name(UVS_ECONNRESET);
    (void)uvs_strerror(424242);
    (void)uvs_err_name(424242);
    ASSERT_STR_EQ(a, "broken pipe");
    ASSERT_STR_EQ(b, "EPIPE");
}

/* The UVS_* values are libuv's (checked through the names/values the library knows):
 * distinct negative values. */
static void test_codes_distinct_negative(void) {
    const struct uvs_code *c, *d;
    for (c = uvs_test_codes; c->name != NULL; c++) {
        ASSERT_LT(c->code, 0);
        for (d = c + 1; d->name != NULL; d++)
            if (c->code == d->code)
                FAIL("%s and %s have the same value %d", c->name, d->name, c->code);
    }
    ASSERT_LE(UVS_ECLOSED, -5000);
    ASSERT_LE(UVS_EWRONGTHREAD, -5000);
}

const struct uvs_test tests_version_errors[] = {
    {"version_macros_match_runtime", test_version_macros_match_runtime},
    {"version_libuv_string", test_libuv_version_string},
    {"err_name_strerror_all_known_codes", test_err_name_and_strerror_known_codes},
    {"err_name_examples", test_err_name_examples},
    {"err_unknown_codes", test_err_unknown_codes},
    {"err_never_null_any_int", test_err_never_null_any_int},
    {"err_static_storage", test_err_static_storage},
    {"err_codes_distinct_negative", test_codes_distinct_negative},
    {0, 0},
};
