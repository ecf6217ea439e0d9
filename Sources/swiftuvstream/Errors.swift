import CSwiftUVStream
import SwiftUVStream

// Section 2 of swiftuvstream.h: errors.

@c @implementation
public func uvs_strerror(_ code: Int32) -> UnsafePointer<CChar>? {
    UVError.messagePointer(code)
}

@c @implementation
public func uvs_err_name(_ code: Int32) -> UnsafePointer<CChar>? {
    UVError.namePointer(code)
}
