import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A serial executor whose jobs run on a loop's thread: `enqueue` posts each job to the
/// loop with ``Loop/post(_:)`` (the loop's one thread-safe call), and the loop runs it
/// between its callbacks.
///
/// Every ``LoopThread`` has one and is the actor it serves, so code isolated to a
/// ``LoopThread`` runs on the loop's thread and may use the loop and its handles
/// directly: a task suspends only where it waits for I/O, never to reach the loop.
/// Custom actors can share it, to run on the same loop:
///
/// ```swift
/// actor Session {
///     let thread: LoopThread
///     nonisolated var unownedExecutor: UnownedSerialExecutor {
///         thread.executor.asUnownedSerialExecutor()
///     }
/// }
/// ```
///
/// Once its ``LoopThread`` has shut down, the executor still runs what is enqueued,
/// one job at a time, on a helper thread; every call such a job makes on the closed
/// loop or its handles throws ``UVError/closed``, so late tasks finish instead of
/// hanging.
///
/// Threading: `enqueue` may be called from any thread.
public final class LoopExecutor: SerialExecutor, @unchecked Sendable {
    // `Loop` is confined to its thread; the executor only calls its thread-safe
    // `post` from elsewhere.
    private let loop: Loop
    /// The thread now running this executor's jobs (0: none yet).
    let servingThread = Atomic<UInt>(0)

    init(loop: Loop) {
        self.loop = loop
    }

    /// Runs `job` on the loop's thread (or, once the loop has closed, on the helper
    /// thread that serves closed executors).
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        do throws(UVError) {
            try loop.post {
                job.runSynchronously(on: executor)
            }
        } catch {
            ClosedExecutorQueue.shared.enqueue(job, on: self)
        }
    }

    /// Reports a misuse if the caller is not on the thread that runs this executor's
    /// jobs (`assumeIsolated`, `preconditionIsolated` call this).
    public func checkIsolated() {
        precondition(
            servingThread.load(ordering: .relaxed) == currentThreadID(),
            "not on the thread of this loop's executor")
    }

    /// The executor as the runtime refers to it.
    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}

/// Runs jobs enqueued on executors whose loop has closed: one at a time, in order, on a
/// helper thread that exists only while there is such work.
final class ClosedExecutorQueue: Sendable {
    static let shared = ClosedExecutorQueue()

    private struct State {
        var jobs: [(UnownedJob, LoopExecutor)] = []
        var isDraining = false
    }

    private let state = Mutex(State())

    func enqueue(_ job: UnownedJob, on executor: LoopExecutor) {
        let startThread = state.withLock { state -> Bool in
            state.jobs.append((job, executor))
            guard !state.isDraining else { return false }
            state.isDraining = true
            return true
        }
        if startThread {
            startDetachedThread { self.drain() }
        }
    }

    private func drain() {
        while true {
            let batch = state.withLock { state -> [(UnownedJob, LoopExecutor)] in
                let batch = state.jobs
                state.jobs = []
                if batch.isEmpty { state.isDraining = false }
                return batch
            }
            if batch.isEmpty { return }
            for (job, executor) in batch {
                executor.servingThread.store(currentThreadID(), ordering: .relaxed)
                job.runSynchronously(on: executor.asUnownedSerialExecutor())
            }
        }
    }
}

/// The body of a new thread.
private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts a detached POSIX thread running `body`; false if the system refused.
@discardableResult
func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { context in
        guard let context else { return nil }
        let body = Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue()
        body.body()
        return nil
    }, context)
    guard result == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        return false
    }
    pthread_detach(thread)
    return true
}
