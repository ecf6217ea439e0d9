import CLibUV
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The serial executor of a ``LoopThread``: its jobs run on the loop's thread, between
/// the loop's callbacks.
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
/// How a job gets there: a job enqueued on the loop's own thread — a task that an I/O
/// callback resumes, the usual case — goes into a queue the loop drains in its check
/// phase, right after the callbacks of the same iteration: no lock, no wake-up, no
/// system call. A job from another thread is posted with ``Loop/post(_:)``, which wakes
/// the loop.
///
/// Once its ``LoopThread`` has shut down, the executor still runs what is enqueued,
/// one job at a time, on a helper thread; every call such a job makes on the closed
/// loop or its handles throws ``UVError/closed``, so late tasks finish instead of
/// hanging.
///
/// Threading: `enqueue` may be called from any thread.
public final class LoopExecutor: SerialExecutor, @unchecked Sendable {
    // `Loop` is confined to its thread; from elsewhere the executor only calls `post`.
    private let loop: Loop
    /// The thread now running this executor's jobs (0: none yet).
    let servingThread = Atomic<UInt>(0)
    /// The loop's thread while the local queue is attached (0: post every job).
    private let localThread = Atomic<UInt>(0)
    /// Jobs enqueued on the loop's thread, not yet run. Loop's thread only.
    private var localJobs = RingBuffer<ExecutorQueueEntry>()
    /// Drains `localJobs` after each iteration's I/O callbacks (started once, unreferenced).
    private let drainHandle: UnsafeMutablePointer<uv_check_t>
    /// Active while `localJobs` is not empty: keeps the loop from blocking in its poll
    /// (and alive) when a job was enqueued outside the I/O phase.
    private let pendingHandle: UnsafeMutablePointer<uv_idle_t>
    private var isPendingHandleActive = false
    private var isAttached = false

    init(loop: Loop) {
        self.loop = loop
        drainHandle = .allocate(capacity: 1)
        pendingHandle = .allocate(capacity: 1)
    }

    deinit {
        // Attached handles were closed by `detach()` before the loop closed.
        drainHandle.deallocate()
        pendingHandle.deallocate()
    }

    /// Runs `job` on the loop's thread (or, once the loop has closed, on the helper
    /// thread that serves closed executors).
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(ExecutorQueueEntry(job: UnownedJob(job), taskExecutor: nil))
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

    // MARK: Queueing

    func enqueue(_ entry: ExecutorQueueEntry) {
        if localThread.load(ordering: .relaxed) == currentThreadID() {
            localJobs.append(entry)
            if !isPendingHandleActive {
                isPendingHandleActive = true
                uv_idle_start(pendingHandle, LoopExecutor.pendingCallback)
            }
            return
        }
        do throws(UVError) {
            try loop.post { [self] in run(entry) }
        } catch {
            ClosedExecutorQueue.shared.enqueue(entry, on: self)
        }
    }

