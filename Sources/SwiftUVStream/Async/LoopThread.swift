import Synchronization

/// A loop running on a thread of its own, and the actor whose executor it is: the
/// bridge from the callback model to Swift concurrency.
///
/// Code isolated to a `LoopThread` — the body of ``run(_:)``, or any function taking an
/// `isolated LoopThread` — runs on the loop's thread, between the loop's callbacks. It
/// may therefore use ``loop`` and every handle on it directly, and the async API
/// (``TCP/connect(to:port:isolation:)``, ``Stream/reads(highWatermark:lowWatermark:)``,
/// ``Stream/write(_:)``, ``TCP/connections(backlog:)``, ...) suspends a task
/// only while it waits for I/O: no hop per operation.
///
/// ```swift
/// let thread = try LoopThread()
/// let echoed = try await thread.run { thread in
///     try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
///         try await connection.write(Array("hello".utf8))
///         try await connection.shutdown()
///         var echoed: [UInt8] = []
///         for try await chunk in try connection.reads() { echoed += chunk }
///         return echoed
///     }
/// }
/// let leftOpen = await thread.shutdown()   // 0: every handle was closed
/// ```
///
/// Lifetime: the thread runs until ``shutdown()``, which closes every handle still open,
/// lets the loop finish, closes it and ends the thread. Dropping the last reference
/// without calling it shuts down the same way, in the background.
/// ``withLoopThread(bufferSize:_:)`` scopes all of it.
///
/// Threading: one loop, one thread. ``loop`` is isolated to the actor, so the compiler
/// keeps other threads away from it; ``shutdown()`` and ``executor`` may be used
/// from anywhere.
public actor LoopThread {
    /// The loop. Isolated: only code running on the loop's thread can reach it.
    public let loop: Loop
    private nonisolated let core: LoopThreadCore

    /// The executor that runs this actor's jobs on the loop's thread.
    public nonisolated var executor: LoopExecutor { core.executor }

    /// The loop's thread as a task executor: ``run(_:)`` makes its body (and the child
    /// tasks made there) prefer it; pass it to `Task(executorPreference:)` for an
    /// unstructured task that should stay on the loop's thread too.
    public nonisolated var taskExecutor: LoopTaskExecutor { core.taskExecutor }

    /// This actor's executor: the loop's thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        core.executor.asUnownedSerialExecutor()
    }

    /// The default size of the loop's read buffer, and so of the largest chunk a
    /// ``ReadSequence`` yields: 256 KiB (asyncio's read size), four times a ``Loop``'s.
    /// A stream that moves data at full speed then makes one read and one write per
    /// 256 KiB instead of four of each. It costs no memory per connection: the loop
    /// reads every stream into the same buffer, and a large read hands the buffer on
    /// instead of copying it (see ``ByteChunk``).
    public static let defaultBufferSize = 256 * 1024

    /// Creates a loop whose streams read into a shared buffer of `bufferSize` bytes and
    /// starts a thread that runs it.
    ///
    /// - Throws: ``UVError/invalidArgument`` for a buffer size out of range; the
    ///   loop's own errors; ``UVError/outOfMemory`` if no thread could be started.
    public init(bufferSize: Int = LoopThread.defaultBufferSize) throws(UVError) {
        let loop = try Loop(bufferSize: bufferSize)
        let core = LoopThreadCore(loop: loop)
        guard core.start() else {
            try? loop.close()
            throw .outOfMemory
        }
        self.loop = loop
        self.core = core
    }

    deinit {
        core.requestShutdown()
    }

    /// Runs `body` on the loop's thread, isolated to this `LoopThread`, and returns
    /// what it returns.
    ///
    /// Inside, `thread.loop` and its handles may be used directly; handles made there
    /// stay there (they are not `Sendable`), only the result comes back. The body runs
    /// with the loop's ``taskExecutor`` as its task executor preference, so the child
    /// tasks it makes (task groups, `async let`) run on the loop's thread as well, and a
    /// task resumed by an I/O callback continues right there.
    public func run<Result: Sendable, Failure: Error>(
        _ body: @Sendable (isolated LoopThread) async throws(Failure) -> Result
    ) async throws(Failure) -> Result {
        try await withTaskExecutorPreference(taskExecutor) { () async throws(Failure) -> Result in
            try await body(self)
        }
    }

    /// Closes every handle still open on the loop (their pending requests and
    /// suspended tasks complete with ``UVError/canceled``), lets the loop run until
    /// nothing is left, closes it and ends the thread. Returns how many handles were
    /// still open — 0 when every handle was closed before, the sign of a program (or
    /// test) that cleans up after itself.
    ///
    /// Call it once the tasks using the loop are done. Tasks still using it afterwards
    /// run on a helper thread and get ``UVError/closed`` from every call. Idempotent:
    /// later calls wait for the first to finish and return 0.
    @discardableResult
    public nonisolated func shutdown() async -> Int {
        await withCheckedContinuation { continuation in
            core.shutdown(continuation)
        }
    }

    /// Starts a `LoopThread`, runs `body` isolated to it, then shuts it down — also
    /// when `body` throws.
    ///
    /// ```swift
    /// try await LoopThread.withLoopThread { thread in
    ///     let server = try TCP(loop: thread.loop)
    ///     try server.bind(host: "127.0.0.1", port: 0)
    ///     for try await connection in try server.connections() { ... }
    /// }
    /// ```
    public static func withLoopThread<Result: Sendable>(
        bufferSize: Int = LoopThread.defaultBufferSize,
        _ body: @Sendable (isolated LoopThread) async throws -> Result
    ) async throws -> Result {
        let thread = try LoopThread(bufferSize: bufferSize)
        do {
            let result = try await thread.run(body)
            await thread.shutdown()
            return result
        } catch {
            await thread.shutdown()
            throw error
        }
    }
}

