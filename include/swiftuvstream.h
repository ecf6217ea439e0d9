/*
 * swiftuvstream.h — the C contract of libswiftuvstream.
 *
 * libswiftuvstream is a stream library over libuv 1.44: TCP sockets, pipes (with handle
 * passing between processes) and terminals, driven by an event loop, with a timer and
 * a thread-safe way to post work to the loop. The implementation is Swift; this header is all a C
 * or C++ program needs (no libuv headers, no Swift toolchain at run time).
 *
 * Reading guide
 * -------------
 *   1. Version           UVS_VERSION_*, uvs_version()
 *   2. Errors            UVS_E* codes, uvs_strerror(), uvs_err_name()
 *   3. Loop              uvs_loop_new() ... uvs_loop_release(), uvs_loop_post()
 *   4. Handles           what every handle (stream or timer) can do: close, release, ref
 *   5. Streams           read, write, shutdown, listen, accept: any stream kind
 *   6. TCP               uvs_tcp_*: create, bind, connect, socket options, addresses
 *   7. Timer             uvs_timer_*
 *   8. Pipes             uvs_pipe_*: Unix sockets and pipes, handle passing (IPC)
 *   9. TTYs              uvs_tty_*: terminals
 *
 * Rules that hold for every function
 * ----------------------------------
 * Return values. Functions return int: 0 (or a non-negative count) on success, a
 *   negative UVS_E* code on failure. Queries whose answer is a flag return 1 or 0
 *   and a negative code only for invalid arguments. Nothing in this library aborts,
 *   traps or exits the process on bad input: NULL pointers, closed handles, wrong
 *   handle kinds and out-of-range values are all reported as error codes.
 *
 * Pointers. Every handle and loop pointer the library hands out is checked on each
 *   call: NULL, a pointer the library did not make, or one whose object was freed
 *   gives UVS_EINVAL (or a neutral value for queries) instead of a crash. The check
 *   cannot catch a freed address that a new object of the same kind now occupies.
 *
 * Ownership. Every uvs_*_new() function gives the caller one reference to a new
 *   object. The caller returns it with uvs_release() (handles) or
 *   uvs_loop_release() (loops). Memory is freed only when the caller has released
 *   it and libuv can no longer call back, so releasing from inside a callback is safe.
 *   Releasing a handle that is still open closes it first.
 *
 * Closing. uvs_close() is idempotent. When a handle closes, its pending connect,
 *   write and shutdown requests complete with UVS_ECANCELED (or 0 if they had already
 *   finished) in the order they were made, and then the close callback runs, once.
 *   Every later call on the handle returns UVS_ECLOSED; queries return a neutral
 *   value (not readable, not writable, not active, size 0).
 *
 * Callbacks. Plain C function pointers with a user_data pointer given when the
 *   callback is registered. They run on the loop's thread inside uvs_loop_run(),
 *   never synchronously inside the call that registered them. The handle passed to a
 *   callback is borrowed: it stays valid for the duration of the callback.
 *
 * Threads. A loop and its handles belong to one thread at a time. While a loop runs,
 *   any call for that loop or its handles from another thread returns
 *   UVS_EWRONGTHREAD, except uvs_loop_post(), the one thread-safe function, which
 *   asks the loop's thread to run a function. Pure queries (uvs_is_*, uvs_handle_*,
 *   uvs_fileno(), uvs_write_queue_size(), uvs_loop_now(), uvs_timer_repeat(),
 *   uvs_pipe_pending_count(), uvs_pipe_pending_kind()) skip the check: call them on the loop's thread too, or their answer may be stale.
 *
 * Signals. Creating a loop sets SIGPIPE to SIG_IGN if its disposition is still the
 *   default (SIG_DFL), so a write to a closed peer reports UVS_EPIPE instead of
 *   killing the process. A program that installed its own SIGPIPE handler (or set
 *   SIG_IGN itself) before creating a loop keeps it. An ignored SIGPIPE is inherited
 *   across exec: restore SIG_DFL in a child process that needs the default.
 */
#ifndef SWIFTUVSTREAM_H
#define SWIFTUVSTREAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================== */
/* 1. Version                                                                 */
/* ========================================================================== */

#define UVS_VERSION_MAJOR 0
#define UVS_VERSION_MINOR 1
#define UVS_VERSION_PATCH 0

/** The library's version packed as (major << 16) | (minor << 8) | patch, as linked at
 *  run time. Compare it with the UVS_VERSION_* macros to detect a header/library
 *  mismatch. Any thread. */
unsigned int uvs_version(void);

/** The library's version as "major.minor.patch". Static storage: never NULL, never
 *  freed by the caller. Any thread. */
const char *uvs_version_string(void);

/** The version of libuv the library runs on, as "major.minor.patch". Static storage:
 *  never NULL, never freed by the caller. Any thread. */
const char *uvs_libuv_version_string(void);

/* ========================================================================== */
/* 2. Errors                                                                  */
/* ========================================================================== */

