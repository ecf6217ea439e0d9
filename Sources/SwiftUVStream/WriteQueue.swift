/// The bytes a stream has accepted but the kernel has not taken yet, and the write
/// requests waiting for them, in submission order.
///
/// Bytes are counted on one running offset: a request is done once `written` passes
/// its `end`. Accepted bytes wait in `pending` until the stream hands them to libuv;
/// libuv then writes one `inFlight` batch at a time, so every small write made while
/// a batch is out coalesces into the next one (one system call, not one per write).
/// A handle sent over an IPC pipe travels with the first byte of its write, so a
/// batch never spans past the next such byte: it starts a batch of its own. The
/// queue owns the handles it sends (the stream's duplicates of the caller's) and
/// closes each once its batch is done or failed.
struct WriteQueue: ~Copyable {
    struct Entry {
        /// Offset just past the request's last byte.
        let end: UInt64
        let completion: RequestCompletion
    }

    /// Bytes accepted, not yet submitted to libuv.
    var pending = ByteBuffer()
    /// Bytes of the batch libuv is writing now (valid while `isWriting`).
    var inFlight = ByteBuffer()
    /// Total bytes accepted, and total handed to the kernel.
    private(set) var accepted: UInt64 = 0
    private(set) var written: UInt64 = 0
    private var entries = RingBuffer<Entry>()
    /// Handles to send, each with the byte at `offset`.
    private var handleMarks = RingBuffer<(offset: UInt64, handle: Stream)>()
    /// The handle travelling with the batch in flight, closed when it completes.
    private var inFlightHandle: Stream?
    /// The error every unfinished request gets (an I/O error, or `UV_ECANCELED`).
    var failure: Int32 = 0
    // Last, so the stream's next field can use the bytes after it.
    var isWriting = false

    /// Bytes accepted and not yet handed to the kernel.
    var size: Int { failure != 0 ? 0 : Int(clamping: accepted &- written) }

    /// Nothing accepted is left unwritten: a new write may go straight to the socket.
    var isDrained: Bool { pending.isEmpty && !isWriting }

    /// Records a request of `count` bytes of which `alreadyWritten` went to the kernel
    /// at once (the caller copies the rest into `pending`).
    mutating func accept(
        count: Int, alreadyWritten: Int, sendHandle: Stream? = nil, completion: RequestCompletion
    ) {
        if let sendHandle {
            handleMarks.append((offset: accepted &+ UInt64(alreadyWritten), handle: sendHandle))
        }
        accepted &+= UInt64(count)
        written &+= UInt64(alreadyWritten)
        // A write nobody waits for needs its bytes counted, not an entry (the echo
        // server's steady state: no queue, no deferred report).
        if !completion.isEmpty {
            entries.append(Entry(end: accepted, completion: completion))
        }
    }

    /// Moves the next batch of `pending` into `inFlight` for a libuv write, with the
    /// handle that travels with it; nil if memory ran out.
    mutating func beginBatch() -> (bytes: UnsafeRawBufferPointer, sendHandle: Stream?)? {
        let start = accepted &- UInt64(pending.count)
        var length = pending.count
        var sendHandle: Stream?
        if let mark = handleMarks.first {
            if mark.offset == start {
                sendHandle = handleMarks.removeFirst()?.handle
                if let next = handleMarks.first { length = Int(next.offset &- start) }
            } else {
                length = Int(mark.offset &- start)
            }
        }
        guard pending.moveFront(length, into: &inFlight) else { return nil }
        isWriting = true
        inFlightHandle = sendHandle
        return (inFlight.bytes, sendHandle)
    }

    /// The in-flight batch finished with `status`.
    mutating func endBatch(status: Int32) {
        isWriting = false
        inFlightHandle?.closeOnLoopThread(nil)
        inFlightHandle = nil
        if status == 0 {
            written &+= UInt64(inFlight.count)
        } else {
            fail(status)
        }
        inFlight.removeAll()
    }

    /// Every unfinished request will report `status` (the first failure wins), and
    /// unsent bytes are dropped: after a failure nothing more is written.
    mutating func fail(_ status: Int32) {
        if failure == 0 { failure = status }
        pending.removeAll()
        while let mark = handleMarks.removeFirst() { mark.handle.closeOnLoopThread(nil) }
    }

    /// Whether the oldest request can report (its bytes are written, or it failed).
    var hasFinishedRequest: Bool {
        guard let head = entries.first else { return false }
        return head.end <= written || failure != 0
    }

    /// Removes the oldest request if it can report, with its status.
    mutating func popFinished() -> (RequestCompletion, Int32)? {
        guard let head = entries.first else { return nil }
        if head.end <= written {
            _ = entries.removeFirst()
            return (head.completion, 0)
        }
        guard failure != 0 else { return nil }
        _ = entries.removeFirst()
        return (head.completion, failure)
    }

}
