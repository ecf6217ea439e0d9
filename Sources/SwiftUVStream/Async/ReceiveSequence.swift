/// What arrives on an IPC pipe, as an asynchronous sequence of messages: the bytes of
/// one read together with the handles (TCP connections, pipes) that came with them —
/// a worker pool's way to be handed connections.
///
/// ```swift
/// for try await message in try channel.receive() {
///     for case let connection as TCP in message.handles {
///         Task { _ = thread; try await serve(connection) }   // the worker owns it now
///     }
/// }
/// ```
///
/// It shares the pipe's read buffer, watermarks and rules with ``ReadSequence`` (end,
/// errors, cancellation, closing); the handles of a message belong to the consumer,
/// who must close them. Handles that arrived while only ``Stream/reads(highWatermark:lowWatermark:)``
/// was iterated stay pending in the pipe (``Pipe/pendingKind``, ``Stream/accept(into:)``).
/// Handles buffered but not yet taken are closed when the pipe closes.
///
/// Threading: iterate on the loop's thread (in code isolated to a ``LoopThread``).
public struct ReceiveSequence: AsyncSequence {
    /// The bytes of one read and the handles that arrived with them.
    public struct Message {
        /// The bytes (see ``ByteChunk``).
        public let bytes: ByteChunk
        /// Open streams, one per handle the peer sent with these bytes (usually none
        /// or one); the consumer owns and closes them.
        public let handles: [Stream]
    }

    /// Messages read fail with ``UVError``.
    public typealias Failure = UVError

    /// The pipe read.
    public let pipe: Pipe
    /// Reading stops while more than this many bytes wait for the consumer.
    public let highWatermark: Int
    /// Reading starts again when the consumer has drained the buffer to this many bytes.
    public let lowWatermark: Int

    /// Makes an iterator; reading starts at its first `next`.
    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self)
    }

    /// Takes messages from the pipe's read buffer, reading as needed.
    public struct Iterator: AsyncIteratorProtocol {
        let sequence: ReceiveSequence
        private var finished = false

        init(sequence: ReceiveSequence) {
            self.sequence = sequence
        }

        /// The next message, or nil at the end of the stream; throws as
        /// ``ReadSequence/Iterator/next(isolation:)``.
        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(UVError) -> Message? {
            try await nextMessage()
        }

        /// What both `next` run (see ``ReadSequence/Iterator``'s `nextChunk`).
        @usableFromInline
        nonisolated(nonsending) mutating func nextMessage() async throws(UVError) -> Message? {
            if finished { return nil }
            guard let chunk = try await sequence.pipe.nextReadChunk(
                highWatermark: sequence.highWatermark, lowWatermark: sequence.lowWatermark,
                acceptingHandles: true)
            else {
                finished = true
                return nil
            }
            return Message(bytes: chunk.bytes, handles: chunk.handles)
        }

        /// The next message; see ``next(isolation:)``.
        public nonisolated(nonsending) mutating func next() async throws(UVError) -> Message? {
            try await nextMessage()
        }
    }
}

extension Pipe {
    /// The bytes and handles arriving on this IPC pipe, as an asynchronous sequence of
    /// messages with bounded buffering; see ``ReceiveSequence``.
    ///
    /// - Throws: ``UVError/invalidArgument`` if the pipe was not made with `ipc: true`,
    ///   or for watermarks out of order (`0 <= lowWatermark <= highWatermark`).
    public func receive(highWatermark: Int = 65536, lowWatermark: Int = 16384) throws(UVError) -> ReceiveSequence {
        guard isIPC, lowWatermark >= 0, lowWatermark <= highWatermark else { throw .invalidArgument }
        return ReceiveSequence(pipe: self, highWatermark: highWatermark, lowWatermark: lowWatermark)
    }
}