/* libuv's error codes, with libuv's values on Linux (UVS_X == UV_X). */
#define UVS_E2BIG            (-7) /* argument list too long */
#define UVS_EACCES           (-13) /* permission denied */
#define UVS_EADDRINUSE       (-98) /* address already in use */
#define UVS_EADDRNOTAVAIL    (-99) /* address not available */
#define UVS_EAFNOSUPPORT     (-97) /* address family not supported */
#define UVS_EAGAIN           (-11) /* resource temporarily unavailable */
#define UVS_EAI_ADDRFAMILY   (-3000) /* address family not supported */
#define UVS_EAI_AGAIN        (-3001) /* temporary failure */
#define UVS_EAI_BADFLAGS     (-3002) /* bad ai_flags value */
#define UVS_EAI_BADHINTS     (-3013) /* invalid value for hints */
#define UVS_EAI_CANCELED     (-3003) /* request canceled */
#define UVS_EAI_FAIL         (-3004) /* permanent failure */
#define UVS_EAI_FAMILY       (-3005) /* ai_family not supported */
#define UVS_EAI_MEMORY       (-3006) /* out of memory */
#define UVS_EAI_NODATA       (-3007) /* no address */
#define UVS_EAI_NONAME       (-3008) /* unknown node or service */
#define UVS_EAI_OVERFLOW     (-3009) /* argument buffer overflow */
#define UVS_EAI_PROTOCOL     (-3014) /* resolved protocol is unknown */
#define UVS_EAI_SERVICE      (-3010) /* service not available for socket type */
#define UVS_EAI_SOCKTYPE     (-3011) /* socket type not supported */
#define UVS_EALREADY         (-114) /* connection already in progress */
#define UVS_EBADF            (-9) /* bad file descriptor */
#define UVS_EBUSY            (-16) /* resource busy or locked */
#define UVS_ECANCELED        (-125) /* operation canceled */
#define UVS_ECHARSET         (-4080) /* invalid Unicode character */
#define UVS_ECONNABORTED     (-103) /* software caused connection abort */
#define UVS_ECONNREFUSED     (-111) /* connection refused */
#define UVS_ECONNRESET       (-104) /* connection reset by peer */
#define UVS_EDESTADDRREQ     (-89) /* destination address required */
#define UVS_EEXIST           (-17) /* file already exists */
#define UVS_EFAULT           (-14) /* bad address in system call argument */
#define UVS_EFBIG            (-27) /* file too large */
#define UVS_EHOSTUNREACH     (-113) /* host is unreachable */
#define UVS_EINTR            (-4) /* interrupted system call */
#define UVS_EINVAL           (-22) /* invalid argument */
#define UVS_EIO              (-5) /* i/o error */
#define UVS_EISCONN          (-106) /* socket is already connected */
#define UVS_EISDIR           (-21) /* illegal operation on a directory */
#define UVS_ELOOP            (-40) /* too many symbolic links encountered */
#define UVS_EMFILE           (-24) /* too many open files */
#define UVS_EMSGSIZE         (-90) /* message too long */
#define UVS_ENAMETOOLONG     (-36) /* name too long */
#define UVS_ENETDOWN         (-100) /* network is down */
#define UVS_ENETUNREACH      (-101) /* network is unreachable */
#define UVS_ENFILE           (-23) /* file table overflow */
#define UVS_ENOBUFS          (-105) /* no buffer space available */
#define UVS_ENODEV           (-19) /* no such device */
#define UVS_ENOENT           (-2) /* no such file or directory */
#define UVS_ENOMEM           (-12) /* not enough memory */
#define UVS_ENONET           (-64) /* machine is not on the network */
#define UVS_ENOPROTOOPT      (-92) /* protocol not available */
#define UVS_ENOSPC           (-28) /* no space left on device */
#define UVS_ENOSYS           (-38) /* function not implemented */
#define UVS_ENOTCONN         (-107) /* socket is not connected */
#define UVS_ENOTDIR          (-20) /* not a directory */
#define UVS_ENOTEMPTY        (-39) /* directory not empty */
#define UVS_ENOTSOCK         (-88) /* socket operation on non-socket */
#define UVS_ENOTSUP          (-95) /* operation not supported on socket */
#define UVS_EOVERFLOW        (-75) /* value too large for defined data type */
#define UVS_EPERM            (-1) /* operation not permitted */
#define UVS_EPIPE            (-32) /* broken pipe */
#define UVS_EPROTO           (-71) /* protocol error */
#define UVS_EPROTONOSUPPORT  (-93) /* protocol not supported */
#define UVS_EPROTOTYPE       (-91) /* protocol wrong type for socket */
#define UVS_ERANGE           (-34) /* result too large */
#define UVS_EROFS            (-30) /* read-only file system */
#define UVS_ESHUTDOWN        (-108) /* cannot send after transport endpoint shutdown */
#define UVS_ESPIPE           (-29) /* invalid seek */
#define UVS_ESRCH            (-3) /* no such process */
#define UVS_ETIMEDOUT        (-110) /* connection timed out */
#define UVS_ETXTBSY          (-26) /* text file is busy */
#define UVS_EXDEV            (-18) /* cross-device link not permitted */
#define UVS_UNKNOWN          (-4094) /* unknown error */
#define UVS_EOF              (-4095) /* end of file */
#define UVS_ENXIO            (-6) /* no such device or address */
#define UVS_EMLINK           (-31) /* too many links */
#define UVS_EHOSTDOWN        (-112) /* host is down */
#define UVS_EREMOTEIO        (-121) /* remote I/O error */
#define UVS_ENOTTY           (-25) /* inappropriate ioctl for device */
#define UVS_EFTYPE           (-4028) /* inappropriate file type or format */
#define UVS_EILSEQ           (-84) /* illegal byte sequence */
#define UVS_ESOCKTNOSUPPORT  (-94) /* socket type not supported */

/* The library's own codes, in a range libuv does not use. */
#define UVS_ECLOSED        (-5001) /* operation on a closing or closed handle or loop */
#define UVS_EWRONGTHREAD   (-5002) /* call from a thread that does not own the running loop */

/** A human-readable message for an error code ("connection refused").
 *  Static storage: never NULL, never freed, never leaks, whatever the code
 *  (an unknown code, 0 included, gives "unknown error"). Any thread. */
const char *uvs_strerror(int code);

/** The symbolic name of an error code without the prefix ("ECONNREFUSED",
 *  "ECLOSED"). Static storage: never NULL, never freed, never leaks
 *  ("UNKNOWN" for a code the library does not know, 0 included). Any thread. */
const char *uvs_err_name(int code);

/* ========================================================================== */
/* 3. Loop                                                                    */
/* ========================================================================== */

/* The opaque types. Handles of every kind are uvs_handle_t for section 4. */

/** An event loop. Opaque; created by uvs_loop_new(). */
typedef struct uvs_loop_s uvs_loop_t;

/** Any handle: a stream (uvs_stream_t) or a timer (uvs_timer_t). Convert with
 *  UVS_HANDLE(); convert back with UVS_STREAM() or UVS_TIMER() after checking
 *  uvs_handle_kind(). */
typedef struct uvs_handle_s uvs_handle_t;
/** A byte stream: a TCP socket, a pipe or a TTY. */
typedef struct uvs_stream_s uvs_stream_t;
/** A timer. */
typedef struct uvs_timer_s uvs_timer_t;

