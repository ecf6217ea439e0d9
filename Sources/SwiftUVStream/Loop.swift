import CLibUV
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An event loop: owns the libuv loop, the read buffer its streams share, the inbox
/// for calls from other threads, and the count of handles living on it.
///
/// Threading: one loop, one thread. While ``run(_:)`` runs, every method of the loop
/// and of its handles must be called from the running thread (others throw
/// ``UVError/wrongThread``), except ``post(_:)`` and ``post(function:context:)``.
public final class Loop {
    /// How ``run(_:)`` runs.
    public enum RunMode: Sendable {
        /// Until no active and referenced handle is left, or ``stop()`` is called.
        case `default`
        /// Polls for I/O once, blocking if nothing is ready.
        case once
        /// Polls for I/O once without blocking.
        case noWait

        var libUVMode: uv_run_mode {
            switch self {
            case .default: UV_RUN_DEFAULT
            case .once: UV_RUN_ONCE
            case .noWait: UV_RUN_NOWAIT
            }
        }
    }

    let raw: UnsafeMutablePointer<uv_loop_t>
    /// The buffer every stream on this loop reads into (a read callback consumes its
    /// bytes before libuv asks for a buffer again), and its spares.
    var readBuffers: ReadBuffers
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let deferral: UnsafeMutablePointer<uv_idle_t>
    private let posted: PostQueue
    private let runningThread = Atomic<UInt>(0)
    private var postedBatch: [PostedCall] = []
    private var deferred: [Stream] = []
    private var deferredBatch: [Stream] = []
    private var stopRequested = false
    private var libUVCloseFailed = false

    /// Whether ``close()`` has succeeded.
    public private(set) var isClosed = false
    /// Whether ``run(_:)`` is on the stack.
    public private(set) var isRunning = false
    /// Set by a binding that hands the loop out with a counted reference (the C face's
    /// `uvs_loop_release`) once its owner has given that reference back; see
    /// ``Handle/isReleasedByOwner``. The core never reads it.
    public var isReleasedByOwner = false

    /// Creates a loop whose streams read into a shared buffer of `bufferSize` bytes.
    /// Sets SIGPIPE to ignored if it still has its default disposition.
    public init(bufferSize: Int = 65536) throws(UVError) {
        guard bufferSize > 0, bufferSize <= Int(Int32.max) else { throw .invalidArgument }
        guard let readBuffers = ReadBuffers(size: bufferSize) else { throw .outOfMemory }
        let raw = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        let wakeup = UnsafeMutablePointer<uv_async_t>.allocate(capacity: 1)
        var result = uv_loop_init(raw)
        if result == 0 {
            result = uv_async_init(raw, wakeup, Loop.wakeupCallback)
            if result != 0 { uv_loop_close(raw) }
        }
        guard result == 0 else {
            raw.deallocate()
            wakeup.deallocate()
            throw UVError(code: result)
        }
        clibuv_ignore_sigpipe_if_default()
        let deferral = UnsafeMutablePointer<uv_idle_t>.allocate(capacity: 1)
        uv_idle_init(raw, deferral)
        // The inbox must not keep the loop alive by itself; run() drains it instead.
        uv_unref(UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self))

