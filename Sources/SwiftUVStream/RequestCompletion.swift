/// A C-convention completion function: `(handle, status, context)`. The handle is the
/// object's opaque pointer (`Unmanaged.passUnretained(object).toOpaque()`), borrowed
/// for the call. Matches the C header's request callbacks, so the C face passes
/// them through unchanged.
public typealias RequestFunction = @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void

/// How a connect, write or shutdown request reports that it finished.
///
/// `.function` carries a C function and its context in place, so a request costs no
/// allocation; `.closure` is the Swift convenience.
///
/// Threading: a completion runs on the loop's thread, from the loop, never inside the
/// call that started the request. Not `Sendable` (a closure may capture loop-confined state).
public enum RequestCompletion {
    /// Nothing is told when the request finishes.
    case none
    /// A closure receives the status: 0, or a negative code (see ``StatusCode``).
    case closure((Int32) -> Void)
    /// A C function receives `(object, status, context)`; no allocation per request.
    case function(RequestFunction?, UnsafeMutableRawPointer?)

    /// Whether nobody waits for the request (no closure, no function).
    var isEmpty: Bool {
        switch self {
        case .none: true
        case .closure: false
        case .function(let function, _): function == nil
        }
    }

    /// Calls the completion with `status`; `object` is what a `.function` receives.
    func callAsFunction(_ object: AnyObject, status: Int32) {
        switch self {
        case .none:
            break
        case .closure(let body):
            body(status)
        case .function(let function, let context):
            function?(opaquePointer(object), status, context)
        }
    }
}