#define UVS_HANDLE(h) ((uvs_handle_t *)(h))
#define UVS_STREAM(h) ((uvs_stream_t *)(h))
#define UVS_TIMER(h) ((uvs_timer_t *)(h))

/** Called once when a handle has closed. The handle is borrowed; release it here or
 *  later. */
typedef void (*uvs_close_cb)(uvs_handle_t *handle, void *user_data);

/** How uvs_loop_run() runs. */
typedef enum {
    UVS_RUN_DEFAULT = 0, /* until no active and referenced handle is left, or stopped */
    UVS_RUN_ONCE = 1,    /* poll for I/O once, blocking if there is nothing to do yet */
    UVS_RUN_NOWAIT = 2   /* poll for I/O once without blocking */
} uvs_run_mode;

/** A function posted to a loop with uvs_loop_post(). Runs on the loop's thread. */
typedef void (*uvs_post_cb)(uvs_loop_t *loop, void *user_data);

/** Creates a loop and stores it in *out (one reference for the caller).
 *  The calling thread owns the loop until another thread runs it.
 *  Sets SIGPIPE to SIG_IGN if it is still SIG_DFL (see "Signals" above).
 *  Errors: UVS_EINVAL (out is NULL), UVS_ENOMEM, or libuv's error from creating the
 *  loop (for example UVS_EMFILE). *out is set to NULL on error. */
int uvs_loop_new(uvs_loop_t **out);

/** Like uvs_loop_new(), with a read buffer of read_buffer_size bytes instead of 65536.
 *  Every stream of the loop reads into this one buffer, so a read callback receives at
 *  most read_buffer_size bytes: larger reads mean fewer callbacks for bulk transfers,
 *  smaller ones less memory. The buffer is allocated here and freed with the loop.
 *  Errors: UVS_EINVAL (out is NULL, read_buffer_size is 0 or above INT_MAX), UVS_ENOMEM,
 *  or libuv's error from creating the loop. *out is set to NULL on error. */
int uvs_loop_new_with_buffer_size(size_t read_buffer_size, uvs_loop_t **out);

/** Runs the loop in the given mode on the calling thread, which owns the loop while
 *  it runs. Posted functions waiting to run are run first.
 *  Returns 1 if the loop still has work (active referenced handles, pending
 *  callbacks, or it was stopped with work left), 0 if not.
 *  Errors: UVS_EINVAL (NULL loop or unknown mode), UVS_ECLOSED (closed loop),
 *  UVS_EBUSY (the loop is already running: uvs_loop_run() is not reentrant),
 *  UVS_EWRONGTHREAD. */
int uvs_loop_run(uvs_loop_t *loop, uvs_run_mode mode);

/** Makes uvs_loop_run() return after the current iteration. Safe to call from a
 *  callback; a stop while the loop is not running makes the next run return at once.
 *  Errors: UVS_EINVAL, UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_loop_stop(uvs_loop_t *loop);

/** 1 if the loop has active referenced handles, pending callbacks or posted
 *  functions waiting; 0 if not, or if the loop is closed.
 *  Errors: UVS_EINVAL, UVS_EWRONGTHREAD. */
int uvs_loop_alive(uvs_loop_t *loop);

/** The loop's cached time in milliseconds (updated at the start of each loop
 *  iteration; see uvs_loop_update_time()). 0 for NULL or a closed loop. Loop thread. */
uint64_t uvs_loop_now(uvs_loop_t *loop);

/** Refreshes the loop's cached time. Errors: UVS_EINVAL, UVS_ECLOSED,
 *  UVS_EWRONGTHREAD. */
int uvs_loop_update_time(uvs_loop_t *loop);

/** The number of handles on the loop that are not yet fully closed (a handle counts
 *  until its close callback has run). 0 for a closed loop.
 *  Errors: UVS_EINVAL, UVS_EWRONGTHREAD. */
int uvs_loop_handle_count(uvs_loop_t *loop);

/** Closes every handle on the loop that is not already closing, passing cb and
 *  user_data to each (cb may be NULL). Returns the number of handles it closed.
 *  Run the loop afterwards so the close callbacks can run; then uvs_loop_close()
 *  succeeds. Errors: UVS_EINVAL, UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_loop_close_all(uvs_loop_t *loop, uvs_close_cb cb, void *user_data);

/** Closes the loop: releases its libuv resources. The loop object stays valid until
 *  uvs_loop_release(); every later call on it returns UVS_ECLOSED.
 *  Idempotent: closing a closed loop returns 0.
 *  Errors: UVS_EINVAL, UVS_EBUSY (handles not fully closed, posted functions still
 *  waiting, or the loop is running), UVS_EWRONGTHREAD. */
int uvs_loop_close(uvs_loop_t *loop);

/** Returns the caller's reference to the loop (NULL-safe). Handles keep their loop
 *  alive, so a loop released while handles exist is freed after the last handle is.
 *  A loop freed without uvs_loop_close() is closed then. A second release of the same
 *  loop does nothing. */
void uvs_loop_release(uvs_loop_t *loop);

/** Asks the loop's thread to run fn(loop, user_data). The one thread-safe function:
 *  any thread may call it at any time while the caller holds a reference to the loop.
 *  Functions run in the order posted, on the loop's thread, during uvs_loop_run()
 *  (at its start if they were posted while the loop was not running); a running loop
 *  is woken up. A waiting posted function keeps the loop alive.
 *  Errors: UVS_EINVAL (NULL loop or fn), UVS_ECLOSED (the loop is closed),
 *  UVS_ENOMEM. */
int uvs_loop_post(uvs_loop_t *loop, uvs_post_cb fn, void *user_data);

/* ========================================================================== */
/* 4. Handles                                                                 */
/* ========================================================================== */


/** What a handle is. */
typedef enum {
    UVS_KIND_TCP = 1,
    UVS_KIND_PIPE = 2,
    UVS_KIND_TTY = 3,
    UVS_KIND_TIMER = 4
} uvs_handle_kind_t;


/** Closes the handle: stops it, completes its pending requests with UVS_ECANCELED
 *  (or 0 if they had already finished) in order, then calls cb(handle, user_data)
 *  once from the loop (cb may be NULL). Idempotent: a second close returns 0 and
 *  neither replaces nor adds a callback. Errors: UVS_EINVAL (NULL, or not a handle
 *  of this library), UVS_EWRONGTHREAD. */
