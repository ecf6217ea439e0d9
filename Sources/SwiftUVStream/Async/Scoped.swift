import CLibUV

// Scoped helpers in the spirit of `withThrowingTaskGroup`: a connection (or a timer)
// exists for the duration of a body and is closed when the body returns or throws.

extension TCP {
    /// Connects to `host`:`port` on `loop`, runs `body` with the connection, and closes
    /// the connection when `body` returns or throws (waiting for the close to finish),
    /// then returns what `body` returned or rethrows what it threw. Cancelling the task
    /// closes the connection at once; `body`'s calls on it then end with
    /// ``UVError/canceled``.
    ///
    /// ```swift
    /// let reply = try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
    ///     try await connection.write(Array("ping".utf8))
    ///     try await connection.shutdown()
    ///     var reply: [UInt8] = []
    ///     for try await chunk in try connection.reads() { reply += chunk }
    ///     return reply
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - host: A numeric IPv4 or IPv6 address.
    ///   - port: The port.
    ///   - loop: The loop; call from its thread (code isolated to its ``LoopThread``).
    ///   - isolation: The caller's actor, filled in by the compiler: `body` runs there.
    ///   - body: Uses the connection; it must not keep it beyond its return.
    /// - Throws: the connect's error (the stream is closed before it is thrown), or
    ///   whatever `body` throws.
    public static func withConnection<Result>(
        to host: String, port: Int, on loop: Loop,
        isolation: isolated (any Actor)? = #isolation,
        _ body: nonisolated(nonsending) (TCP) async throws -> Result
    ) async throws -> Result {
        let connection = try TCP(loop: loop)
        do {
            try await connection.connect(to: host, port: port)
        } catch {
            try? await connection.close()
            throw error
        }
        return try await runClosing(connection, body)
    }
}

extension Pipe {
    /// Connects to the Unix socket at `path` on `loop`, runs `body` with the
    /// connection, and closes it when `body` returns or throws; see
    /// ``TCP/withConnection(to:port:on:isolation:_:)``.
    public static func withConnection<Result>(
        to path: String, on loop: Loop, ipc: Bool = false,
        isolation: isolated (any Actor)? = #isolation,
        _ body: nonisolated(nonsending) (Pipe) async throws -> Result
    ) async throws -> Result {
        let connection = try Pipe(loop: loop, ipc: ipc)
        do {
            try await connection.connect(to: path)
        } catch {
            try? await connection.close()
            throw error
        }
        return try await runClosing(connection, body)
    }
}

// `closing` for each kind of handle, so `body` gets the handle's own type.

extension TCP {
    /// Runs `body` with the stream and closes it when `body` returns or throws
    /// (waiting for the close to finish), or at once if the task is cancelled: scoped
    /// ownership for a stream made any other way than
    /// ``withConnection(to:port:on:isolation:_:)`` — an accepted connection, a server.
    ///
    /// ```swift
    /// for try await connection in try server.connections() {
    ///     try await connection.closing { connection in
    ///         for try await chunk in try connection.reads() { try await connection.write(chunk) }
    ///     }
    /// }
    /// ```
    public func closing<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: nonisolated(nonsending) (TCP) async throws -> Result
    ) async throws -> Result {
        try await runClosing(self, body)
    }
}

extension Pipe {
    /// Runs `body` with the pipe and closes it when `body` returns or throws; see
    /// ``TCP/closing(isolation:_:)``.
    public func closing<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: nonisolated(nonsending) (Pipe) async throws -> Result
    ) async throws -> Result {
        try await runClosing(self, body)
    }
}

extension TTY {
    /// Runs `body` with the terminal stream and closes it when `body` returns or
    /// throws; see ``TCP/closing(isolation:_:)``.
    public func closing<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: nonisolated(nonsending) (TTY) async throws -> Result
    ) async throws -> Result {
        try await runClosing(self, body)
    }
}

extension Timer {
    /// Runs `body` with the timer and closes it when `body` returns or throws; see
    /// ``TCP/closing(isolation:_:)``.
    public func closing<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: nonisolated(nonsending) (Timer) async throws -> Result
    ) async throws -> Result {
        try await runClosing(self, body)
    }
}

/// Runs `body` with `handle`, then closes `handle` whatever happened; cancelling the
/// task closes `handle` at once.
func runClosing<H: Handle, Result>(
    _ handle: H, isolation: isolated (any Actor)? = #isolation, _ body: nonisolated(nonsending) (H) async throws -> Result
) async throws -> Result {
    let result: Result
    do {
        result = try await withCancellationClosing(handle) { try await body(handle) }
    } catch {
        try? await handle.close()
        throw error
    }
    try await handle.close()
    return result
}

extension Loop {
    /// Suspends the task for `milliseconds` of loop time, on a timer of this loop.
    ///
    /// - Throws: ``UVError/canceled`` if the task is cancelled first (the timer is
    ///   then closed); ``UVError/wrongThread`` off the loop's thread;
    ///   ``UVError/closed`` on a closed loop.
    public func sleep(
        milliseconds: UInt64, isolation: isolated (any Actor)? = #isolation
    ) async throws(UVError) {
        let timer = try Timer(loop: self)
        if Task.isCancelled {
            try? await timer.close()
            throw .canceled
        }
        let state = timer.asyncState
        let status = await suspend(on: timer) { continuation in
            state.timerWaiter = continuation
            do throws(UVError) {
                try timer.start(timeout: milliseconds) { _ in state.finishTimer(0) }
            } catch {
                state.finishTimer(error.code)
            }
        }
        try? await timer.close()
        try StatusCode(status).check()
    }
}
