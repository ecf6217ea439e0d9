/// A C-convention read function: `(stream, status, data, length, context)`, the shape
/// of the C header's `uvs_read_cb`. The stream is the object's opaque pointer and
/// `data` the loop's read buffer, both borrowed for the call; the statuses are those
/// of ``ReadCallback``.
public typealias ReadFunction =
    @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Void

/// A C-convention stream event function: `(stream, value, context)`, the shape of the
/// C header's `uvs_connection_cb` (value: the status) and `uvs_writability_cb`
/// (value: 1 writable, 0 blocked). The stream is the object's opaque pointer, borrowed.
public typealias StreamEventFunction = @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void

/// A C-convention handle function: `(handle, context)`, the shape of the C header's
/// `uvs_close_cb` and `uvs_timer_cb`. The handle is the object's opaque pointer, borrowed.
public typealias HandleFunction = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void

/// An event callback as a handle stores it: a Swift closure, or a C function with its
/// context kept in place. The C face registers the second form, so a registration
/// costs no closure context (an allocation that every idle connection would keep).
enum Callback<Closure, Function> {
    case closure(Closure)
    case function(Function, UnsafeMutableRawPointer?)
}

/// The opaque pointer a C-convention callback receives for `object` (borrowed).
@inline(__always)
func opaquePointer(_ object: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passUnretained(object).toOpaque())
}
