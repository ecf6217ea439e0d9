import CLibUV

// The async layer's per-handle state: the tasks suspended on a handle, and what they
// wait for. It lives in `Handle.observer` (a hook the core calls when the handle has
// closed and when a stream's writability changes) from the first async call on the
// handle until its close callback, and is touched only on the loop's thread.
//
// The rule it keeps: no suspended task waits forever. Whatever a task waits for (a
// read, a connection, room in the write queue, a request, the close itself), closing
// the handle resumes it — with `UV_ECANCELED`, as the core completes pending requests.

/// The tasks suspended on one handle.
final class AsyncState: HandleObserver {
    /// Tasks waiting in `close()` for the close callback.
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
    /// Writers waiting for the write queue to fall to the low watermark.
    var writeWaiters: [UnsafeContinuation<UVError?, Never>] = []
    /// The first error an async write's completion reported; later async writes,
    /// `flush` and `shutdown` throw it.
    var writeError: UVError?
    /// A one-shot wait on a timer (`Loop.sleep`).
    var timerWaiter: UnsafeContinuation<Int32, Never>?
    /// The async read state, once a read sequence has been iterated.
    var reader: ReadState?
    /// The async accept state, once a connection sequence has been made.
    var acceptor: AcceptState?
    /// The task running the outermost scope that closes the handle if the task is
    /// cancelled (`withCancellationClosing`), while it runs: that task's waits on the
    /// handle need no cancellation handler of their own. Compared for identity only,
    /// and only while that task runs the scope.
    var cancellationScope: UnsafeCurrentTask?

    /// The completion every async write uses: it only records the first error (the
    /// task that wrote has moved on). One closure, made once, so a write costs no
    /// allocation for its completion. It holds the state strongly (a weak reference
    /// would make every retain of the state take the slow path) until the handle has
    /// closed: `handleDidClose` then drops it.
    private(set) lazy var writeCompletion = RequestCompletion.closure { status in
        guard status < 0, self.writeError == nil else { return }
        self.writeError = UVError(code: status)
    }

    func handleDidClose(_ handle: Handle) {
        writeCompletion = .none
        cancellationScope = nil
        let closeWaiters = self.closeWaiters
        let writeWaiters = self.writeWaiters
        self.closeWaiters = []
        self.writeWaiters = []
        for waiter in writeWaiters { waiter.resume(returning: .canceled) }
        if let timerWaiter {
            self.timerWaiter = nil
            timerWaiter.resume(returning: UV_ECANCELED.rawValue)
        }
        reader?.handleDidClose()
        acceptor?.handleDidClose()
        for waiter in closeWaiters { waiter.resume() }
    }

    func streamWritabilityChanged(_ stream: Stream, writable: Bool) {
        // Crossings are reported even when undone before the loop could report them;
        // only the present state counts. A writer left waiting hears the next crossing.
        // A stream closing from the owner's writability callback resumes its writers
        // with ECANCELED from handleDidClose instead.
        guard writable, !stream.isClosing, !writeWaiters.isEmpty,
              !stream.isWriteBlocked || !stream.isWritable else { return }
        let waiters = writeWaiters
        writeWaiters = []
        for waiter in waiters { waiter.resume(returning: writeError) }
    }

    /// A reader waiting on a stream whose connect failed would wait for a read callback
    /// that never comes: it ends with the connect's error.
    func streamConnectFailed(_ stream: Stream, status: Int32) {
        reader?.didEnd(UVError(code: status))
    }

    /// Resumes the timer waiter, if any, with `status`.
    func finishTimer(_ status: Int32) {
        guard let waiter = timerWaiter else { return }
        timerWaiter = nil
        waiter.resume(returning: status)
    }
}

extension Handle {
    /// The handle's async state, made on first use. Not for a closed handle: its
    /// observer is gone and would never be told anything again.
    var asyncState: AsyncState {
        if let state = observer as? AsyncState { return state }
        let state = AsyncState()
        observer = state
        return state
    }

    /// The check every async operation makes first: the caller is on the loop's
    /// thread and the handle is open. A task that is already cancelled closes the
    /// handle and gets ``UVError/canceled``.
    func checkAsyncUsable() throws(UVError) {
        try loop.checkThread()
        if isClosing { throw closedError }
        if Task.isCancelled {
            closeOnLoopThread(nil)
            throw .canceled
        }
    }