int uvs_close(uvs_handle_t *handle, uvs_close_cb cb, void *user_data);

/** Returns the caller's reference (NULL-safe). An open handle is closed first (with
 *  no close callback). The memory is freed once libuv can no longer call back, so
 *  it is safe inside any callback, including the handle's own. A second release of
 *  the same handle does nothing. Any thread: from a thread other than the running
 *  loop's, the close and release are posted to the loop's thread. */
void uvs_release(uvs_handle_t *handle);

/** The handle's kind (a uvs_handle_kind_t). Valid on a closed handle.
 *  Errors: UVS_EINVAL. */
int uvs_handle_kind(const uvs_handle_t *handle);

/** The loop the handle belongs to (borrowed), or NULL for NULL. */
uvs_loop_t *uvs_handle_loop(const uvs_handle_t *handle);

/** Stores an arbitrary pointer in the handle, for the caller's use; the library never
 *  touches it. Allowed on a closed handle. Errors: UVS_EINVAL. */
int uvs_handle_set_data(uvs_handle_t *handle, void *data);

/** The pointer stored by uvs_handle_set_data(), or NULL. */
void *uvs_handle_data(const uvs_handle_t *handle);

/** 1 if the handle is closing or closed, 0 if open. Errors: UVS_EINVAL. */
int uvs_is_closing(const uvs_handle_t *handle);

/** 1 if the handle is active (reading, listening, connecting, writing, a started
 *  timer), 0 if not or if closed. Errors: UVS_EINVAL. */
int uvs_is_active(const uvs_handle_t *handle);

/** Makes the handle keep the loop alive while active (the default).
 *  Errors: UVS_EINVAL, UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_ref(uvs_handle_t *handle);

/** Makes the handle not keep the loop alive: uvs_loop_run(UVS_RUN_DEFAULT) may return
 *  while it is active. Errors: UVS_EINVAL, UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_unref(uvs_handle_t *handle);

/** 1 if the handle is referenced, 0 if not or closed. Errors: UVS_EINVAL. */
int uvs_has_ref(const uvs_handle_t *handle);

/** The handle's file descriptor (>= 0). The descriptor stays owned by the handle.
 *  Errors: UVS_EINVAL (NULL, or a timer), UVS_EBADF (no descriptor yet, e.g. a TCP
 *  handle created with family 0 before bind/connect), UVS_ECLOSED. */
int uvs_fileno(const uvs_handle_t *handle);

/** The socket's send buffer size in bytes, as the caller set it (Linux stores
 *  twice the requested value; the library reports half of what the kernel says,
 *  so a value set reads back unchanged, unless the kernel clamped it to its minimum
 *  or maximum). Errors: UVS_EINVAL, UVS_EBADF, UVS_ENOTSOCK, UVS_ENOTSUP (a TTY),
 *  UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_send_buffer_size(uvs_handle_t *handle);

/** Sets the socket's send buffer size (size > 0). Errors: UVS_EINVAL (NULL, timer,
 *  size <= 0), UVS_EBADF, UVS_ENOTSOCK, UVS_ENOTSUP (a TTY), UVS_ECLOSED,
 *  UVS_EWRONGTHREAD. */
int uvs_set_send_buffer_size(uvs_handle_t *handle, int size);

/** The socket's receive buffer size, reported like uvs_send_buffer_size().
 *  Errors: as uvs_send_buffer_size(). */
int uvs_receive_buffer_size(uvs_handle_t *handle);

/** Sets the socket's receive buffer size (size > 0).
 *  Errors: as uvs_set_send_buffer_size(). */
int uvs_set_receive_buffer_size(uvs_handle_t *handle, int size);

/* ========================================================================== */
/* 5. Streams                                                                 */
/* ========================================================================== */

/** A buffer to write: base and length. The library reads it only during the call. */
typedef struct uvs_buf_s {
    const void *base;
    size_t len;
} uvs_buf_t;

/** Data arrived, the stream ended, or reading failed.
 *  - status 0, len > 0: data[0..len) was read. data is valid only during the
 *    callback (copy what you keep).
 *  - status UVS_EOF, data NULL, len 0: the peer closed its write side. Reported once;
 *    reading stops. The stream may still be written and shut down (half-close).
 *  - another negative status, data NULL, len 0: a read error (e.g. UVS_ECONNRESET).
 *    Reported once; reading stops; the stream is neither readable nor writable.
 *  Nothing is closed automatically. */
typedef void (*uvs_read_cb)(uvs_stream_t *stream, int status, const char *data, size_t len,
                            void *user_data);

/** A connection is waiting on a listening stream (status 0), or listening failed
 *  (negative status). Accept it now or later with uvs_accept(). */
typedef void (*uvs_connection_cb)(uvs_stream_t *server, int status, void *user_data);

/** A connect request finished: status 0, a connect error (UVS_ECONNREFUSED, ...), or
 *  UVS_ECANCELED if the stream was closed first. */
typedef void (*uvs_connect_cb)(uvs_stream_t *stream, int status, void *user_data);

/** A write request finished: status 0 once all its bytes were handed to the kernel,
 *  an I/O error (UVS_EPIPE, UVS_ECONNRESET, ...), or UVS_ECANCELED (closed first,
 *  or the connect it waited for failed). */
typedef void (*uvs_write_cb)(uvs_stream_t *stream, int status, void *user_data);

/** A shutdown request finished: status 0 when the write side is closed after every
 *  queued write, an error, or UVS_ECANCELED if the stream was closed first. */
typedef void (*uvs_shutdown_cb)(uvs_stream_t *stream, int status, void *user_data);

/** Starts listening for connections; cb(server, status, user_data) runs for each one.
 *  A TCP stream that was not bound is bound to an ephemeral port first (by libuv).
 *  Like any handle, a listening stream the caller releases is closed.
 *  Errors: UVS_EINVAL (NULL stream or cb, backlog < 0, a stream that is reading,
 *  connecting or failed), UVS_EADDRINUSE (the bind address was taken: libuv defers
 *  this error from bind to listen), UVS_ECLOSED, UVS_EWRONGTHREAD, other libuv
 *  errors. */
