import CLibUV

// The Swift conveniences of the callback API's writes: bytes as a raw buffer, an array
// or any collection of bytes, instead of libuv's `uv_buf_t` arrays. They all end in
// `Stream.write(_:sendHandle:completion:)`, so they share its rules: the caller may
// reuse its bytes as soon as the call returns, and the completion reports once, from
// the loop, in submission order.

extension RequestCompletion {
    /// A completion that hands `body` the request's status as a ``StatusCode``.
    ///
    /// ```swift
    /// try stream.write(bytes, completion: .status { status in
    ///     if let error = status.error { print("write failed:", error) }
    /// })
    /// ```
    public static func status(_ body: @escaping (StatusCode) -> Void) -> RequestCompletion {
        .closure { body(StatusCode(rawValue: $0)) }
    }
}

extension Stream {
    /// Writes `bytes` (an array, an array slice, a `String.UTF8View`, any collection of
    /// bytes) after every earlier write.
    ///
    /// Contiguous collections (`[UInt8]`, `ArraySlice<UInt8>`, `UnsafeRawBufferPointer`,
    /// ...) are written from their own storage; others are copied into an array first.
    /// Either way the caller may reuse or change the collection as soon as this
    /// returns: with nothing queued the bytes go to the socket at once and only what it
    /// did not take is copied.
    ///
    /// - Parameters:
    ///   - bytes: The bytes; an empty collection is a defined zero-byte write that
    ///     completes with 0 in order.
    ///   - sendHandle: On an IPC pipe only: an open TCP or pipe stream that travels
    ///     with the first byte (then `bytes` must not be empty).
    ///   - completion: Reports once, from the loop, in submission order; I/O errors
    ///     arrive here.
    /// - Throws: ``UVError/brokenPipe`` if the stream is not writable (never connected,
    ///   shut down, failed), ``UVError/closed`` once closing, ``UVError/wrongThread``
    ///   from a thread that does not own the running loop.
    ///
    /// Threading: on the loop's thread only, like every method of a handle.
    public func write<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, sendHandle: Stream? = nil, completion: RequestCompletion
    ) throws(UVError) {
        _ = try write(bytes, sendHandle: sendHandle, completion: completion, finishingAtOnce: false)
    }

    /// The collection write; with `finishingAtOnce`, as ``writeNow(_:completion:)``:
    /// `true` when the socket took every byte inside the call, and `completion` is then
    /// dropped (the async layer's writes, whose completion only records errors).
    func write<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, sendHandle: Stream?, completion: RequestCompletion, finishingAtOnce: Bool
    ) throws(UVError) -> Bool {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in
            writeRaw(UnsafeRawBufferPointer(buffer), sendHandle, completion, finishingAtOnce)
        }) {
            return try result.get()
        }
        let copy = Array(bytes)
        return try copy.withUnsafeBytes { raw in
            writeRaw(raw, sendHandle, completion, finishingAtOnce)
        }.get()
    }

    /// Writes several raw buffers as one request, in order; the rules are those of
    /// ``write(_:sendHandle:completion:)-(Bytes,_,_)`` (which writes one collection).
    public func write(
        _ buffers: [UnsafeRawBufferPointer], completion: RequestCompletion
    ) throws(UVError) {
        var libUVBuffers: [uv_buf_t] = []
        libUVBuffers.reserveCapacity(buffers.count)
        for buffer in buffers {
            libUVBuffers.append(uv_buf_t(
                base: UnsafeMutablePointer(mutating: buffer.baseAddress?.assumingMemoryBound(to: CChar.self)),
                len: buffer.count))
        }
        try libUVBuffers.withUnsafeBufferPointer { (pointer) throws(UVError) in
            try write(pointer, completion: completion)
        }
    }

    private func writeRaw(
        _ bytes: UnsafeRawBufferPointer, _ sendHandle: Stream?, _ completion: RequestCompletion,
        _ finishingAtOnce: Bool
    ) -> Result<Bool, UVError> {
        var buffer = uv_buf_t(
            base: UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: CChar.self)),
            len: bytes.count)
        return withUnsafePointer(to: &buffer) { pointer in
            do throws(UVError) {
                return .success(try write(
                    UnsafeBufferPointer(start: pointer, count: 1), sendHandle: sendHandle, completion: completion,
                    finishingAtOnce: finishingAtOnce))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Writes what the socket takes now from one raw buffer, without queueing; returns
    /// the number of bytes written. ``UVError/tryAgain`` if nothing can be written now
    /// or writes are queued (it never reorders data).
    public func tryWrite(_ bytes: UnsafeRawBufferPointer) throws(UVError) -> Int {
        var buffer = uv_buf_t(
            base: UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: CChar.self)),
            len: bytes.count)
        return try withUnsafePointer(to: &buffer) { (pointer) throws(UVError) -> Int in
            try tryWrite(UnsafeBufferPointer(start: pointer, count: 1))
        }
    }

    /// Writes what the socket takes now from `bytes` (any collection of bytes; a
    /// non-contiguous one is copied first), without queueing; returns the number of
    /// bytes written. ``UVError/tryAgain`` if nothing can be written now or writes are
    /// queued (it never reorders data).
    public func tryWrite<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(UVError) -> Int {
        var result: Result<Int, UVError>?
        _ = bytes.withContiguousStorageIfAvailable { buffer in
            do throws(UVError) {
                result = .success(try tryWrite(UnsafeRawBufferPointer(buffer)))
            } catch {
                result = .failure(error)
            }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        let copied = copy.withUnsafeBytes { raw -> Result<Int, UVError> in
            do throws(UVError) {
                return .success(try tryWrite(raw))
            } catch {
                return .failure(error)
            }
        }
        return try copied.get()
    }
}
