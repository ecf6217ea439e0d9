import CSwiftUVStream
import SwiftUVStream

// Section 3 of swiftuvstream.h: the loop.

@c @implementation
public func uvs_loop_new(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return invalidArgument }
    out.pointee = nil
    return status { () throws(UVError) in
        out.pointee = ownedPointer(try Loop())
    }
}

@c @implementation
public func uvs_loop_new_with_buffer_size(
    _ readBufferSize: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guard let out else { return invalidArgument }
    out.pointee = nil
    return status { () throws(UVError) in
        out.pointee = ownedPointer(try Loop(bufferSize: readBufferSize))
    }
}

@c @implementation
public func uvs_loop_run(_ loop: OpaquePointer?, _ mode: uvs_run_mode) -> Int32 {
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    let runMode: Loop.RunMode
    switch mode {
    case UVS_RUN_DEFAULT: runMode = .default
    case UVS_RUN_ONCE: runMode = .once
    case UVS_RUN_NOWAIT: runMode = .noWait
    default: return invalidArgument
    }
    return result { () throws(UVError) in try loop.run(runMode) ? 1 : 0 }
}

@c @implementation
public func uvs_loop_stop(_ loop: OpaquePointer?) -> Int32 {
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return status { () throws(UVError) in try loop.stop() }
}

@c @implementation
public func uvs_loop_alive(_ loop: OpaquePointer?) -> Int32 {
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return result { () throws(UVError) in
        try loop.checkThread()
        return loop.isAlive ? 1 : 0
    }
}

@c @implementation
public func uvs_loop_now(_ loop: OpaquePointer?) -> UInt64 {
    object(loop, as: Loop.self)?.now ?? 0
}

@c @implementation
public func uvs_loop_update_time(_ loop: OpaquePointer?) -> Int32 {
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return status { () throws(UVError) in try loop.updateTime() }
}

@c @implementation
public func uvs_loop_handle_count(_ loop: OpaquePointer?) -> Int32 {
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return result { () throws(UVError) in
        try loop.checkThread()
        return Int32(clamping: loop.handleCount)
    }
}

@c @implementation
public func uvs_loop_close_all(_ loop: OpaquePointer?, _ cb: uvs_close_cb?, _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return result { () throws(UVError) in
        let count = try loop.closeAllHandles(cb.map { cb in { handle in cb(borrowedPointer(handle), userData) } })
        return Int32(clamping: count)
    }
}

@c @implementation
public func uvs_loop_close(_ loop: OpaquePointer?) -> Int32 {
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return status { () throws(UVError) in try loop.close() }
}

@c @implementation
public func uvs_loop_release(_ loop: OpaquePointer?) {
    // A second release would give up a reference the caller no longer holds.
    guard let pointer = loop, let loop = object(pointer, as: Loop.self), !loop.isReleasedByOwner else { return }
    loop.isReleasedByOwner = true
    Unmanaged<Loop>.fromOpaque(UnsafeRawPointer(pointer)).release()
}

@c @implementation
public func uvs_loop_post(_ loop: OpaquePointer?, _ fn: uvs_post_cb?, _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let loop = object(loop, as: Loop.self), let fn else { return invalidArgument }
    return status { () throws(UVError) in try loop.post(function: fn, context: userData) }
}