int uvs_listen(uvs_stream_t *server, int backlog, uvs_connection_cb cb, void *user_data);

/** Accepts into client, a new unused handle on the same loop: on a listening stream,
 *  a waiting connection (client of the server's kind, e.g. uvs_tcp_new(loop, 0,
 *  &client)); on an IPC pipe with handles received, the next one (client of the kind
 *  uvs_pipe_pending_kind() reports). Connections not accepted in the connection
 *  callback stay queued; accept them later.
 *  Errors: UVS_EINVAL (NULL, wrong kind, different loops, server neither listening nor
 *  holding a received handle, or client already in use), UVS_EAGAIN (nothing
 *  waiting), UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_accept(uvs_stream_t *server, uvs_stream_t *client);

/** Starts reading: cb(stream, status, data, len, user_data) runs for each chunk (see
 *  uvs_read_cb). Called while already reading, it only replaces the callback and
 *  user_data. Errors: UVS_EINVAL (NULL stream or cb), UVS_ENOTCONN (not readable:
 *  never connected, a listening stream, after EOF or a read error), UVS_ECLOSED,
 *  UVS_EWRONGTHREAD, other libuv errors. */
int uvs_read_start(uvs_stream_t *stream, uvs_read_cb cb, void *user_data);

/** Stops reading; takes effect at once, also inside the read callback. Safe to repeat
 *  and safe when not reading (returns 0).
 *  Errors: UVS_EINVAL, UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_read_stop(uvs_stream_t *stream);

/** 1 if reading, 0 if not or closed. Errors: UVS_EINVAL. */
int uvs_is_reading(const uvs_stream_t *stream);

/** 1 if the stream can be read from (connected or connecting, no EOF or read error
 *  yet), 0 otherwise.
 *  Errors: UVS_EINVAL. */
int uvs_is_readable(const uvs_stream_t *stream);

/** 1 if the stream can be written to (connected or connecting, not shut down, no
 *  error yet), 0 otherwise. Errors: UVS_EINVAL. */
int uvs_is_writable(const uvs_stream_t *stream);

/** Bytes accepted by uvs_write() and not yet handed to the kernel (0 if closed). */
size_t uvs_write_queue_size(const uvs_stream_t *stream);

/** Writes nbufs buffers, in order, after every earlier write. The caller may reuse
 *  its buffers as soon as the call returns: with nothing queued the data is written
 *  at once and only what the kernel did not take is copied. cb(stream, status,
 *  user_data) runs once from the loop (cb may be NULL); write callbacks run in
 *  submission order. Writes made while a connect is pending are sent after it, or
 *  cancelled if it fails. Zero buffers or zero bytes are allowed: nothing is sent and
 *  the callback reports 0. Errors: UVS_EINVAL (NULL stream, bufs NULL with
 *  nbufs > 0, nbufs > INT_MAX, a buffer with NULL base and len > 0), UVS_EPIPE (not
 *  writable: shut down, or never connected), UVS_ENOMEM (also when a copy of a large
 *  bufs array cannot be allocated), UVS_ECLOSED, UVS_EWRONGTHREAD. When the call
 *  fails, cb is not called. */
int uvs_write(uvs_stream_t *stream, const uvs_buf_t bufs[], size_t nbufs, uvs_write_cb cb,
              void *user_data);

/** Like uvs_write(), except for a write the kernel takes whole inside the call: then
 *  the write is finished when the call returns, the result is 1 and cb is never
 *  called. That happens when the stream is connected, no earlier write is queued,
 *  and every byte (or zero bytes) is written at once. Otherwise the result is 0 and
 *  everything is as with uvs_write(): the rest is copied and cb(stream, status,
 *  user_data) runs once from the loop, in submission order with the other writes.
 *  Callbacks of earlier writes that finished at once may still be to come: a caller
 *  that reports writes in order must order a write that returned 1 after them itself.
 *  For callers to whom a callback costs more than the write (a language binding);
 *  cb may be NULL. Threads: the loop's thread only.
 *  Errors: as uvs_write() (UVS_EINVAL, UVS_EPIPE, UVS_ENOMEM, UVS_ECLOSED,
 *  UVS_EWRONGTHREAD); when the call fails, cb is not called. */
int uvs_write_now(uvs_stream_t *stream, const uvs_buf_t bufs[], size_t nbufs, uvs_write_cb cb,
                  void *user_data);

/** Like uvs_write(), and sends send_handle (an open TCP or pipe stream) with the data
 *  over an IPC pipe (one created with uvs_pipe_new(loop, 1, ...)). The receiver gets
 *  the data in its read callback and the handle through uvs_pipe_pending_count() and
 *  uvs_accept(). What travels is a duplicate of send_handle's descriptor, made in
 *  this call: the caller may close or release send_handle as soon as the call
 *  returns, even while the write waits in the queue. The payload must not be empty
 *  (the handle travels with the first byte). Errors: as uvs_write(), and UVS_EINVAL
 *  (stream is not an IPC pipe, send_handle is not a TCP or pipe stream, or no
 *  bytes), UVS_EBADF (send_handle has no descriptor), UVS_ECLOSED (send_handle is
 *  closing), UVS_EMFILE (no descriptor left for the duplicate). */
int uvs_write2(uvs_stream_t *stream, const uvs_buf_t bufs[], size_t nbufs,
               uvs_stream_t *send_handle, uvs_write_cb cb, void *user_data);

/** Writes what the kernel accepts now, without queueing. Returns the number of bytes
 *  written (capped at INT_MAX per call; 0 for zero bytes).
 *  Errors: UVS_EAGAIN (nothing could be written now, or writes are queued: try_write
 *  never reorders data), UVS_EINVAL (as uvs_write()), UVS_EPIPE (not writable),
 *  UVS_ENOMEM (as uvs_write()), UVS_ECLOSED, UVS_EWRONGTHREAD, I/O errors. */
int uvs_try_write(uvs_stream_t *stream, const uvs_buf_t bufs[], size_t nbufs);

