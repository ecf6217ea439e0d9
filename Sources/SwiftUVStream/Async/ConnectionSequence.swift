import CLibUV

/// The connections arriving at a listening stream, as an asynchronous sequence of
/// accepted client streams.
///
/// ```swift
/// let server = try TCP(loop: thread.loop)
/// try server.bind(host: "127.0.0.1", port: 0)
/// for try await connection in try server.connections() {
///     try await connection.closing { connection in     // one at a time
///         for try await chunk in try connection.reads() { try await connection.write(chunk) }
///     }
/// }
/// ```
///
/// ``serve(isolation:_:)`` serves the connections concurrently instead, each in a task
/// of its own on the loop's thread. (A connection cannot be handed to a child task of a
/// task group: it is not `Sendable`, and the child is not isolated to the loop.)
///
/// Connections are accepted lazily, one per `next`: until then they wait in the
/// kernel's backlog (libuv holds at most one), so nothing is lost and nothing piles up
/// in memory when the consumer is slow.
///
/// - Each `next` returns a new, connected client stream of the server's kind on the
///   server's loop. The consumer owns it: close it when done.
/// - A failure the listener reports (`EMFILE`, ...) is thrown by the next `next`;
///   iterating again goes on listening.
/// - Closing the listener resumes a waiting iteration with ``UVError/canceled``; later
///   iterations throw ``UVError/closed`` (``UVError/canceled`` in a cancelled task).
/// - Cancelling the iterating task closes the listener (the iteration throws
///   ``UVError/canceled``).
///
/// Threading: iterate on the loop's thread (in code isolated to a ``LoopThread``).
public struct ConnectionSequence<Client: Stream>: AsyncSequence {
    /// An accepted connection.
    public typealias Element = Client
    /// Accepting fails with ``UVError``.
    public typealias Failure = UVError

    /// The listening stream.
    public let server: Stream
    private let makeClient: (Loop) throws(UVError) -> Client

    init(server: Stream, makeClient: @escaping (Loop) throws(UVError) -> Client) {
        self.server = server
        self.makeClient = makeClient
    }

    /// Makes an iterator.
    public func makeAsyncIterator() -> Iterator {
        Iterator(server: server, makeClient: makeClient)
    }

    /// Accepts one waiting connection per `next`.
    public struct Iterator: AsyncIteratorProtocol {
        private let server: Stream
        private let makeClient: (Loop) throws(UVError) -> Client

        init(server: Stream, makeClient: @escaping (Loop) throws(UVError) -> Client) {
            self.server = server
            self.makeClient = makeClient
        }

        /// The next connection, accepted; suspends until one arrives. Never nil: the
        /// sequence ends only by an error (or the caller leaving the loop).
        ///
        /// - Throws: the listener's error; ``UVError/busy`` if another task is waiting
        ///   on the same listener; ``UVError/canceled`` if the listener closes (or the
        ///   task is cancelled) while waiting; ``UVError/closed`` afterwards
        ///   (``UVError/canceled`` in a cancelled task).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(UVError) -> Client? {
            while true {
                try server.checkAsyncUsable()
                guard let state = server.asyncState.acceptor else { throw .invalidArgument }
                if state.pending > 0 {
                    state.pending -= 1
                    let client = try makeClient(server.loop)
                    do throws(UVError) {
                        try server.accept(into: client)
                        return client
                    } catch {
                        client.closeOnLoopThread(nil)
                        // The connection was withdrawn before it could be accepted.
                        if error == .tryAgain { continue }
                        throw error
                    }
                }
                if let failure = state.failure {
                    state.failure = nil
                    throw failure
                }
                try await state.wait(server)
            }
        }

        /// The next connection; see ``next(isolation:)``. Runs on the caller's actor, as
        /// `for try await` does, so a manual `iterator.next()` works in code isolated to
        /// the ``LoopThread``.
        public nonisolated(nonsending) mutating func next() async throws(UVError) -> Client? {
            try await next(isolation: #isolation)
        }
    }
}

