import CLibUV

/// A TCP stream.
///
/// Threading: one loop, one thread. Not `Sendable`: use it on its loop's thread only —
/// from the loop's callbacks, or from code isolated to its ``LoopThread``. Elsewhere,
/// while the loop runs, every call throws ``UVError/wrongThread``.
public final class TCP: Stream {
    /// Creates a TCP stream. `family` 0 creates the socket lazily (at bind, connect or
    /// open); `AF_INET` or `AF_INET6` creates it now.
    public init(loop: Loop, family: Int32 = 0) throws(UVError) {
        try loop.checkUsable()
        guard family == 0 || family == AF_INET || family == AF_INET6 else { throw .invalidArgument }
        super.init(loop: loop, kind: .tcp, type: UV_TCP)
        try check(uv_tcp_init_ex(loop.raw, tcp, UInt32(family)))
        didInitialize()
    }

    var tcp: UnsafeMutablePointer<uv_tcp_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_tcp_t.self)
    }

    /// Adopts an open TCP socket; the stream owns it from then on. A descriptor that is
    /// not a socket gives `UV_ENOTSOCK`, a socket of another kind `UV_EINVAL` (libuv
    /// itself would misbehave on either), one that a handle of this loop owns already
    /// `UV_EEXIST` (both would close it, and libuv aborts on the stale descriptor).
    public func open(_ fd: Int32) throws(UVError) {
        try checkUsable()
        guard fd >= 0 else { throw .invalidArgument }
        guard try check(clibuv_file_type(fd)) == S_IFSOCK else { throw .notSocket }
        guard uv_guess_handle(fd) == UV_TCP else { throw .invalidArgument }
        var existing: uv_os_fd_t = -1
        guard uv_fileno(handle, &existing) == UV_EBADF.rawValue else { throw .busy }
        guard !loop.hasHandle(owning: fd) else { throw UVError(code: UV_EEXIST.rawValue) }
        try check(uv_tcp_open(tcp, fd))
        didConnect()
    }

    /// Binds to a numeric address and port (0 = any free port). libuv defers
    /// `UV_EADDRINUSE` to ``Stream/listen(backlog:_:)`` or ``connect(to:port:completion:)``.
    public func bind(host: String, port: Int, ipv6Only: Bool = false) throws(UVError) {
        try checkUsable()
        let flags = ipv6Only ? UInt32(UV_TCP_IPV6ONLY.rawValue) : 0
        let result = try SocketAddress.withSockaddr(host: host, port: port) { address in
            uv_tcp_bind(tcp, address, flags)
        }
        try check(result)
    }

    /// Connects to a numeric address and port; `completion` reports once from the
    /// loop, with connection errors. The stream is writable at once: writes wait.
    public func connect(to host: String, port: Int, completion: RequestCompletion) throws(UVError) {
        try checkUsable()
        try SocketAddress.withSockaddr(host: host, port: port) { (address) throws(UVError) in
            try beginConnect(completion) { request in
                uv_tcp_connect(request, tcp, address, Stream.connectTrampoline)
            }
        }
    }

    /// Sets TCP_NODELAY (remembered until the socket exists).
    public func setNoDelay(_ enable: Bool) throws(UVError) {
        try checkUsable()
        try check(uv_tcp_nodelay(tcp, enable ? 1 : 0))
    }

    /// Enables keep-alive with `delay` seconds of idle time before the first probe, or
    /// disables it.
    public func setKeepAlive(_ enable: Bool, delay: UInt32) throws(UVError) {
        try checkUsable()
        try check(uv_tcp_keepalive(tcp, enable ? 1 : 0, delay))
    }

    /// Simultaneous asynchronous accepts (meaningful on Windows only).
    public func setSimultaneousAccepts(_ enable: Bool) throws(UVError) {
        try checkUsable()
        try check(uv_tcp_simultaneous_accepts(tcp, enable ? 1 : 0))
    }

    /// The local address.
    public func socketName() throws(UVError) -> SocketAddress {
        try checkUsable()
        return try SocketAddress.read { uv_tcp_getsockname(tcp, $0, $1) }
    }

    /// The peer's address.
    public func peerName() throws(UVError) -> SocketAddress {
        try checkUsable()
        return try SocketAddress.read { uv_tcp_getpeername(tcp, $0, $1) }
    }
}