/** Shuts down the write side once every queued write is sent; the stream stops being
 *  writable at once and later writes fail with UVS_EPIPE. cb(stream, status,
 *  user_data) runs once from the loop (cb may be NULL).
 *  Errors: UVS_EINVAL, UVS_ENOTCONN (not writable: already shut down, never
 *  connected, or failed), UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_shutdown(uvs_stream_t *stream, uvs_shutdown_cb cb, void *user_data);

/* Flow control ------------------------------------------------------------- */

/** Default write-queue watermarks of a new stream, in bytes. */
#define UVS_DEFAULT_HIGH_WATERMARK 65536
#define UVS_DEFAULT_LOW_WATERMARK 16384

/** The stream's write queue crossed a watermark: writable 0 when it rose above the
 *  high watermark (stop producing), 1 when it fell back to the low one (resume). */
typedef void (*uvs_writability_cb)(uvs_stream_t *stream, int writable, void *user_data);

/** Sets the write-queue watermarks (low <= high). They are advisory: uvs_write()
 *  still accepts data above the high watermark; a producer that respects the
 *  writability callback keeps the library's memory bounded by them.
 *  Errors: UVS_EINVAL (NULL, not a stream, low > high), UVS_ECLOSED,
 *  UVS_EWRONGTHREAD. */
int uvs_set_write_watermarks(uvs_stream_t *stream, size_t high, size_t low);

/** Registers cb(stream, writable, user_data), called from the loop once per crossing:
 *  with 0 when the write queue rises above the high watermark, then with 1 when it
 *  falls to the low watermark or below (or the stream can no longer be written).
 *  Calls alternate 0, 1, 0, ...; a crossing undone before the loop could report it
 *  is still reported (a 0 then a 1), so a producer that saw uvs_is_write_blocked()
 *  return 1 always hears the 1. cb NULL unregisters. Errors: UVS_EINVAL, UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_on_writability_changed(uvs_stream_t *stream, uvs_writability_cb cb, void *user_data);

/** 1 while the write queue is above the high watermark (since it last rose above it
 *  and has not yet fallen to the low one), 0 otherwise or when closed.
 *  Errors: UVS_EINVAL. */
int uvs_is_write_blocked(const uvs_stream_t *stream);

/* ========================================================================== */
/* 6. TCP                                                                     */
/* ========================================================================== */

/** Flag for uvs_tcp_bind(): an IPv6 socket accepts IPv6 only (no IPv4-mapped). */
#define UVS_TCP_IPV6ONLY 1

/** Longest text address with its terminating NUL, for uvs_tcp_sockname() and
 *  uvs_tcp_peername() (an IPv6 address with a %scope suffix fits). */
#define UVS_IP_MAX 64

/** Creates a TCP stream on loop and stores it in *out (one reference for the caller).
 *  family is 0 (the socket is created by bind, connect or open) or AF_INET / AF_INET6
 *  from <sys/socket.h> (the socket is created now).
 *  Errors: UVS_EINVAL (NULL loop or out, unknown family), UVS_ECLOSED (closed loop),
 *  UVS_EWRONGTHREAD, UVS_EMFILE and other socket errors. *out is NULL on error. */
int uvs_tcp_new(uvs_loop_t *loop, int family, uvs_stream_t **out);

/** Adopts an existing TCP socket fd (connected, or bound to listen); the handle owns
 *  it from then on (fds 0-2 excepted: they are never closed by the library) and
 *  treats it as readable and writable. The fd is made non-blocking, which also
 *  affects other processes sharing it. Errors: UVS_EINVAL (NULL,
 *  not a TCP handle, fd < 0, or fd is a socket of another kind), UVS_EBUSY (the
 *  handle already has a socket), UVS_EEXIST (a stream of this loop owns fd already:
 *  both would close it), UVS_EBADF (fd not open), UVS_ENOTSOCK (a regular file,
 *  terminal, pipe or anything else that is not a socket), UVS_ECLOSED,
 *  UVS_EWRONGTHREAD. */
int uvs_tcp_open(uvs_stream_t *tcp, int fd);

/** Binds to ip ("127.0.0.1", "::", "fe80::1%eth0", ...) and port (0 picks a free
 *  port; read it back with uvs_tcp_sockname()). flags is 0 or UVS_TCP_IPV6ONLY. An
 *  IPv6 %zone must name an existing interface.
 *  Note: libuv defers UVS_EADDRINUSE to uvs_listen() or uvs_tcp_connect().
 *  Errors: UVS_EINVAL (NULL, not TCP, ip not a numeric IPv4/IPv6 address, a %zone
 *  naming no interface, port not in 0..65535, unknown flags, already bound),
 *  UVS_EACCES, UVS_EADDRNOTAVAIL, UVS_EMFILE and other errors creating the socket,
 *  UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_tcp_bind(uvs_stream_t *tcp, const char *ip, int port, unsigned int flags);

/** Connects to ip and port; cb(tcp, status, user_data) runs once from the loop
 *  (cb may be NULL). Connection errors (UVS_ECONNREFUSED, UVS_ETIMEDOUT, ...) arrive
 *  in cb. The stream is writable at once; writes wait for the connection.
 *  A stream whose connect failed cannot connect again (libuv cannot reuse its
 *  socket): make a new handle.
 *  Errors: UVS_EINVAL (NULL, not TCP, bad address or port as for uvs_tcp_bind(), an
 *  earlier connect on this stream failed), UVS_EALREADY (a connect is pending),
 *  UVS_EISCONN, UVS_ECLOSED, UVS_EWRONGTHREAD, and the errors the kernel gives at
 *  once, before any packet is sent: creating the socket (UVS_EMFILE, ...) or
 *  routing (UVS_ENETUNREACH, ...); cb is then not called. */
int uvs_tcp_connect(uvs_stream_t *tcp, const char *ip, int port, uvs_connect_cb cb,
                    void *user_data);

/** Sets TCP_NODELAY: 1 sends small writes at once (Nagle's algorithm off), 0 restores
 *  the default. Before the socket exists the setting is remembered and applied when
 *  it is created. Errors: UVS_EINVAL, UVS_ECLOSED, UVS_EWRONGTHREAD, socket errors. */
int uvs_tcp_nodelay(uvs_stream_t *tcp, int enable);