extension ConnectionSequence {
    /// Accepts connections and serves each in a task of its own on the caller's actor
    /// (the loop's thread), closing each connection when its handler returns or throws.
    /// Runs until accepting fails: the listener reports an error, is closed, or the
    /// task is cancelled. The handlers still running are then cancelled (which closes
    /// their connections) and awaited before the error is thrown.
    ///
    /// ```swift
    /// try await server.connections().serve { connection in
    ///     for try await chunk in try connection.reads() {
    ///         try await connection.write(chunk)
    ///     }
    ///     try await connection.shutdown()
    /// }
    /// ```
    ///
    /// An error a handler throws ends that connection only.
    ///
    /// - Throws: what ended accepting: ``UVError/canceled`` when the listener closed or
    ///   the task was cancelled, or the listener's error.
    public func serve(
        isolation: isolated (any Actor)? = #isolation,
        _ handler: nonisolated(nonsending) @escaping (Client) async throws -> Void
    ) async throws(UVError) {
        let running = RunningHandlers()
        // Unstructured tasks do not inherit the task executor preference: set the
        // loop's again, so a handler resumed by I/O continues on the loop's thread.
        let preference = (isolation as? LoopThread)?.taskExecutor
        do throws(UVError) {
            for try await connection in self {
                let id = running.nextID
                running.nextID += 1
                running.tasks[id] = Task {
                    _ = isolation
                    await withTaskExecutorPreference(preference) {
                        _ = try? await runClosing(connection, handler)
                    }
                    running.tasks[id] = nil
                    if running.tasks.isEmpty, let waiter = running.waiter {
                        running.waiter = nil
                        waiter.resume()
                    }
                }
            }
        } catch {
            for task in running.tasks.values { task.cancel() }
            if !running.tasks.isEmpty {
                await withCheckedContinuation(isolation: isolation) { continuation in
                    running.waiter = continuation
                }
            }
            throw error
        }
    }
}

/// The handler tasks of `serve`, on the loop's thread only.
private final class RunningHandlers {
    var nextID = 0
    var tasks: [Int: Task<Void, Never>] = [:]
    var waiter: CheckedContinuation<Void, Never>?
}

extension Stream {
    /// Starts listening (unless the async layer listens already) and returns the
    /// sequence of accepted connections.
    func connectionSequence<Client: Stream>(
        backlog: Int32, makeClient: @escaping (Loop) throws(UVError) -> Client
    ) throws(UVError) -> ConnectionSequence<Client> {
        try checkUsable()
        if asyncState.acceptor == nil {
            let state = AcceptState()
            do throws(UVError) {
                try listen(backlog: backlog, state.callback)
            } catch {
                state.handleDidClose()   // never attached: drop the callback's hold on it
                throw error
            }
            asyncState.acceptor = state
        }
        return ConnectionSequence(server: self, makeClient: makeClient)
    }
}

extension TCP {
    /// Listens on the bound address and returns the connections as an asynchronous sequence of accepted TCP streams;
    /// see ``ConnectionSequence``.
    ///
    /// Called again, it returns another sequence over the same listener.
    ///
    /// - Parameter backlog: The kernel's queue of connections not yet accepted.
    /// - Throws: listen's errors at once — a busy port (`EADDRINUSE`, which libuv
    ///   defers from ``bind(host:port:ipv6Only:)`` to here), ``UVError/invalidArgument``
    ///   for a connected stream or a negative backlog.
    public func connections(backlog: Int32 = 128) throws(UVError) -> ConnectionSequence<TCP> {
        try connectionSequence(backlog: backlog) { (loop) throws(UVError) in try TCP(loop: loop) }
    }
}

extension Pipe {
    /// Listens on the bound path and returns the connections as an asynchronous
    /// sequence of accepted pipes; see ``ConnectionSequence``.
    ///
    /// - Parameters:
    ///   - backlog: The kernel's queue of connections not yet accepted.
    ///   - ipc: Whether the accepted pipes can pass handles.
    /// - Throws: listen's errors at once (an unbound pipe is ``UVError/invalidArgument``).
    public func connections(backlog: Int32 = 128, ipc: Bool = false) throws(UVError) -> ConnectionSequence<Pipe> {
        try connectionSequence(backlog: backlog) { (loop) throws(UVError) in try Pipe(loop: loop, ipc: ipc) }
    }
}

/// A listener's async accept state (on the loop's thread only).
final class AcceptState {
    /// Connections reported and not accepted yet.
    var pending = 0
    /// A failure the listener reported, not thrown yet.
    var failure: UVError?
    private var waiter: UnsafeContinuation<UVError?, Never>?

    /// The connection callback, made once. It holds the state strongly until the
    /// handle has closed (see `AsyncState.writeCompletion`).
    private(set) lazy var callback: ConnectionCallback = { _, status in
        self.didConnect(status)
    }

    private func didConnect(_ status: Int32) {
        if status == 0 {
            pending += 1
        } else if failure == nil {
            failure = UVError(code: status)
        }
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: nil)
        }
    }

    /// Waits for the next report from the listener.
    func wait(_ server: Stream, isolation: isolated (any Actor)? = #isolation) async throws(UVError) {
        guard waiter == nil else { throw .busy }
        let failure = await suspend(on: server) { continuation in
            waiter = continuation
        }
        if let failure { throw failure }
    }

    func handleDidClose() {
        callback = { _, _ in }   // the callback's hold on this state
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: .canceled)
        }
    }
}
