import CSwiftUVStream
import SwiftUVStream

// Section 9 of swiftuvstream.h: TTYs.

@c @implementation
public func uvs_tty_new(_ loop: OpaquePointer?, _ fd: Int32, _ readable: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return invalidArgument }
    out.pointee = nil
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return status { () throws(UVError) in
        out.pointee = ownedPointer(try TTY(loop: loop, fd: fd, readable: readable != 0))
    }
}

@c @implementation
public func uvs_tty_set_mode(_ tty: OpaquePointer?, _ mode: uvs_tty_mode) -> Int32 {
    guard let tty = object(tty, as: TTY.self), let mode = TTY.Mode(rawValue: Int32(bitPattern: mode.rawValue)) else {
        return invalidArgument
    }
    return status { () throws(UVError) in try tty.setMode(mode) }
}

@c @implementation
public func uvs_tty_get_winsize(_ tty: OpaquePointer?, _ width: UnsafeMutablePointer<Int32>?, _ height: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let tty = object(tty, as: TTY.self) else { return invalidArgument }
    return status { () throws(UVError) in
        let size = try tty.windowSize()
        width?.pointee = size.width
        height?.pointee = size.height
    }
}

@c @implementation
public func uvs_tty_reset_mode() -> Int32 {
    status { () throws(UVError) in try TTY.resetMode() }
}