/// What a `LoopThread` shares with its thread: the loop, the executor and the shutdown
/// handshake. The loop is used on the loop's thread only (apart from `post`).
final class LoopThreadCore: @unchecked Sendable {
    private let loop: Loop
    let executor: LoopExecutor
    let taskExecutor: LoopTaskExecutor

    private struct Shutdown {
        var requested = false
        /// Handles left open, once the loop has closed.
        var result: Int?
        var waiters: [CheckedContinuation<Int, Never>] = []
        var resultTaken = false
    }

    private let state = Mutex(Shutdown())
    /// On the loop's thread only: the shutdown request has run there.
    private var isShuttingDown = false
    private var leftOpen = 0

    init(loop: Loop) {
        self.loop = loop
        executor = LoopExecutor(loop: loop)
        taskExecutor = LoopTaskExecutor(serial: executor)
    }

    /// Starts the loop's thread; false if the system refused.
    func start() -> Bool {
        startDetachedThread { self.main() }
    }

    /// The loop's thread.
    private func main() {
        executor.servingThread.store(currentThreadID(), ordering: .relaxed)
        executor.attach()
        loop.setWaitsForPosts(true)
        while true {
            // Returns after `stop()` (then simply runs on), or once shutting down and
            // nothing is left to do.
            _ = try? loop.run(.default)
            guard isShuttingDown else { continue }
            // Handles made by tasks that ran during the shutdown are left open too.
            leftOpen += (try? loop.closeAllHandles()) ?? 0
            guard loop.handleCount == 0 else { continue }
            executor.detach()
            if (try? loop.close()) != nil { break }
        }
        let waiters = state.withLock { state -> [CheckedContinuation<Int, Never>] in
            state.result = leftOpen
            let waiters = state.waiters
            state.waiters = []
            return waiters
        }
        resume(waiters)
    }

    /// Resumes shutdown waiters: the first gets the count, the others 0.
    private func resume(_ waiters: [CheckedContinuation<Int, Never>]) {
        for waiter in waiters {
            let count = state.withLock { state -> Int in
                if state.resultTaken { return 0 }
                state.resultTaken = true
                return state.result ?? 0
            }
            waiter.resume(returning: count)
        }
    }

    /// Asks for a shutdown (once) and resumes `continuation` when it is done.
    func shutdown(_ continuation: CheckedContinuation<Int, Never>) {
        let finished = state.withLock { state -> Bool in
            if state.result != nil { return true }
            state.waiters.append(continuation)
            return false
        }
        if finished {
            resume([continuation])
        } else {
            requestShutdown()
        }
    }

    /// Posts the shutdown request to the loop's thread, once.
    func requestShutdown() {
        let first = state.withLock { state -> Bool in
            defer { state.requested = true }
            return !state.requested
        }
        guard first else { return }
        do throws(UVError) {
            try loop.post { [self] in
                isShuttingDown = true
                leftOpen = (try? loop.closeAllHandles()) ?? 0
                // From now on `run` returns once nothing is left.
                loop.setWaitsForPosts(false)
            }
        } catch {
            // The loop has already closed: nothing to do.
        }
    }
}
