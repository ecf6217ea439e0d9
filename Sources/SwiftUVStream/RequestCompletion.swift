/// A C-convention completion function: `(handle, status, context)`. The handle is the
/// object's opaque pointer (`Unmanaged.passUnretained(object).toOpaque()`), borrowed
/// for the call. Matches the C header's request callbacks, so the C face passes
/// them through unchanged.
public typealias RequestFunction = @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void

/// How a connect, write or shutdown request reports that it finished.
///
/// `.function` carries a C function and its context in place, so a request costs no
/// allocation; `.closure` is the Swift convenience.
public enum RequestCompletion {
    case none
    case closure((Int32) -> Void)
    case function(RequestFunction?, UnsafeMutableRawPointer?)

    /// Calls the completion with `status`; `object` is what a `.function` receives.
    func callAsFunction(_ object: AnyObject, status: Int32) {
        switch self {
        case .none:
            break
        case .closure(let body):
            body(status)
        case .function(let function, let context):
            function?(OpaquePointer(Unmanaged.passUnretained(object).toOpaque()), status, context)
        }
    }
}
