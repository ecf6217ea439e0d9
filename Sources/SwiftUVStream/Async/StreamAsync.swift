import CLibUV

// async/await over the callback API: connect, write (with backpressure), flush,
// shutdown and close. Each runs on the caller's actor (the `isolation` parameter,
// filled in by the compiler; `write` is `nonisolated(nonsending)`, the same without
// the executor switches a parameter costs) — meant to be a `LoopThread`, whose executor
// is the loop's thread; from anywhere else the first call on the handle throws
// `UVError.wrongThread`.
//
// Cancellation: a task cancelled while it waits here (or that calls in already
// cancelled) closes the handle; everything waiting on the handle then ends with
// `UVError.canceled`.

extension Handle {
    /// Closes the handle and returns once its close callback has run: pending
    /// requests have completed with ``UVError/canceled`` (or success, if they had
    /// finished) and every task suspended on the handle has been resumed.
    ///
    /// Idempotent: on a handle that is already closing it waits for the same close;
    /// on a closed handle it returns at once.
    ///
    /// - Throws: ``UVError/wrongThread`` if not called on the loop's thread.
    public func close(isolation: isolated (any Actor)? = #isolation) async throws(UVError) {
        try loop.checkThread()
        if isClosed { return }
        let state = asyncState
        await withCheckedContinuation { continuation in
            state.closeWaiters.append(continuation)
            closeOnLoopThread(nil)
        }
    }
}

extension Stream {
    /// Writes `bytes` after every earlier write, then suspends while the write queue
    /// is above ``highWatermark``, until the writability callback reports that it fell
    /// to ``lowWatermark``: a producer that awaits each write never queues much more
    /// than the high watermark, however slow the peer.
    ///
    /// Returns when the bytes are accepted, not when they are sent (``flush(isolation:)``
    /// waits for that). The caller may reuse `bytes` at once. An I/O error that a
    /// write reports later is thrown by the next `write`, `flush` or `shutdown`.
    ///
    /// - Parameter bytes: Any collection of bytes (`[UInt8]`, a slice, a `String.UTF8View`,
    ///   an `UnsafeRawBufferPointer`, ...); contiguous ones are written from their own
    ///   storage. Empty is fine.
    /// - Throws: an earlier write's I/O error; ``UVError/brokenPipe`` if the stream is
    ///   not writable; ``UVError/closed`` once closing (``UVError/canceled`` in a
    ///   cancelled task); ``UVError/canceled`` if the stream closed (or the task was
    ///   cancelled) while waiting for room.
    ///
    /// Runs on the caller's actor, which should be the stream's ``LoopThread``
    /// (`nonisolated(nonsending)`: no executor switch on the way in or out).
    nonisolated(nonsending) public func write<Bytes: Collection<UInt8>>(
        _ bytes: Bytes
    ) async throws(UVError) {
        try await write(bytes, sending: nil)
    }

