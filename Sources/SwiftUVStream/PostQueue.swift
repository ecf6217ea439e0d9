import CLibUV
import Synchronization

/// A C-convention function posted to a loop: `(loop, context)`. The loop is the
/// `Loop` object's opaque pointer, borrowed for the call.
public typealias LoopFunction = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void

/// One function waiting to run on the loop's thread.
enum PostedCall: @unchecked Sendable {
    // The context pointer is the poster's business: the loop only hands it back.
    case function(LoopFunction, UnsafeMutableRawPointer?)
    case closure(@Sendable () -> Void)
}

/// The loop's inbox from other threads: a locked list plus the libuv async handle
/// that wakes the loop. The one part of the library that any thread may touch.
final class PostQueue: @unchecked Sendable {
    private struct State {
        var calls: [PostedCall] = []
        var isClosed = false
    }

    private let state = Mutex(State())
    // Only uv_async_send touches it off the loop thread, and only under the lock,
    // while the queue is open (closing the handle happens after isClosed is set).
    private nonisolated(unsafe) let wakeup: UnsafeMutablePointer<uv_async_t>

    init(wakeup: UnsafeMutablePointer<uv_async_t>) {
        self.wakeup = wakeup
    }

    /// Queues `call` and wakes the loop; false if the queue is closed.
    func enqueue(_ call: PostedCall) -> Bool {
        state.withLock { state in
            guard !state.isClosed else { return false }
            state.calls.append(call)
            uv_async_send(wakeup)
            return true
        }
    }

    /// Whether calls are waiting.
    var hasPending: Bool {
        state.withLock { !$0.calls.isEmpty }
    }

    /// Moves every waiting call into `batch` (which must be empty), keeping the
    /// capacity of both arrays so that steady posting does not allocate.
    func takeAll(into batch: inout [PostedCall]) {
        state.withLock { state in
            swap(&state.calls, &batch)
        }
    }

    /// Closes the queue: later posts fail. Refuses (returns false) while calls wait,
    /// unless `discardingPending`.
    func close(discardingPending: Bool = false) -> Bool {
        state.withLock { state in
            if !state.calls.isEmpty {
                guard discardingPending else { return false }
                state.calls.removeAll()
            }
            state.isClosed = true
            return true
        }
    }
}