    /// What an async operation on a closing handle throws: ``UVError/canceled`` in a
    /// cancelled task, whoever closed the handle (a scope's cancellation handler closes
    /// it before the task's next call), else ``UVError/closed``.
    var closedError: UVError {
        Task.isCancelled ? .canceled : .closed
    }

    /// What a task's cancellation handler does, from whatever thread cancelled it:
    /// asks the loop's thread to close the handle. Closing resumes every task
    /// suspended on it with ``UVError/canceled``.
    func closeForCancellation() {
        let handle = LoopConfined(self)
        try? handle.value.loop.post {
            handle.value.closeOnLoopThread(nil)
        }
    }
}

/// A loop-confined object carried through a `@Sendable` closure, which must only use it
/// on the loop's thread (a closure posted to the loop) — the one-loop-one-thread rule
/// the compiler cannot see. The loop's `post` is the only thing used elsewhere.
struct LoopConfined<Value: AnyObject>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Suspends the task until `register`'s continuation is resumed (by a callback on the
/// loop's thread); if the task is cancelled meanwhile, closes `handle`, which resumes
/// every task suspended on it.
///
/// A wait installs a cancellation handler unless the task runs a cancellation scope of
/// `handle` (`withCancellationClosing`), whose handler does the same for all of the
/// scope's waits: each handler costs two locked updates of the task's status records
/// and three executor switches per wait, about 8% of an echo round trip.
///
/// `nonisolated(nonsending)`, not an isolated parameter: an isolated parameter costs an
/// executor switch on entry and another in the caller on return, and each switch of a
/// task that prefers the loop's executor looks that preference up under the task's lock.
///
/// The continuation is unchecked (a checked one costs an allocation per wait, 3% of an
/// echo round trip): every waiter is stored in exactly one place and taken out (set to
/// nil, or its list emptied) before it is resumed, by its callback or by the handle's
/// close, which is what makes each resume happen exactly once.
nonisolated(nonsending) func suspend<T>(
    on handle: Handle,
    _ register: (UnsafeContinuation<T, Never>) -> Void
) async -> T {
    if let scope = (handle.observer as? AsyncState)?.cancellationScope,
       withUnsafeCurrentTask(body: { $0 == scope }) {
        return await withUnsafeContinuation { continuation in
            register(continuation)
        }
    }
    return await suspendCancellable(on: handle, register)
}

/// `suspend` with a cancellation handler of its own. The operation closure captures
/// `isolation`, so it runs on the caller's actor (the loop's thread) rather than on
/// the global executor: a closure is isolated to an isolated parameter only if it
/// captures it (SE-0420).
private func suspendCancellable<T>(
    on handle: Handle, isolation: isolated (any Actor)? = #isolation,
    _ register: (UnsafeContinuation<T, Never>) -> Void
) async -> T {
    let confined = LoopConfined(handle)
    return await withTaskCancellationHandler(operation: {
        _ = isolation
        return await withUnsafeContinuation(isolation: isolation) { continuation in
            register(continuation)
        }
    }, onCancel: {
        confined.value.closeForCancellation()
    }, isolation: isolation)
}

/// Runs `body`, closing `handle` if the task is cancelled meanwhile: one cancellation
/// handler for every wait of this task on `handle` inside `body` (see `suspend`).
/// Other tasks' waits on the handle keep their own handlers.
func withCancellationClosing<Result>(
    _ handle: Handle, isolation: isolated (any Actor)? = #isolation,
    _ body: nonisolated(nonsending) () async throws -> Result
) async throws -> Result {
    try handle.loop.checkThread()
    // A closing handle fails every call in `body` anyway (and has no state to keep).
    if handle.isClosing { return try await body() }
    let state = handle.asyncState
    // Only the outermost scope marks the handle, and clears the mark when it ends (or
    // the handle closes): a nested scope of the same task is covered already, and
    // another task's scope, which may outlive this one, keeps handlers per wait.
    let marks = state.cancellationScope == nil
    if marks { state.cancellationScope = withUnsafeCurrentTask { $0 } }
    defer { if marks { state.cancellationScope = nil } }
    let confined = LoopConfined(handle)
    return try await withTaskCancellationHandler(operation: {
        _ = isolation
        return try await body()
    }, onCancel: {
        confined.value.closeForCancellation()
    }, isolation: isolation)
}