    /// Writes `bytes` with `handle` travelling alongside, over an IPC pipe; the peer
    /// gets the handle with the first byte (``Pipe/receive(highWatermark:lowWatermark:)``
    /// hands them over together). Backpressure and errors as ``write(_:)``.
    ///
    /// What travels is a duplicate of `handle`'s descriptor, made in this call: the
    /// caller may close its own copy of the connection as soon as this returns, even
    /// while the write waits in the queue (the peer's copy stays open).
    ///
    /// - Parameters:
    ///   - bytes: At least one byte when `handle` is given.
    ///   - handle: An open TCP or pipe stream of this loop, or nil for a plain write.
    /// - Throws: ``UVError/invalidArgument`` if this is not an IPC pipe, `bytes` is
    ///   empty or `handle` is not an open TCP or pipe stream of this loop;
    ///   ``UVError/closed`` if `handle` is closing; otherwise as ``write(_:)``.
    nonisolated(nonsending) public func write<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, sending handle: Stream?
    ) async throws(UVError) {
        try checkAsyncUsable()
        let state = asyncState
        if let error = state.writeError { throw error }
        // A write the socket takes whole has no error to record: it needs no report.
        if try write(bytes, sendHandle: handle, completion: state.writeCompletion, finishingAtOnce: true) { return }
        guard isWriteBlocked else { return }
        let failure: UVError? = await suspend(on: self) { continuation in
            if isClosing {
                continuation.resume(returning: .canceled)
            } else if !isWriteBlocked || !isWritable {
                continuation.resume(returning: state.writeError)
            } else {
                state.writeWaiters.append(continuation)
            }
        }
        if let failure { throw failure }
    }

    /// Waits until every byte written so far has been handed to the kernel (a
    /// zero-byte write, which completes in order after the earlier ones).
    ///
    /// - Throws: the first I/O error of an earlier async write or of this flush;
    ///   ``UVError/canceled`` if the stream closes first.
    public func flush(isolation: isolated (any Actor)? = #isolation) async throws(UVError) {
        try checkAsyncUsable()
        let state = asyncState
        if let error = state.writeError { throw error }
        let status = try await awaitRequest { (completion) throws(UVError) in
            try write(EmptyCollection<UInt8>(), completion: completion)
        }
        if let error = state.writeError { throw error }
        try StatusCode(status).check()
    }

    /// Shuts the write side down once every queued write is sent, and returns when the
    /// shutdown has completed. The stream stops being writable at once; the peer sees
    /// the end of the stream after the last byte. Reading goes on (half-close).
    ///
    /// - Throws: an earlier async write's I/O error; ``UVError/notConnected`` if the
    ///   stream is not writable (never connected, already shut down); the shutdown's
    ///   own error; ``UVError/canceled`` if the stream closes first.
    public func shutdown(isolation: isolated (any Actor)? = #isolation) async throws(UVError) {
        try checkAsyncUsable()
        if let error = asyncState.writeError { throw error }
        let status = try await awaitRequest { (completion) throws(UVError) in
            try shutdown(completion: completion)
        }
        try StatusCode(status).check()
    }

    /// Starts a request with a completion that resumes the task, and waits for it.
    /// The core completes every request exactly once (with `UV_ECANCELED` if the
    /// stream closes), so the task always resumes.
    func awaitRequest(
        isolation: isolated (any Actor)? = #isolation,
        _ start: (RequestCompletion) throws(UVError) -> Void
    ) async throws(UVError) -> Int32 {
        let result: Result<Int32, UVError> = await suspend(on: self) { continuation in
            do throws(UVError) {
                try start(.closure { status in continuation.resume(returning: .success(status)) })
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }
}

extension TCP {
    /// Connects to a numeric IPv4 or IPv6 address and port, and returns once
    /// connected.
    ///
    /// - Throws: ``UVError/invalidArgument`` for an address that is not numeric or a
    ///   port out of range; ``UVError/alreadyConnected`` or
    ///   ``UVError/alreadyInProgress`` at the call; the connection's own error
    ///   (`ECONNREFUSED`, `ETIMEDOUT`, `EADDRINUSE` from a busy bind, ...); after a failed
    ///   connect the stream cannot connect again: close it and make a new one.
    ///   ``UVError/canceled`` if the stream closes (or the task is cancelled) first.
    public func connect(
        to host: String, port: Int, isolation: isolated (any Actor)? = #isolation
    ) async throws(UVError) {
        try checkAsyncUsable()
        let status = try await awaitRequest { (completion) throws(UVError) in
            try connect(to: host, port: port, completion: completion)
        }
        try StatusCode(status).check()
    }
}

extension Pipe {
    /// Connects to the Unix socket at `path`, and returns once connected.
    ///
    /// - Throws: the connection's error (`ENOENT`, `ECONNREFUSED`, `ENAMETOOLONG` for a
    ///   path longer than ``Pipe/maximumPathLength``, ...); ``UVError/canceled`` if the
    ///   pipe closes (or the task is cancelled) first.
    public func connect(
        to path: String, isolation: isolated (any Actor)? = #isolation
    ) async throws(UVError) {
        try checkAsyncUsable()
        let status = try await awaitRequest { (completion) throws(UVError) in
            try connect(to: path, completion: completion)
        }
        try StatusCode(status).check()
    }
}
