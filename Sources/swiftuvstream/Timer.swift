import CSwiftUVStream
import SwiftUVStream

// Section 7 of swiftuvstream.h: timers.

@c @implementation
public func uvs_timer_new(_ loop: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return invalidArgument }
    out.pointee = nil
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return status { () throws(UVError) in
        out.pointee = ownedPointer(try SwiftUVStream.Timer(loop: loop))
    }
}

@c @implementation
public func uvs_timer_start(
    _ timer: OpaquePointer?, _ timeoutMs: UInt64, _ repeatMs: UInt64,
    _ cb: uvs_timer_cb?, _ userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let timer = object(timer, as: SwiftUVStream.Timer.self), let cb else { return invalidArgument }
    return status { () throws(UVError) in
        try timer.start(timeout: timeoutMs, repeat: repeatMs, function: cb, context: userData)
    }
}

@c @implementation
public func uvs_timer_stop(_ timer: OpaquePointer?) -> Int32 {
    guard let timer = object(timer, as: SwiftUVStream.Timer.self) else { return invalidArgument }
    return status { () throws(UVError) in try timer.stop() }
}

@c @implementation
public func uvs_timer_again(_ timer: OpaquePointer?) -> Int32 {
    guard let timer = object(timer, as: SwiftUVStream.Timer.self) else { return invalidArgument }
    return status { () throws(UVError) in try timer.again() }
}

@c @implementation
public func uvs_timer_set_repeat(_ timer: OpaquePointer?, _ repeatMs: UInt64) -> Int32 {
    guard let timer = object(timer, as: SwiftUVStream.Timer.self) else { return invalidArgument }
    return status { () throws(UVError) in try timer.setRepeatInterval(repeatMs) }
}

@c @implementation
public func uvs_timer_repeat(_ timer: OpaquePointer?) -> UInt64 {
    object(timer, as: SwiftUVStream.Timer.self)?.repeatInterval ?? 0
}
