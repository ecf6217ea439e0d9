import SwiftUVStream

// The C face's plumbing: how opaque C pointers map to core objects and how thrown
// errors become return codes. Every uvs_* object pointer is an `Unmanaged` pointer
// to a core object (a Loop, or a Handle subclass).

/// The object behind `pointer` if it is a `T`; nil for NULL, a pointer this library
/// did not hand out (or whose object is gone), or the wrong kind (a timer given as a
/// stream, a loop given as a handle): an error, not a crash.
@inline(__always)
func object<T: AnyObject>(_ pointer: OpaquePointer?, as type: T.Type) -> T? {
    guard let pointer, LiveObjects.contains(UnsafeRawPointer(pointer)) else { return nil }
    return Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue() as? T
}

/// A borrowed opaque pointer to `object`, for callbacks.
@inline(__always)
func borrowedPointer(_ object: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passUnretained(object).toOpaque())
}

/// An opaque pointer carrying one reference to `object`, for the caller of a *_new.
func ownedPointer(_ object: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(object).toOpaque())
}

/// Runs `body` and returns 0, or the code of the error it threw.
@inline(__always)
func status(_ body: () throws(UVError) -> Void) -> Int32 {
    do {
        try body()
        return 0
    } catch {
        return error.code
    }
}

/// Runs `body` and returns its non-negative result, or the code of the error it threw.
@inline(__always)
func result(_ body: () throws(UVError) -> Int32) -> Int32 {
    do {
        return try body()
    } catch {
        return error.code
    }
}

/// A flag query's answer: 1 or 0, or `UVS_EINVAL` when there is no object.
@inline(__always)
func flag<T: AnyObject>(_ pointer: OpaquePointer?, as type: T.Type, _ query: (T) -> Bool) -> Int32 {
    guard let target = object(pointer, as: type) else { return UVError.invalidArgument.code }
    return query(target) ? 1 : 0
}

let invalidArgument = UVError.invalidArgument.code

/// Copies `bytes` and a NUL into `buffer` of `size` bytes; `UV_ENOBUFS` if they do not fit.
func copyCString(_ bytes: [UInt8], into buffer: UnsafeMutablePointer<CChar>, size: Int) throws(UVError) {
    guard size > bytes.count else { throw .noBufferSpace }
    bytes.withUnsafeBytes { source in
        if let base = source.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: source.count) }
    }
    buffer[bytes.count] = 0
}
