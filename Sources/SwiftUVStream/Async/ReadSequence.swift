import CLibUV

/// The data arriving on a stream as an asynchronous sequence of chunks, with bounded
/// buffering: what the consumer has not taken yet waits in a buffer that stops reading
/// (`readStop`) once it holds more than the high watermark and starts reading again
/// (`readStart`) when the consumer has drained it to the low watermark. A slow consumer
/// therefore slows the peer down (the kernel's buffers fill, then TCP's window) instead
/// of growing memory: at most the high watermark plus one read (the loop's buffer
/// size) is ever buffered.
///
/// ```swift
/// for try await chunk in try connection.reads() {
///     try await connection.write(chunk)        // an echo
/// }
/// // the loop ended: the peer shut its side down (EOF)
/// ```
///
/// - The sequence ends (`nil`) at the end of the stream (EOF), once; the stream can
///   still be written and shut down (half-close).
/// - A read error (`ECONNRESET`, ...) is thrown once, after the chunks that came
///   before it; the sequence then ends.
/// - Closing the stream resumes a waiting iteration with ``UVError/canceled``; later
///   iterations throw ``UVError/closed`` (``UVError/canceled`` in a cancelled task).
/// - Cancelling the iterating task stops reading and closes the stream (the
///   iteration throws ``UVError/canceled``).
///
/// A stream has one read buffer: every `reads()` sequence of a stream, and every
/// iterator of one, takes from it (iterate again after a `break` to continue where it
/// stopped). Two tasks waiting at once is ``UVError/busy``. Reading with the callback
/// API (``Stream/readStart(_:)``, ``Stream/readStop()``) while a sequence is in use
/// takes the data away from it.
///
/// Threading: iterate on the loop's thread (in code isolated to a ``LoopThread``).
public struct ReadSequence: AsyncSequence {
    /// A chunk: the bytes of one read (see ``ByteChunk``: a large read is handed on in
    /// the buffer it was read into, without a copy).
    public typealias Element = ByteChunk
    /// Reads fail with ``UVError``.
    public typealias Failure = UVError

    /// The stream read.
    public let stream: Stream
    /// Reading stops while more than this many bytes wait for the consumer.
    public let highWatermark: Int
    /// Reading starts again when the consumer has drained the buffer to this many bytes.
    public let lowWatermark: Int

    init(stream: Stream, highWatermark: Int, lowWatermark: Int) {
        self.stream = stream
        self.highWatermark = highWatermark
        self.lowWatermark = lowWatermark
    }

    /// Bytes read and not yet taken by the consumer (0 before the first iteration and
    /// once the stream has closed). On the loop's thread, like the stream.
    public var bufferedByteCount: Int {
        guard !stream.isClosed, let state = stream.observer as? AsyncState else { return 0 }
        return state.reader?.buffered ?? 0
    }

    /// Makes an iterator; reading starts at its first `next`.
    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self)
    }

    /// Takes chunks from the stream's read buffer, reading as needed.
    public struct Iterator: AsyncIteratorProtocol {
        let sequence: ReadSequence
        private var finished = false

        init(sequence: ReadSequence) {
            self.sequence = sequence
        }

        /// The next chunk, or nil at the end of the stream. Suspends while nothing is
        /// buffered.
        ///
        /// - Throws: the read error (once); ``UVError/notConnected`` if the stream
        ///   cannot be read (not connected, listening, output only, already at its
        ///   end through the callback API); ``UVError/busy`` if another task is
        ///   waiting for the same stream; ``UVError/canceled`` if the stream closes
        ///   (or the task is cancelled) while waiting; ``UVError/closed`` afterwards
        ///   (``UVError/canceled`` in a cancelled task).
        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(UVError) -> ByteChunk? {
            try await nextChunk()
        }

        /// What both `next` run. Inlined into the caller, `next(isolation:)` is only
        /// this call: without an isolated parameter of its own, no executor switch on
        /// entry and none on return (two of the five a round trip of an echo made).
        @usableFromInline
        nonisolated(nonsending) mutating func nextChunk() async throws(UVError) -> ByteChunk? {
            if finished { return nil }
            guard let chunk = try await sequence.stream.nextReadChunk(
                highWatermark: sequence.highWatermark, lowWatermark: sequence.lowWatermark,
                acceptingHandles: false)
            else {
                finished = true
                return nil
            }
            // Handles accepted for a ReceiveSequence of the same pipe: nobody here takes them.
            for handle in chunk.handles { handle.closeOnLoopThread(nil) }
            return chunk.bytes
        }

        /// The next chunk; see ``next(isolation:)``. Runs on the caller's actor, as
        /// `for try await` does, so a manual `iterator.next()` works in code isolated to
        /// the ``LoopThread``.
        public nonisolated(nonsending) mutating func next() async throws(UVError) -> ByteChunk? {
            try await nextChunk()
        }
    }
}

extension Stream {
    /// The bytes arriving on the stream, as an asynchronous sequence of chunks whose
    /// buffering is bounded by watermarks; see ``ReadSequence``.
    ///
    /// - Parameters:
    ///   - highWatermark: Reading stops while more than this many bytes wait for the
    ///     consumer (at least 0).
    ///   - lowWatermark: Reading resumes once the consumer has drained the buffer to
    ///     this many bytes (`0 <= lowWatermark <= highWatermark`).
    /// - Throws: ``UVError/invalidArgument`` for watermarks out of order.
    public func reads(highWatermark: Int = 65536, lowWatermark: Int = 16384) throws(UVError) -> ReadSequence {
        guard lowWatermark >= 0, lowWatermark <= highWatermark else { throw .invalidArgument }
        return ReadSequence(stream: self, highWatermark: highWatermark, lowWatermark: lowWatermark)
    }
}

