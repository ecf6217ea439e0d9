import CLibUV

/// A terminal stream.
///
/// Threading: one loop, one thread. Not `Sendable`: use it on its loop's thread only —
/// from the loop's callbacks, or from code isolated to its ``LoopThread``. Elsewhere,
/// while the loop runs, every call throws ``UVError/wrongThread``.
public final class TTY: Stream {
    /// Terminal modes.
    public enum Mode: Int32, Sendable {
        /// Line-buffered with echo and signal keys: the terminal's defaults.
        case normal = 0
        /// Byte by byte, no echo, no signal keys.
        case raw = 1
        /// Binary-safe I/O (used for IPC).
        case io = 2
    }

    /// Opens the terminal `fd`, for input if `readable`. A descriptor that is not a
    /// terminal (a file, pipe, socket, /dev/null) is `UV_EINVAL`.
    ///
    /// The handle works on a duplicate of `fd`: the caller keeps `fd` as it was, and
    /// closing the handle never closes it. (libuv closes the descriptor it is given
    /// whenever it cannot reopen the terminal — a pty master, say — so it never sees
    /// the caller's.) libuv reopens a terminal it can, so the non-blocking mode it sets
    /// does not leak to other processes sharing it.
    public init(loop: Loop, fd: Int32, readable: Bool) throws(UVError) {
        try loop.checkUsable()
        guard fd >= 0 else { throw .invalidArgument }
        try check(clibuv_file_type(fd))
        guard uv_guess_handle(fd) == UV_TTY else { throw .invalidArgument }
        let duplicate = try check(clibuv_duplicate(fd))
        super.init(loop: loop, kind: .tty, type: UV_TTY)
        let status = uv_tty_init(loop.raw, tty, duplicate, readable ? 1 : 0)
        var inUse: uv_os_fd_t = -1
        // After a reopen, libuv uses the new descriptor (and put it on `duplicate` too).
        if status != 0 || uv_fileno(handle, &inUse) != 0 || inUse != duplicate {
            clibuv_close(duplicate)
        }
        try check(status)
        didInitialize()
        didOpen(readable: readable, writable: true)
    }

    var tty: UnsafeMutablePointer<uv_tty_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_tty_t.self)
    }

    /// Sets the terminal mode.
    public func setMode(_ mode: Mode) throws(UVError) {
        try checkUsable()
        try check(uv_tty_set_mode(tty, uv_tty_mode_t(UInt32(mode.rawValue))))
    }

    /// The terminal's size in columns and rows.
    public func windowSize() throws(UVError) -> (width: Int32, height: Int32) {
        try checkUsable()
        var width: Int32 = 0
        var height: Int32 = 0
        try check(uv_tty_get_winsize(tty, &width, &height))
        return (width, height)
    }

    /// Restores the terminal mode saved by the first change away from normal. Any
    /// thread; async-signal-safe in libuv.
    public static func resetMode() throws(UVError) {
        try check(uv_tty_reset_mode())
    }
}
