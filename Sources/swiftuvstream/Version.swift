import CSwiftUVStream
import SwiftUVStream

// Section 1 of swiftuvstream.h: version.

@c @implementation
public func uvs_version() -> UInt32 {
    Version.packed
}

@c @implementation
public func uvs_version_string() -> UnsafePointer<CChar>? {
    Version.cString
}

@c @implementation
public func uvs_libuv_version_string() -> UnsafePointer<CChar>? {
    Version.libUVString
}
