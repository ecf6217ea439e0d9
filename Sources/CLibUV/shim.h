/* libuv as seen by the Swift core. */
#include <uv.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <signal.h>
#include <pthread.h>
#include <unistd.h>

/* Sets SIGPIPE to SIG_IGN if it still has its default disposition, so a write to a
 * closed peer fails with EPIPE instead of killing the process. A handler (or SIG_IGN)
 * the program installed itself is left alone. */
static inline void clibuv_ignore_sigpipe_if_default(void) {
    struct sigaction current;
    if (sigaction(SIGPIPE, NULL, &current) == 0 && current.sa_handler == SIG_DFL) {
        signal(SIGPIPE, SIG_IGN);
    }
}

/* The S_IFMT bits of fd's file type (S_IFSOCK, S_IFIFO, ...), or -errno (-EBADF for
 * a closed fd). */
static inline int clibuv_file_type(int fd) {
    struct stat status;
    if (fstat(fd, &status) != 0) return -errno;
    return (int)(status.st_mode & S_IFMT);
}

/* fd's access mode (O_RDONLY, O_WRONLY or O_RDWR), or -errno. */
static inline int clibuv_access_mode(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -errno : (flags & O_ACCMODE);
}

/* A close-on-exec duplicate of fd (numbered 3 or above), or -errno. */
static inline int clibuv_duplicate(int fd) {
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    return copy < 0 ? -errno : copy;
}

/* Closes a descriptor the library made itself (a clibuv_duplicate()). */
static inline void clibuv_close(int fd) {
    (void)close(fd);
}