extension Stream {
    /// The next chunk from the stream's async read buffer, reading as needed; nil at
    /// the end of the stream. What ``ReadSequence`` and ``ReceiveSequence`` iterate.
    /// `nonisolated(nonsending)`, like `ReadState.next`: on the caller's actor, without
    /// the two executor switches per call that an isolated parameter costs.
    nonisolated(nonsending) func nextReadChunk(
        highWatermark: Int, lowWatermark: Int, acceptingHandles: Bool
    ) async throws(UVError) -> ReadChunk? {
        try checkAsyncUsable()
        let state: ReadState
        if let existing = asyncState.reader {
            state = existing
        } else {
            state = ReadState()
            asyncState.reader = state
        }
        // The waiting task's sequence decides how reading goes on (this call throws
        // `.busy` if it has to wait too); otherwise the caller's does: a `reads()`
        // leaves handles that arrive pending in the pipe, a `receive()` takes them.
        if !state.isWaiting {
            state.highWatermark = highWatermark
            state.lowWatermark = lowWatermark
            state.acceptsHandles = acceptingHandles
        }
        return try await state.next(self)
    }
}

/// One read: its bytes, and the handles that arrived with them over an IPC pipe (once
/// a ``ReceiveSequence`` has been iterated; empty otherwise).
struct ReadChunk {
    var bytes: ByteChunk
    var handles: [Stream] = []
}

/// A stream's async read buffer (on the loop's thread only).
final class ReadState {
    private enum End {
        case endOfFile
        case failure(UVError)
    }

    private var chunks = RingBuffer<ReadChunk>()
    private(set) var buffered = 0
    var highWatermark = 65536
    var lowWatermark = 16384
    /// Accept the handles that arrive over an IPC pipe into each chunk (a
    /// ``ReceiveSequence`` is in use); otherwise they stay pending in the pipe.
    var acceptsHandles = false
    /// Reading was stopped because the buffer went above the high watermark.
    private var isPaused = false
    private var end: End?
    /// The task waiting for a chunk or the end; resumed with nil when there is one to
    /// take (the chunk itself stays in `chunks`: it may hold handles, which are not
    /// `Sendable`), or with ``UVError/canceled`` when the stream closes.
    private var waiter: UnsafeContinuation<UVError?, Never>?
    /// Whether a task is waiting for a chunk.
    var isWaiting: Bool { waiter != nil }

    /// The read callback, made once, in the stream's own form: wrapping a closure in
    /// `Callback` costs an allocation, and a wait starts reading each time. It holds
    /// the state strongly until the handle has closed (see `AsyncState.writeCompletion`).
    private lazy var callback: Callback<ReadCallback, ReadFunction> = .closure { stream, status, bytes in
        self.didRead(stream, status, bytes)
    }

    nonisolated(nonsending) func next(_ stream: Stream) async throws(UVError) -> ReadChunk? {
        while true {
            if let chunk = chunks.removeFirst() {
                buffered -= chunk.bytes.count
                if isPaused, buffered <= lowWatermark {
                    isPaused = false
                    if end == nil, stream.isReadable { try stream.readStart(callback) }
                }
                return chunk
            }
            if let end {
                self.end = .endOfFile
                switch end {
                case .endOfFile: return nil
                case .failure(let error): throw error
                }
            }
            guard waiter == nil else { throw .busy }
            isPaused = false
            try stream.readStart(callback)
            let failure = await suspend(on: stream) { continuation in
                waiter = continuation
            }
            if let failure { throw failure }
        }
    }

    private func didRead(_ stream: Stream, _ status: Int32, _ bytes: UnsafeRawBufferPointer) {
        if status == 0 {
            let handles = acceptsHandles ? acceptPendingHandles(stream) : []
            chunks.append(ReadChunk(bytes: stream.loop.readBuffers.keep(bytes), handles: handles))
            buffered += bytes.count
            if buffered > highWatermark, !isPaused {
                isPaused = true
                try? stream.readStop()
            }
        } else {
            // The core has stopped reading: end of stream or read error, reported once.
            end = status == UV_EOF.rawValue ? .endOfFile : .failure(UVError(code: status))
        }
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: nil)
        }
    }

    /// The stream can no longer be read, without a read callback (its connect
    /// failed): the consumer gets the chunks before it, then `error`, once.
    func didEnd(_ error: UVError) {
        guard end == nil else { return }
        end = .failure(error)
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: nil)
        }
    }

    /// Accepts every handle pending on an IPC pipe into a new stream of its kind: the
    /// handles that came with the bytes just read.
    private func acceptPendingHandles(_ stream: Stream) -> [Stream] {
        guard let pipe = stream as? Pipe else { return [] }
        var handles: [Stream] = []
        while let kind = pipe.pendingKind {
            do throws(UVError) {
                let handle: Stream = kind == .tcp ? try TCP(loop: pipe.loop) : try Pipe(loop: pipe.loop)
                do throws(UVError) {
                    try pipe.accept(into: handle)
                } catch {
                    handle.closeOnLoopThread(nil)
                    throw error
                }
                handles.append(handle)
            } catch {
                // It stays pending, for the callback API's accept.
                break
            }
        }
        return handles
    }

    func handleDidClose() {
        callback = .closure { _, _, _ in }   // the callback's hold on this state
        // Handles received but never handed to the consumer would stay open.
        while let chunk = chunks.removeFirst() {
            for handle in chunk.handles { handle.closeOnLoopThread(nil) }
        }
        chunks = RingBuffer()
        buffered = 0
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: .canceled)
        }
    }
}