/** Enables (1) or disables (0) TCP keep-alive; delay is the idle time in seconds
 *  before the first probe (ignored when disabling; the kernel rejects 0 with
 *  UVS_EINVAL when enabling).
 *  Errors: UVS_EINVAL, UVS_ECLOSED, UVS_EWRONGTHREAD, socket errors. */
int uvs_tcp_keepalive(uvs_stream_t *tcp, int enable, unsigned int delay);

/** Enables or disables simultaneous asynchronous accepts (meaningful on Windows;
 *  accepted and ignored elsewhere). Errors: UVS_EINVAL, UVS_ECLOSED,
 *  UVS_EWRONGTHREAD. */
int uvs_tcp_simultaneous_accepts(uvs_stream_t *tcp, int enable);

/** The local address: writes the text address into ip (ip_size bytes, at least
 *  UVS_IP_MAX is always enough), and the port and address family (AF_INET or
 *  AF_INET6) into *port and *family; port and family may be NULL.
 *  Errors: UVS_EINVAL (NULL tcp or ip, not TCP), UVS_ENOBUFS (ip_size too small),
 *  UVS_EBADF (no socket yet), UVS_ECLOSED, UVS_EWRONGTHREAD, socket errors. */
int uvs_tcp_sockname(uvs_stream_t *tcp, char *ip, size_t ip_size, int *port, int *family);

/** The peer's address, like uvs_tcp_sockname(). Errors: as uvs_tcp_sockname(), and
 *  UVS_ENOTCONN when not connected. */
int uvs_tcp_peername(uvs_stream_t *tcp, char *ip, size_t ip_size, int *port, int *family);

/* ========================================================================== */
/* 7. Timer                                                                   */
/* ========================================================================== */

/** The timer expired. */
typedef void (*uvs_timer_cb)(uvs_timer_t *timer, void *user_data);

/** Creates a timer on loop and stores it in *out (one reference for the caller).
 *  Errors: UVS_EINVAL, UVS_ECLOSED (closed loop), UVS_EWRONGTHREAD. *out is NULL on
 *  error. */
int uvs_timer_new(uvs_loop_t *loop, uvs_timer_t **out);

/** Starts (or restarts) the timer: cb(timer, user_data) runs after timeout_ms and then
 *  every repeat_ms if repeat_ms > 0. Errors: UVS_EINVAL (NULL timer or cb),
 *  UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_timer_start(uvs_timer_t *timer, uint64_t timeout_ms, uint64_t repeat_ms, uvs_timer_cb cb,
                    void *user_data);

/** Stops the timer; safe to repeat. Errors: UVS_EINVAL, UVS_ECLOSED,
 *  UVS_EWRONGTHREAD. */
int uvs_timer_stop(uvs_timer_t *timer);

/** Restarts a repeating timer with its repeat value as the timeout; stops a timer
 *  whose repeat is 0. Errors: UVS_EINVAL (NULL, or the timer was never started),
 *  UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_timer_again(uvs_timer_t *timer);

/** Sets the repeat interval in ms; takes effect at the next expiry.
 *  Errors: UVS_EINVAL, UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_timer_set_repeat(uvs_timer_t *timer, uint64_t repeat_ms);

/** The repeat interval in ms (0 for NULL or a closed timer). */
uint64_t uvs_timer_repeat(const uvs_timer_t *timer);

/* ========================================================================== */
/* 8. Pipes                                                                   */
/* ========================================================================== */

/** Flags for uvs_pipe_chmod(). */
#define UVS_PIPE_READABLE 1
#define UVS_PIPE_WRITABLE 2

/** Longest path a Unix socket accepts, NUL excluded (sizeof sun_path - 1 on Linux).
 *  Longer paths are rejected with UVS_ENAMETOOLONG, never truncated. */
#define UVS_PIPE_PATH_MAX 107

/** Creates a pipe stream on loop and stores it in *out (one reference for the caller).
 *  ipc 1 makes it an IPC pipe, able to send and receive handles (uvs_write2()).
 *  Errors: UVS_EINVAL (NULL loop or out), UVS_ECLOSED (closed loop), UVS_EWRONGTHREAD.
 *  *out is NULL on error. */
int uvs_pipe_new(uvs_loop_t *loop, int ipc, uvs_stream_t **out);

/** Adopts an existing pipe or Unix-domain stream socket fd; the handle owns it from then
 *  on (fds 0-2 excepted: they are never closed by the library). The fd is made
 *  non-blocking, which also affects other processes sharing it (a shell's stdin,
 *  say). Errors: UVS_EINVAL (NULL, not a pipe handle, fd < 0, or fd is not a pipe,
 *  FIFO or Unix stream socket: a regular file, /dev/null, a TCP socket, a terminal),
 *  UVS_EBADF (fd not open), UVS_EBUSY (the handle already has a descriptor),
 *  UVS_EEXIST (a stream of this loop owns fd already: both would close it),
 *  UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_pipe_open(uvs_stream_t *pipe, int fd);

/** Binds to a filesystem path (the socket file is created; remove it yourself when
 *  done). An IPC pipe cannot listen (libuv refuses: UVS_EINVAL from uvs_listen()).
 *  Errors: UVS_EINVAL (NULL, not a pipe, already bound, an empty path),
 *  UVS_ENAMETOOLONG (longer than UVS_PIPE_PATH_MAX), UVS_EADDRINUSE, UVS_EACCES (also for a directory in the
 *  path that does not exist: libuv 1.44 reports ENOENT so), UVS_ECLOSED,
 *  UVS_EWRONGTHREAD. */
int uvs_pipe_bind(uvs_stream_t *pipe, const char *path);

/** Connects to the Unix socket at path; cb(pipe, status, user_data) runs once from the
 *  loop (cb may be NULL). Every connection error arrives in cb, never as the return
 *  value: UVS_ENOENT, UVS_ECONNREFUSED, UVS_ENAMETOOLONG (path longer than
 *  UVS_PIPE_PATH_MAX), ... A pipe whose connect failed cannot connect again: make a new
 *  handle. Returns an error only for misuse: UVS_EINVAL (NULL pipe or path, not a pipe,
 *  an earlier connect on this pipe failed), UVS_EALREADY (a connect is pending),
 *  UVS_EISCONN, UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_pipe_connect(uvs_stream_t *pipe, const char *path, uvs_connect_cb cb, void *user_data);

/** Makes a bound pipe's socket file readable and/or writable by everyone
 *  (UVS_PIPE_READABLE | UVS_PIPE_WRITABLE). Errors: UVS_EINVAL (NULL, not a pipe,
 *  bad flags), UVS_EBADF (no descriptor), UVS_ENOENT (a descriptor but no path: a
 *  socket-pair end), UVS_ECLOSED, UVS_EWRONGTHREAD, chmod errors. */
