import CLibUV

/// An error from libuv or from the library: a negative code, as libuv reports them.
///
/// Codes are libuv's (`UV_EOF`, `UV_ECONNRESET`, ...) plus the library's own
/// ``UVError/closed`` and ``UVError/wrongThread`` in a range libuv does not use.
/// Every throwing call of the library throws it typed (`throws(UVError)`), so a
/// `catch` sees a `UVError` without a cast. ``status`` gives the code as a ``StatusCode``.
///
/// Threading: a value, `Sendable`: any thread.
public struct UVError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The negative code (`UV_E*` or one of the library's own).
    public let code: Int32

    /// The error for a negative code (libuv's or the library's own).
    public init(code: Int32) {
        self.code = code
    }

    /// The operation was attempted on a closing or closed handle or loop.
    public static let closed = UVError(code: -5001)
    /// The call came from a thread that does not own the running loop.
    public static let wrongThread = UVError(code: -5002)

    /// `UV_EINVAL`: an argument is invalid, or the call does not fit the handle's state.
    public static let invalidArgument = UVError(code: UV_EINVAL.rawValue)
    /// `UV_EAGAIN`: nothing can be done now (try_write, accept with nothing waiting).
    public static let tryAgain = UVError(code: UV_EAGAIN.rawValue)
    /// `UV_EBUSY`: the resource is in use (closing a loop with live handles, a reentrant run).
    public static let busy = UVError(code: UV_EBUSY.rawValue)
    /// `UV_ECANCELED`: the request was cancelled (its handle closed, or its task was cancelled).
    public static let canceled = UVError(code: UV_ECANCELED.rawValue)
    /// `UV_EOF`: the end of the stream.
    public static let endOfFile = UVError(code: UV_EOF.rawValue)
    /// `UV_EPIPE`: the stream is not writable (never connected, shut down, or failed).
    public static let brokenPipe = UVError(code: UV_EPIPE.rawValue)
    /// `UV_ENOTCONN`: the stream is not connected (or not readable, or already shut down).
    public static let notConnected = UVError(code: UV_ENOTCONN.rawValue)
    /// `UV_EBADF`: no usable file descriptor.
    public static let badFileDescriptor = UVError(code: UV_EBADF.rawValue)
    /// `UV_ENOTSOCK`: the descriptor is not a socket.
    public static let notSocket = UVError(code: UV_ENOTSOCK.rawValue)
    /// `UV_ENOBUFS`: a buffer is too small for the result.
    public static let noBufferSpace = UVError(code: UV_ENOBUFS.rawValue)
    /// `UV_EALREADY`: a connect is already in progress.
    public static let alreadyInProgress = UVError(code: UV_EALREADY.rawValue)
    /// `UV_EISCONN`: the stream is already connected.
    public static let alreadyConnected = UVError(code: UV_EISCONN.rawValue)
    /// `UV_ENOMEM`: out of memory.
    public static let outOfMemory = UVError(code: UV_ENOMEM.rawValue)

    /// The symbolic name without prefix ("ECONNREFUSED"); "UNKNOWN" for a code the
    /// library does not know.
    public var name: String { String(cString: Self.namePointer(code)) }

    /// A human-readable message ("connection refused"); "unknown error" for a code the
    /// library does not know.
    public var message: String { String(cString: Self.messagePointer(code)) }

    /// "NAME: message", as in "ECONNREFUSED: connection refused".
    public var description: String { "\(name): \(message)" }

    /// The name as a C string in static storage; never leaks (libuv's own
    /// `uv_err_name` allocates for unknown codes, so those never reach it).
    public static func namePointer(_ code: Int32) -> UnsafePointer<CChar> {
        switch code {
        case closed.code: return staticCString("ECLOSED")
        case wrongThread.code: return staticCString("EWRONGTHREAD")
        case _ where isLibUVCode(code): return uv_err_name(code)
        default: return staticCString("UNKNOWN")
        }
    }

    /// The message as a C string in static storage; never leaks.
    public static func messagePointer(_ code: Int32) -> UnsafePointer<CChar> {
        switch code {
        case closed.code: return staticCString("operation on a closing or closed handle")
        case wrongThread.code: return staticCString("call from a thread that does not own the running loop")
        case _ where isLibUVCode(code): return uv_strerror(code)
        default: return staticCString("unknown error")
        }
    }

    /// Whether libuv 1.44 defines `code` (and so returns a static string for it).
    static func isLibUVCode(_ code: Int32) -> Bool {
        libUVCodes.contains(code)
    }

    /// Every code of libuv 1.44's `UV_ERRNO_MAP`.
    private static let libUVCodes: Set<Int32> = [
        UV_E2BIG, UV_EACCES, UV_EADDRINUSE, UV_EADDRNOTAVAIL, UV_EAFNOSUPPORT, UV_EAGAIN,
        UV_EAI_ADDRFAMILY, UV_EAI_AGAIN, UV_EAI_BADFLAGS, UV_EAI_BADHINTS, UV_EAI_CANCELED,
        UV_EAI_FAIL, UV_EAI_FAMILY, UV_EAI_MEMORY, UV_EAI_NODATA, UV_EAI_NONAME,
        UV_EAI_OVERFLOW, UV_EAI_PROTOCOL, UV_EAI_SERVICE, UV_EAI_SOCKTYPE, UV_EALREADY,
        UV_EBADF, UV_EBUSY, UV_ECANCELED, UV_ECHARSET, UV_ECONNABORTED, UV_ECONNREFUSED,
        UV_ECONNRESET, UV_EDESTADDRREQ, UV_EEXIST, UV_EFAULT, UV_EFBIG, UV_EHOSTUNREACH,
        UV_EINTR, UV_EINVAL, UV_EIO, UV_EISCONN, UV_EISDIR, UV_ELOOP, UV_EMFILE, UV_EMSGSIZE,
        UV_ENAMETOOLONG, UV_ENETDOWN, UV_ENETUNREACH, UV_ENFILE, UV_ENOBUFS, UV_ENODEV,
        UV_ENOENT, UV_ENOMEM, UV_ENONET, UV_ENOPROTOOPT, UV_ENOSPC, UV_ENOSYS, UV_ENOTCONN,
        UV_ENOTDIR, UV_ENOTEMPTY, UV_ENOTSOCK, UV_ENOTSUP, UV_EOVERFLOW, UV_EPERM, UV_EPIPE,
        UV_EPROTO, UV_EPROTONOSUPPORT, UV_EPROTOTYPE, UV_ERANGE, UV_EROFS, UV_ESHUTDOWN,
        UV_ESPIPE, UV_ESRCH, UV_ETIMEDOUT, UV_ETXTBSY, UV_EXDEV, UV_UNKNOWN, UV_EOF, UV_ENXIO,
        UV_EMLINK, UV_EHOSTDOWN, UV_EREMOTEIO, UV_ENOTTY, UV_EFTYPE, UV_EILSEQ,
        UV_ESOCKTNOSUPPORT,
    ].reduce(into: Set<Int32>()) { $0.insert($1.rawValue) }
}

/// Throws the `UVError` for a negative libuv result; passes a non-negative one through.
@inline(__always)
@discardableResult
func check(_ result: Int32) throws(UVError) -> Int32 {
    if result < 0 { throw UVError(code: result) }
    return result
}

/// A C string in static storage for a string literal.
func staticCString(_ string: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(string.utf8Start).assumingMemoryBound(to: CChar.self)
}
