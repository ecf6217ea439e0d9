import CLibUV

/// A pipe stream: a Unix-domain socket (bound, connected, or one end of a socket pair)
/// or an anonymous pipe / FIFO. An IPC pipe can also send and receive handles.
///
/// Threading: one loop, one thread. Not `Sendable`: use it on its loop's thread only —
/// from the loop's callbacks, or from code isolated to its ``LoopThread``. Elsewhere,
/// while the loop runs, every call throws ``UVError/wrongThread``.
public final class Pipe: Stream {
    private let ipc: Bool

    /// The longest path a Unix socket takes (sun_path less its NUL): longer paths are
    /// rejected, where libuv 1.44 would silently truncate them.
    public static let maximumPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Creates a pipe; `ipc` makes it able to pass handles.
    public init(loop: Loop, ipc: Bool = false) throws(UVError) {
        try loop.checkUsable()
        self.ipc = ipc
        super.init(loop: loop, kind: .pipe, type: UV_NAMED_PIPE)
        try check(uv_pipe_init(loop.raw, pipe, ipc ? 1 : 0))
        didInitialize()
    }

    var pipe: UnsafeMutablePointer<uv_pipe_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_pipe_t.self)
    }

    /// Whether this is an IPC pipe, able to send and receive handles (set at creation).
    public override var isIPC: Bool { ipc }

    /// Adopts an open pipe, FIFO or Unix stream socket. Anything else (a regular file,
    /// /dev/null, a TCP socket, a terminal) is `UV_EINVAL`: libuv would accept some
    /// of them and misbehave later. One that a handle of this loop owns already is
    /// `UV_EEXIST` (both would close it).
    public func open(_ fd: Int32) throws(UVError) {
        try checkUsable()
        guard fd >= 0 else { throw .invalidArgument }
        let type = try check(clibuv_file_type(fd))
        guard type == S_IFIFO || type == S_IFSOCK, uv_guess_handle(fd) == UV_NAMED_PIPE else {
            throw .invalidArgument
        }
        var existing: uv_os_fd_t = -1
        guard uv_fileno(handle, &existing) == UV_EBADF.rawValue else { throw .busy }
        guard !loop.hasHandle(owning: fd) else { throw UVError(code: UV_EEXIST.rawValue) }
        try check(uv_pipe_open(pipe, fd))
        let access = clibuv_access_mode(fd)
        didOpen(readable: access != O_WRONLY, writable: access != O_RDONLY)
    }

    /// Binds to a filesystem path; `UV_ENAMETOOLONG` beyond ``maximumPathLength``,
    /// `UV_EINVAL` for an empty path.
    public func bind(path: String) throws(UVError) {
        try Pipe.withCPath(path) { (cPath) throws(UVError) in try bind(cPath: cPath) }
    }

    /// ``bind(path:)`` with the path as a C string, whose bytes are used as they are:
    /// a Linux path need not be UTF-8 (for bindings that hold paths as bytes).
    public func bind(cPath: UnsafePointer<CChar>) throws(UVError) {
        try checkUsable()
        let length = strlen(cPath)
        // libuv would bind the empty path to Linux's abstract address of zero bytes.
        guard length > 0 else { throw .invalidArgument }
        guard length <= Pipe.maximumPathLength else { throw UVError(code: UV_ENAMETOOLONG.rawValue) }
        try check(uv_pipe_bind(pipe, cPath))
    }

    /// Connects to the Unix socket at `path`. Every connection error, a too-long path
    /// included, is reported through `completion`, from the loop.
    public func connect(to path: String, completion: RequestCompletion) throws(UVError) {
        try Pipe.withCPath(path) { (cPath) throws(UVError) in try connect(toCPath: cPath, completion: completion) }
    }

    /// Runs `body` with `path` as a C string (`withCString` does not carry typed throws).
    private static func withCPath(
        _ path: String, _ body: (UnsafePointer<CChar>) throws(UVError) -> Void
    ) throws(UVError) {
        let failure: UVError? = path.withCString { cPath in
            do throws(UVError) {
                try body(cPath)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// ``connect(to:completion:)`` with the path as a C string, whose bytes are used as
    /// they are (see ``bind(cPath:)``).
    public func connect(toCPath cPath: UnsafePointer<CChar>, completion: RequestCompletion) throws(UVError) {
        let tooLong = strlen(cPath) > Pipe.maximumPathLength
        try beginConnect(completion, failure: tooLong ? UV_ENAMETOOLONG.rawValue : nil) { request in
            uv_pipe_connect(request, pipe, cPath, Stream.connectTrampoline)
            return 0
        }
    }

    /// Makes the bound socket file readable and/or writable by everyone.
    public func chmod(readable: Bool, writable: Bool) throws(UVError) {
        try checkUsable()
        let flags = (readable ? UV_READABLE.rawValue : 0) | (writable ? UV_WRITABLE.rawValue : 0)
        guard flags != 0 else { throw .invalidArgument }
        try check(uv_pipe_chmod(pipe, Int32(flags)))
    }

    /// The bound path ("" when unbound).
    public func socketName() throws(UVError) -> String {
        String(decoding: try socketNameBytes(), as: UTF8.self)
    }

    /// The peer's path ("" when the peer is unbound).
    public func peerName() throws(UVError) -> String {
        String(decoding: try peerNameBytes(), as: UTF8.self)
    }

    /// The bound path's bytes, as they are (a Linux path need not be UTF-8).
    public func socketNameBytes() throws(UVError) -> [UInt8] {
        try checkUsable()
        return try Pipe.readPath { uv_pipe_getsockname(pipe, $0, $1) }
    }

    /// The peer's path's bytes, as they are.
    public func peerNameBytes() throws(UVError) -> [UInt8] {
        try checkUsable()
        return try Pipe.readPath { uv_pipe_getpeername(pipe, $0, $1) }
    }

    private static func readPath(
        _ read: (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int>) -> Int32
    ) throws(UVError) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: maximumPathLength + 2)
        var length = buffer.count
        try check(read(&buffer, &length))
        return buffer.prefix(Swift.min(length, buffer.count)).map { UInt8(bitPattern: $0) }
    }

    /// Pending pipe instances of a listening pipe (Windows only; accepted elsewhere).
    public func setPendingInstances(_ count: Int32) throws(UVError) {
        try checkUsable()
        guard count >= 1 else { throw .invalidArgument }
        uv_pipe_pending_instances(pipe, count)
    }

    /// Handles received over this IPC pipe and not yet accepted.
    public var pendingCount: Int {
        isClosing ? 0 : Int(uv_pipe_pending_count(pipe))
    }

    override var pendingHandleKind: HandleKind? {
        guard !isClosing, uv_pipe_pending_count(pipe) > 0 else { return nil }
        switch uv_pipe_pending_type(pipe) {
        case UV_TCP: return .tcp
        case UV_NAMED_PIPE: return .pipe
        default: return nil
        }
    }

    /// The kind of the next handle waiting to be accepted (`.tcp` or `.pipe`), if any.
    public var pendingKind: HandleKind? { pendingHandleKind }

    /// An anonymous pipe: (read end, write end), close-on-exec, owned by the caller.
    public static func makePipe() throws(UVError) -> (read: Int32, write: Int32) {
        var fds: [uv_file] = [-1, -1]
        try check(uv_pipe(&fds, 0, 0))
        return (fds[0], fds[1])
    }

    /// A connected pair of Unix stream sockets, close-on-exec, owned by the caller.
    public static func makeSocketPair() throws(UVError) -> (Int32, Int32) {
        var fds: [uv_os_sock_t] = [-1, -1]
        try check(uv_socketpair(Int32(SOCK_STREAM.rawValue), 0, &fds, 0, 0))
        return (fds[0], fds[1])
    }
}
