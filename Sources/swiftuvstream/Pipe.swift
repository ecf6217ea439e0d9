import CSwiftUVStream
import SwiftUVStream

// Section 8 of swiftuvstream.h: pipes.

@c @implementation
public func uvs_pipe_new(_ loop: OpaquePointer?, _ ipc: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return invalidArgument }
    out.pointee = nil
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return status { () throws(UVError) in
        out.pointee = ownedPointer(try Pipe(loop: loop, ipc: ipc != 0))
    }
}

@c @implementation
public func uvs_pipe_open(_ pipe: OpaquePointer?, _ fd: Int32) -> Int32 {
    guard let pipe = object(pipe, as: Pipe.self) else { return invalidArgument }
    return status { () throws(UVError) in try pipe.open(fd) }
}

@c @implementation
public func uvs_pipe_bind(_ pipe: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guard let pipe = object(pipe, as: Pipe.self), let path else { return invalidArgument }
    return status { () throws(UVError) in try pipe.bind(cPath: path) }
}

@c @implementation
public func uvs_pipe_connect(
    _ pipe: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ cb: uvs_connect_cb?, _ userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let pipe = object(pipe, as: Pipe.self), let path else { return invalidArgument }
    return status { () throws(UVError) in
        try pipe.connect(toCPath: path, completion: .function(cb, userData))
    }
}

@c @implementation
public func uvs_pipe_chmod(_ pipe: OpaquePointer?, _ flags: Int32) -> Int32 {
    let known = Int32(UVS_PIPE_READABLE | UVS_PIPE_WRITABLE)
    guard let pipe = object(pipe, as: Pipe.self), flags & ~known == 0 else { return invalidArgument }
    return status { () throws(UVError) in
        try pipe.chmod(readable: flags & Int32(UVS_PIPE_READABLE) != 0, writable: flags & Int32(UVS_PIPE_WRITABLE) != 0)
    }
}

@c @implementation
public func uvs_pipe_sockname(
    _ pipe: OpaquePointer?, _ path: UnsafeMutablePointer<CChar>?, _ size: Int, _ length: UnsafeMutablePointer<Int>?
) -> Int32 {
    guard let pipe = object(pipe, as: Pipe.self) else { return invalidArgument }
    return copyPath(into: path, size: size, length: length) { () throws(UVError) in try pipe.socketNameBytes() }
}

@c @implementation
public func uvs_pipe_peername(
    _ pipe: OpaquePointer?, _ path: UnsafeMutablePointer<CChar>?, _ size: Int, _ length: UnsafeMutablePointer<Int>?
) -> Int32 {
    guard let pipe = object(pipe, as: Pipe.self) else { return invalidArgument }
    return copyPath(into: path, size: size, length: length) { () throws(UVError) in try pipe.peerNameBytes() }
}

@c @implementation
public func uvs_pipe_pending_instances(_ pipe: OpaquePointer?, _ count: Int32) -> Int32 {
    guard let pipe = object(pipe, as: Pipe.self) else { return invalidArgument }
    return status { () throws(UVError) in try pipe.setPendingInstances(count) }
}

@c @implementation
public func uvs_pipe_pending_count(_ pipe: OpaquePointer?) -> Int32 {
    guard let pipe = object(pipe, as: Pipe.self) else { return invalidArgument }
    return Int32(clamping: pipe.pendingCount)
}

@c @implementation
public func uvs_pipe_pending_kind(_ pipe: OpaquePointer?) -> Int32 {
    guard let pipe = object(pipe, as: Pipe.self) else { return invalidArgument }
    return pipe.pendingKind?.rawValue ?? 0
}

@c @implementation
public func uvs_pipe_pair(_ fds: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let fds else { return invalidArgument }
    return status { () throws(UVError) in
        let pair = try Pipe.makePipe()
        fds[0] = pair.read
        fds[1] = pair.write
    }
}

@c @implementation
public func uvs_socketpair(_ fds: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let fds else { return invalidArgument }
    return status { () throws(UVError) in
        let pair = try Pipe.makeSocketPair()
        fds[0] = pair.0
        fds[1] = pair.1
    }
}

/// Writes the path `read` returns, NUL-terminated, into the caller's buffer.
private func copyPath(
    into path: UnsafeMutablePointer<CChar>?, size: Int, length: UnsafeMutablePointer<Int>?,
    _ read: () throws(UVError) -> [UInt8]
) -> Int32 {
    guard let path else { return invalidArgument }
    return status { () throws(UVError) in
        let bytes = try read()
        length?.pointee = bytes.count
        try copyCString(bytes, into: path, size: size)
    }
}
