/* libuv as seen by the Swift core. */
#include <uv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <signal.h>
#include <pthread.h>

/* Sets SIGPIPE to SIG_IGN if it still has its default disposition, so a write to a
 * closed peer fails with EPIPE instead of killing the process. A handler (or SIG_IGN)
 * the program installed itself is left alone. */
static inline void clibuv_ignore_sigpipe_if_default(void) {
    struct sigaction current;
    if (sigaction(SIGPIPE, NULL, &current) == 0 && current.sa_handler == SIG_DFL) {
        signal(SIGPIPE, SIG_IGN);
    }
}