int uvs_pipe_chmod(uvs_stream_t *pipe, int flags);

/** The path the pipe is bound to, NUL-terminated in path (size bytes; UVS_PIPE_PATH_MAX
 *  + 1 is always enough). *length, if not NULL, receives the path's length, also when
 *  the call fails with UVS_ENOBUFS. An unbound pipe gives an empty string. Errors: UVS_EINVAL (NULL pipe or path, not a pipe),
 *  UVS_ENOBUFS (size too small), UVS_EBADF (no descriptor), UVS_ECLOSED,
 *  UVS_EWRONGTHREAD. */
int uvs_pipe_sockname(uvs_stream_t *pipe, char *path, size_t size, size_t *length);

/** The path of the peer's socket, like uvs_pipe_sockname() (empty when the peer is
 *  unbound, for example one end of uvs_socketpair()). Errors: as uvs_pipe_sockname(),
 *  and UVS_ENOTCONN. */
int uvs_pipe_peername(uvs_stream_t *pipe, char *path, size_t size, size_t *length);

/** Sets the number of pending pipe instances of a listening pipe (meaningful on
 *  Windows; accepted and ignored elsewhere). Errors: UVS_EINVAL (NULL, not a pipe,
 *  count < 1), UVS_ECLOSED, UVS_EWRONGTHREAD. */
int uvs_pipe_pending_instances(uvs_stream_t *pipe, int count);

/** The number of handles received over an IPC pipe and not yet accepted (0 if none or
 *  closed). Errors: UVS_EINVAL (NULL, not a pipe). */
int uvs_pipe_pending_count(uvs_stream_t *pipe);

/** The kind of the next handle waiting to be accepted: UVS_KIND_TCP or UVS_KIND_PIPE,
 *  or 0 if none is waiting (or closed). Accept it with uvs_accept(pipe, client) into a
 *  new handle of that kind. Errors: UVS_EINVAL (NULL, not a pipe). */
int uvs_pipe_pending_kind(uvs_stream_t *pipe);

/** 1 if the stream is an IPC pipe, 0 otherwise. Valid on a closed handle.
 *  Errors: UVS_EINVAL. */
int uvs_is_ipc(const uvs_stream_t *stream);

/** Creates an anonymous pipe: fds[0] is the read end, fds[1] the write end, both
 *  close-on-exec. The caller owns both fds (adopt them with uvs_pipe_open()).
 *  Any thread. Errors: UVS_EINVAL (fds NULL), UVS_EMFILE, UVS_ENFILE. */
int uvs_pipe_pair(int fds[2]);

/** Creates a connected pair of Unix stream sockets (bidirectional, able to pass handles
 *  when both ends are opened as IPC pipes), close-on-exec; the caller owns both fds.
 *  Any thread. Errors: UVS_EINVAL (fds NULL), UVS_EMFILE, UVS_ENFILE. */
int uvs_socketpair(int fds[2]);

/* ========================================================================== */
/* 9. TTYs                                                                    */
/* ========================================================================== */

/** Terminal modes for uvs_tty_set_mode(). */
typedef enum {
    UVS_TTY_MODE_NORMAL = 0, /* line-buffered, echo, signals: the terminal's defaults */
    UVS_TTY_MODE_RAW = 1,    /* byte by byte, no echo, no signal keys (output still maps
                                "\n" to "\r\n") */
    UVS_TTY_MODE_IO = 2      /* binary-safe I/O (used for IPC); Unix only */
} uvs_tty_mode;

/** Creates a TTY stream over fd, a terminal, and stores it in *out (one reference for
 *  the caller). readable 1 for input (a keyboard), 0 for output only: such a TTY is
 *  not readable and uvs_read_start() returns UVS_ENOTCONN (libuv itself ignores the
 *  flag on Unix). The handle works on its own duplicate of fd: the caller keeps fd
 *  as it was, and closing the handle never closes it (uvs_fileno() reports the
 *  handle's descriptor, not fd). libuv reopens a terminal it can (a pty slave, a
 *  console, not a pty master), so the non-blocking mode it sets does not leak to
 *  other processes sharing the terminal.
 *  Errors: UVS_EINVAL (NULL loop or out, fd < 0, or fd is not a terminal: a file, pipe,
 *  socket or /dev/null), UVS_EBADF (fd not open), UVS_EMFILE (no descriptor left for
 *  the duplicate), UVS_ECLOSED (closed loop), UVS_EWRONGTHREAD. *out is NULL on
 *  error. */
int uvs_tty_new(uvs_loop_t *loop, int fd, int readable, uvs_stream_t **out);

/** Sets the terminal mode. Errors: UVS_EINVAL (NULL, not a TTY, unknown mode),
 *  UVS_ECLOSED, UVS_EWRONGTHREAD, terminal errors. */
int uvs_tty_set_mode(uvs_stream_t *tty, uvs_tty_mode mode);

/** The terminal's size in columns and rows; width and height may be NULL.
 *  Errors: UVS_EINVAL (NULL tty, not a TTY), UVS_ECLOSED, UVS_EWRONGTHREAD, terminal
 *  errors. */
int uvs_tty_get_winsize(uvs_stream_t *tty, int *width, int *height);

/** Restores the mode the terminal had before the first uvs_tty_set_mode() away from
 *  normal. Call it at exit, before closing the TTY that changed the mode (libuv keeps
 *  that TTY's fd: once it is closed this fails). It is async-signal-safe in libuv: a
 *  signal handler may call it. Any thread. Errors: UVS_EBUSY (another thread is
 *  changing a mode right now), UVS_ENOTTY or UVS_EBADF (that TTY is already closed). */
int uvs_tty_reset_mode(void);

#ifdef __cplusplus
}
#endif

#endif /* SWIFTUVSTREAM_H */