        self.raw = raw
        self.wakeup = wakeup
        self.deferral = deferral
        self.readBuffers = readBuffers
        self.posted = PostQueue(wakeup: wakeup)
        let opaqueSelf = Unmanaged.passUnretained(self).toOpaque()
        raw.pointee.data = opaqueSelf
        wakeup.pointee.data = opaqueSelf
        deferral.pointee.data = opaqueSelf
        LiveObjects.insert(self)
    }

    deinit {
        LiveObjects.remove(self)
        if !isClosed {
            _ = posted.close(discardingPending: true)
            closeLibUV()
        }
        if !libUVCloseFailed {
            raw.deallocate()
            wakeup.deallocate()
            deferral.deallocate()
        }
    }

    /// The `Loop` behind a libuv loop pointer.
    static func from(_ raw: UnsafeMutablePointer<uv_loop_t>) -> Loop {
        Unmanaged<Loop>.fromOpaque(UnsafeRawPointer(raw.pointee.data)).takeUnretainedValue()
    }

    // MARK: Threads

    /// Throws ``UVError/wrongThread`` when the loop is running on another thread: the
    /// check every method of the loop and its handles makes first.
    @inline(__always)
    public func checkThread() throws(UVError) {
        let owner = runningThread.load(ordering: .relaxed)
        if owner != 0, owner != currentThreadID() { throw .wrongThread }
    }

    /// Throws unless the loop is open and the caller may use it now.
    @inline(__always)
    func checkUsable() throws(UVError) {
        try checkThread()
        if isClosed { throw .closed }
    }

    // MARK: Running

    /// Runs the loop on the calling thread. Functions posted while it was not running
    /// run first. Returns true if work remains (active referenced handles, pending
    /// callbacks or posted functions), false if not.
    @discardableResult
    public func run(_ mode: RunMode = .default) throws(UVError) -> Bool {
        try checkUsable()
        guard !isRunning else { throw .busy }
        isRunning = true
        runningThread.store(currentThreadID(), ordering: .relaxed)
        stopRequested = false
        defer {
            isRunning = false
            runningThread.store(0, ordering: .relaxed)
        }
        return withExtendedLifetime(self) {
            var alive: Bool
            repeat {
                runPostedCalls()
                alive = uv_run(raw, mode.libUVMode) != 0
            } while mode == .default && !stopRequested && posted.hasPending
            return alive || posted.hasPending
        }
    }

    /// Makes ``run(_:)`` return after the current iteration (or at once, if called
    /// while the loop is not running).
    public func stop() throws(UVError) {
        try checkUsable()
        stopRequested = true
        uv_stop(raw)
    }

    /// Whether active referenced handles, pending callbacks or posted functions remain.
    public var isAlive: Bool {
        !isClosed && (uv_loop_alive(raw) != 0 || posted.hasPending)
    }

    /// The cached loop time in milliseconds; 0 once closed.
    public var now: UInt64 {
        isClosed ? 0 : uv_now(raw)
    }

    /// Refreshes the cached loop time.
    public func updateTime() throws(UVError) {
        try checkUsable()
        uv_update_time(raw)
    }

    // MARK: Handles

    // The loop counts its handles instead of listing them: libuv's own handle queue
    // lists them already (`closeAllHandles` walks it), and a table would cost every
    // connection of a busy server memory and a hash on open and close.

    /// The number of handles whose close callback has not run yet.
    public private(set) var handleCount = 0

    /// A handle has been initialised with libuv (see `Handle.didInitialize()`).
    func didOpenHandle() {
        handleCount += 1
    }

    /// A handle's close callback has run.
    func didCloseHandle() {
        handleCount -= 1
    }

    /// Closes every handle not already closing, with `callback` for each; returns how
    /// many it closed. Run the loop afterwards to let the close callbacks run.
    @discardableResult
    public func closeAllHandles(_ callback: ((Handle) -> Void)? = nil) throws(UVError) -> Int {
        try checkUsable()
        var open: [Handle] = []
        withUnsafeMutablePointer(to: &open) { list in
            uv_walk(raw, Loop.collectOpenHandle, list)
        }
        for handle in open {
            handle.closeOnLoopThread(callback)
        }
        return open.count
    }

    /// `uv_walk` visitor: appends each library handle that is not closing (nor
    /// internal: its owner closes it) to the `[Handle]` at `list`. The loop's own handles (the inbox and the deferral idle
    /// handle) are of other libuv types; a handle not yet initialised has no object.
    private static let collectOpenHandle: uv_walk_cb = { raw, list in
        guard let raw, let list, let data = raw.pointee.data else { return }
        switch raw.pointee.type {
        case UV_TCP, UV_NAMED_PIPE, UV_TTY, UV_TIMER: break
        default: return
        }
        let handle = Unmanaged<Handle>.fromOpaque(data).takeUnretainedValue()
        if !handle.isClosing, !handle.isInternal {
            list.assumingMemoryBound(to: [Handle].self).pointee.append(handle)
        }
    }

    /// Whether a stream of this loop owns `fd` already (a closing one has given its
    /// descriptor up). Adopting it again would close it under the first stream.
    func hasHandle(owning fd: Int32) -> Bool {
        var search = (fd: fd, found: false)
        withUnsafeMutablePointer(to: &search) { context in
            uv_walk(raw, Loop.findOwner, context)
        }
        return search.found
    }

    /// `uv_walk` visitor for `hasHandle(owning:)`: `context` is its `(fd, found)`.
    private static let findOwner: uv_walk_cb = { raw, context in
        guard let raw, let context else { return }
        switch raw.pointee.type {
        case UV_TCP, UV_NAMED_PIPE, UV_TTY: break
        default: return
        }
        let search = context.assumingMemoryBound(to: (fd: Int32, found: Bool).self)
        var fd: uv_os_fd_t = -1
        if uv_fileno(raw, &fd) == 0, fd == search.pointee.fd { search.pointee.found = true }
    }

    // MARK: Closing

    /// Releases the libuv loop. Idempotent. Throws ``UVError/busy`` while handles are
    /// not fully closed, posted functions wait, or the loop is running.
    public func close() throws(UVError) {
        if isClosed { return }
        try checkThread()
        guard !isRunning, handleCount == 0 else { throw .busy }
        guard posted.close() else { throw .busy }
        closeLibUV()
        if libUVCloseFailed { throw .busy }
    }

    /// Closes the loop's own handles, lets libuv finish closing them, closes the loop.
    private func closeLibUV() {
        uv_close(UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_close(UnsafeMutableRawPointer(deferral).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_run(raw, UV_RUN_NOWAIT)
        // Anything still open here was not made by this library; leaking the loop's
        // memory is then the only safe choice.
        libUVCloseFailed = uv_loop_close(raw) != 0
        deferred.removeAll()
        deferredBatch.removeAll()
        isClosed = true
    }

    // MARK: Calls from other threads

    /// Asks the loop's thread to run `function(loop, context)`. Thread-safe.
    public func post(function: @escaping LoopFunction, context: UnsafeMutableRawPointer?) throws(UVError) {
        guard posted.enqueue(.function(function, context)) else { throw .closed }
    }

    /// Asks the loop's thread to run `body`. Thread-safe.
    public func post(_ body: @escaping @Sendable () -> Void) throws(UVError) {
        guard posted.enqueue(.closure(body)) else { throw .closed }
    }

    /// Hook for `LoopThread` (Async/): whether the inbox keeps ``run(_:)`` running while
    /// nothing else does, so a loop serving as an executor waits for posted jobs instead
    /// of returning. Off by default (the inbox is unreferenced); call on the loop's thread.
    func setWaitsForPosts(_ waits: Bool) {
        guard !isClosed else { return }
        let handle = UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self)
        if waits { uv_ref(handle) } else { uv_unref(handle) }
    }

    private func runPostedCalls() {
        posted.takeAll(into: &postedBatch)
        guard !postedBatch.isEmpty else { return }
        let opaqueSelf = OpaquePointer(Unmanaged.passUnretained(self).toOpaque())
        for call in postedBatch {
            switch call {
            case .function(let function, let context): function(opaqueSelf, context)
            case .closure(let body): body()
            }
        }
        postedBatch.removeAll(keepingCapacity: true)
    }

    private static let wakeupCallback: uv_async_cb = { async in
        guard let data = async?.pointee.data else { return }
        Unmanaged<Loop>.fromOpaque(data).takeUnretainedValue().runPostedCalls()
    }

    // MARK: Deferred completions

    /// Runs `stream.runDeferredWork()` from the loop soon (in the next iteration's
    /// idle phase): how a request that finished inside the caller's own call still
    /// reports from the loop, never synchronously.
    func scheduleDeferredWork(for stream: Stream) {
        deferred.append(stream)
        if deferred.count == 1 {
            uv_idle_start(deferral, Loop.deferralCallback)
        }
    }

    private func runDeferredWork() {
        swap(&deferred, &deferredBatch)
        uv_idle_stop(deferral)
        for stream in deferredBatch {
            stream.runDeferredWork()
        }
        deferredBatch.removeAll(keepingCapacity: true)
    }

    private static let deferralCallback: uv_idle_cb = { idle in
        guard let data = idle?.pointee.data else { return }
        Unmanaged<Loop>.fromOpaque(data).takeUnretainedValue().runDeferredWork()
    }
}

/// The calling thread's identity, as stored in `Loop.runningThread` (0 means none).
@inline(__always)
func currentThreadID() -> UInt {
    UInt(pthread_self())
}