    /// Runs one job the way its executor promised: a serial job isolated to this
    /// executor, a task executor job on the task executor.
    func run(_ entry: ExecutorQueueEntry) {
        if let taskExecutor = entry.taskExecutor {
            entry.job.runSynchronously(on: taskExecutor)
        } else {
            entry.job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }

    // MARK: The local queue

    /// Starts taking jobs enqueued on this thread into the local queue. Called on the
    /// loop's thread, before it runs the loop.
    func attach() {
        isAttached = true
        uv_check_init(loop.raw, drainHandle)
        uv_idle_init(loop.raw, pendingHandle)
        let opaqueSelf = Unmanaged.passUnretained(self).toOpaque()
        drainHandle.pointee.data = opaqueSelf
        pendingHandle.pointee.data = opaqueSelf
        uv_check_start(drainHandle, LoopExecutor.drainCallback)
        uv_unref(UnsafeMutableRawPointer(drainHandle).assumingMemoryBound(to: uv_handle_t.self))
        localThread.store(currentThreadID(), ordering: .relaxed)
    }

    /// Stops using the local queue (later jobs are posted) and closes its handles. Called
    /// on the loop's thread before the loop closes; idempotent.
    func detach() {
        guard isAttached else { return }
        isAttached = false
        localThread.store(0, ordering: .relaxed)
        runLocalJobs(limit: .max)
        uv_close(UnsafeMutableRawPointer(drainHandle).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_close(UnsafeMutableRawPointer(pendingHandle).assumingMemoryBound(to: uv_handle_t.self), nil)
    }

    /// Runs queued jobs, including those they enqueue, up to `limit` (so a pair of tasks
    /// resuming each other cannot starve I/O: the rest runs after the next poll, which
    /// does not block while the idle handle is active).
    private func runLocalJobs(limit: Int) {
        var budget = limit
        while budget > 0, let entry = localJobs.removeFirst() {
            run(entry)
            budget -= 1
        }
        if localJobs.isEmpty, isPendingHandleActive {
            isPendingHandleActive = false
            uv_idle_stop(pendingHandle)
        }
    }

    private static let drainCallback: uv_check_cb = { check in
        guard let data = check?.pointee.data else { return }
        Unmanaged<LoopExecutor>.fromOpaque(data).takeUnretainedValue().runLocalJobs(limit: 4096)
    }

    /// Nothing to do in the idle phase itself: the check phase drains the queue.
    private static let pendingCallback: uv_idle_cb = { _ in }
}

/// A loop's thread as a task executor: a task that prefers it (`withTaskExecutorPreference`,
/// `Task(executorPreference:)`, and the body of ``LoopThread/run(_:)``, whose child tasks
/// inherit it) runs its nonisolated code on the loop's thread too, and resumes there after
/// waiting for I/O — instead of hopping to the global pool and back.
///
/// Threading: `enqueue` may be called from any thread.
public final class LoopTaskExecutor: TaskExecutor, Sendable {
    /// The loop's serial executor, whose queue this one shares. Held strongly: a task
    /// that prefers this executor keeps it, and so the queue, alive.
    let serial: LoopExecutor

    init(serial: LoopExecutor) {
        self.serial = serial
    }

    /// Runs `job` on the loop's thread, in the same queue as the serial executor's jobs.
    public func enqueue(_ job: consuming ExecutorJob) {
        serial.enqueue(ExecutorQueueEntry(job: UnownedJob(job), taskExecutor: asUnownedTaskExecutor()))
    }

    /// The executor as the runtime refers to it.
    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }
}

/// A job waiting for a loop's thread, and which executor it was enqueued on.
struct ExecutorQueueEntry {
    let job: UnownedJob
    /// The ``LoopTaskExecutor`` the job was enqueued on (the job's task keeps it alive),
    /// or nil for a job of the ``LoopExecutor``, which runs isolated to it.
    let taskExecutor: UnownedTaskExecutor?
}

/// Runs jobs enqueued on executors whose loop has closed: one at a time, in order, on a
/// helper thread that exists only while there is such work.
final class ClosedExecutorQueue: Sendable {
    static let shared = ClosedExecutorQueue()

    private struct State {
        var jobs: [(ExecutorQueueEntry, LoopExecutor)] = []
        var isDraining = false
    }

    private let state = Mutex(State())

    func enqueue(_ entry: ExecutorQueueEntry, on executor: LoopExecutor) {
        let startThread = state.withLock { state -> Bool in
            state.jobs.append((entry, executor))
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
            let batch = state.withLock { state -> [(ExecutorQueueEntry, LoopExecutor)] in
                let batch = state.jobs
                state.jobs = []
                if batch.isEmpty { state.isDraining = false }
                return batch
            }
            if batch.isEmpty { return }
            for (entry, executor) in batch {
                executor.servingThread.store(currentThreadID(), ordering: .relaxed)
                executor.run(entry)
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
