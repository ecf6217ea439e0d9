import CLibUV
#if canImport(Glibc)
import Glibc
#endif
import CSwiftUVStream
import SwiftUVStream

// Section 5 of swiftuvstream.h: streams of any kind.

@c @implementation
public func uvs_listen(_ server: OpaquePointer?, _ backlog: Int32, _ cb: uvs_connection_cb?, _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let server = object(server, as: SwiftUVStream.Stream.self), let cb else { return invalidArgument }
    return status { () throws(UVError) in try server.listen(backlog: backlog, function: cb, context: userData) }
}

@c @implementation
public func uvs_accept(_ server: OpaquePointer?, _ client: OpaquePointer?) -> Int32 {
    guard let server = object(server, as: SwiftUVStream.Stream.self),
          let client = object(client, as: SwiftUVStream.Stream.self)
    else { return invalidArgument }
    return status { () throws(UVError) in try server.accept(into: client) }
}

@c @implementation
public func uvs_read_start(_ stream: OpaquePointer?, _ cb: uvs_read_cb?, _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let stream = object(stream, as: SwiftUVStream.Stream.self), let cb else { return invalidArgument }
    return status { () throws(UVError) in try stream.readStart(function: cb, context: userData) }
}

@c @implementation
public func uvs_read_stop(_ stream: OpaquePointer?) -> Int32 {
    guard let stream = object(stream, as: SwiftUVStream.Stream.self) else { return invalidArgument }
    return status { () throws(UVError) in try stream.readStop() }
}

@c @implementation
public func uvs_is_reading(_ stream: OpaquePointer?) -> Int32 {
    flag(stream, as: SwiftUVStream.Stream.self) { $0.isReading }
}

@c @implementation
public func uvs_is_readable(_ stream: OpaquePointer?) -> Int32 {
    flag(stream, as: SwiftUVStream.Stream.self) { $0.isReadable }
}

@c @implementation
public func uvs_is_writable(_ stream: OpaquePointer?) -> Int32 {
    flag(stream, as: SwiftUVStream.Stream.self) { $0.isWritable }
}

@c @implementation
public func uvs_write_queue_size(_ stream: OpaquePointer?) -> Int {
    object(stream, as: SwiftUVStream.Stream.self)?.writeQueueSize ?? 0
}

@c @implementation
public func uvs_write(
    _ stream: OpaquePointer?, _ bufs: UnsafePointer<uvs_buf_t>?, _ nbufs: Int,
    _ cb: uvs_write_cb?, _ userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let stream = object(stream, as: SwiftUVStream.Stream.self) else { return invalidArgument }
    return withLibUVBuffers(bufs, count: nbufs) { (buffers) throws(UVError) in
        try stream.write(buffers, completion: .function(cb, userData))
        return 0
    }
}

@c @implementation
public func uvs_write_now(
    _ stream: OpaquePointer?, _ bufs: UnsafePointer<uvs_buf_t>?, _ nbufs: Int,
    _ cb: uvs_write_cb?, _ userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let stream = object(stream, as: SwiftUVStream.Stream.self) else { return invalidArgument }
    return withLibUVBuffers(bufs, count: nbufs) { (buffers) throws(UVError) in
        try stream.writeNow(buffers, completion: .function(cb, userData)) ? 1 : 0
    }
}

@c @implementation
public func uvs_write2(
    _ stream: OpaquePointer?, _ bufs: UnsafePointer<uvs_buf_t>?, _ nbufs: Int, _ sendHandle: OpaquePointer?,
    _ cb: uvs_write_cb?, _ userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let stream = object(stream, as: SwiftUVStream.Stream.self),
          let sendHandle = object(sendHandle, as: SwiftUVStream.Stream.self)
    else { return invalidArgument }
    return withLibUVBuffers(bufs, count: nbufs) { (buffers) throws(UVError) in
        try stream.write(buffers, sendHandle: sendHandle, completion: .function(cb, userData))
        return 0
    }
}

@c @implementation
public func uvs_try_write(_ stream: OpaquePointer?, _ bufs: UnsafePointer<uvs_buf_t>?, _ nbufs: Int) -> Int32 {
    guard let stream = object(stream, as: SwiftUVStream.Stream.self) else { return invalidArgument }
    return withLibUVBuffers(bufs, count: nbufs) { (buffers) throws(UVError) in
        Int32(try stream.tryWrite(buffers))
    }
}

@c @implementation
public func uvs_shutdown(_ stream: OpaquePointer?, _ cb: uvs_shutdown_cb?, _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let stream = object(stream, as: SwiftUVStream.Stream.self) else { return invalidArgument }
    return status { () throws(UVError) in try stream.shutdown(completion: .function(cb, userData)) }
}

@c @implementation
public func uvs_set_write_watermarks(_ stream: OpaquePointer?, _ high: Int, _ low: Int) -> Int32 {
    guard let stream = object(stream, as: SwiftUVStream.Stream.self) else { return invalidArgument }
    // size_t arrives as Int: read it back as unsigned (SIZE_MAX means "no limit").
    let (high, low) = (UInt(bitPattern: high), UInt(bitPattern: low))
    guard low <= high else { return invalidArgument }
    return status { () throws(UVError) in try stream.setWriteWatermarks(high: Int(clamping: high), low: Int(clamping: low)) }
}

@c @implementation
public func uvs_on_writability_changed(_ stream: OpaquePointer?, _ cb: uvs_writability_cb?, _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let stream = object(stream, as: SwiftUVStream.Stream.self) else { return invalidArgument }
    return status { () throws(UVError) in try stream.onWritabilityChanged(function: cb, context: userData) }
}

@c @implementation
public func uvs_is_write_blocked(_ stream: OpaquePointer?) -> Int32 {
    flag(stream, as: SwiftUVStream.Stream.self) { !$0.isClosing && $0.isWriteBlocked }
}

@c @implementation
public func uvs_is_ipc(_ stream: OpaquePointer?) -> Int32 {
    flag(stream, as: SwiftUVStream.Stream.self) { $0.isIPC }
}

/// Runs `body` with the caller's `uvs_buf_t` array as libuv buffers (on the stack for
/// small counts, else on the heap: `UVS_ENOMEM` if that fails); returns its result or
/// the code of the error it threw.
private func withLibUVBuffers(
    _ bufs: UnsafePointer<uvs_buf_t>?, count: Int,
    _ body: (UnsafeBufferPointer<uv_buf_t>) throws(UVError) -> Int32
) -> Int32 {
    // libuv takes an unsigned int count; anything near that is a caller's mistake.
    guard count >= 0, count <= Int(Int32.max), bufs != nil || count == 0 else { return invalidArgument }
    func convert(into buffers: UnsafeMutableBufferPointer<uv_buf_t>) -> Int32 {
        for index in 0..<count {
            let source = bufs.unsafelyUnwrapped[index]
            buffers.initializeElement(
                at: index,
                to: uv_buf_t(base: UnsafeMutablePointer(mutating: source.base?.assumingMemoryBound(to: CChar.self)), len: source.len))
        }
        return result { () throws(UVError) in try body(UnsafeBufferPointer(buffers)) }
    }
    if count <= 64 {
        return withUnsafeTemporaryAllocation(of: uv_buf_t.self, capacity: count, convert)
    }
    // Not Swift's allocator, which ends the process when memory runs out.
    guard let memory = malloc(count * MemoryLayout<uv_buf_t>.stride) else { return UVError.outOfMemory.code }
    defer { free(memory) }
    let buffers = memory.bindMemory(to: uv_buf_t.self, capacity: count)
    return convert(into: UnsafeMutableBufferPointer(start: buffers, count: count))
}
