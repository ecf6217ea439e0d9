import CLibUV

/// A status as callbacks report it: 0 for success, or a negative libuv code
/// (`UV_EOF`, `UV_ECANCELED`, ...) or one of the library's own (``ECLOSED``,
/// ``EWRONGTHREAD``).
///
/// Callbacks of the core API hand over the raw `Int32`; `StatusCode` names it. Wrap a
/// status with ``init(_:)`` and compare, or match an `Int32` directly against the
/// named codes in a `switch`:
///
/// ```swift
/// try stream.readStart { stream, status, bytes in
///     switch status {
///     case StatusCode.success: consume(Array(bytes))
///     case StatusCode.EOF: try? stream.shutdown(completion: .none)
///     default: print("read failed:", StatusCode(status))
///     }
/// }
/// ```
///
/// The static members carry libuv's own names (as in the C header, less the
/// `UVS_` prefix, and as in the Python face's `StatusCodes`). Every code of libuv
/// 1.44 is here; codes the library does not know keep their value and are named
/// "UNKNOWN".
///
/// Threading: a value, `Sendable`: any thread.
public struct StatusCode: RawRepresentable, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The raw status: 0 or a negative code.
    public let rawValue: Int32

    /// Wraps a raw status.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// Wraps a raw status, as a callback received it.
    public init(_ status: Int32) {
        self.rawValue = status
    }

    /// Success (0).
    public static let success = StatusCode(rawValue: 0)

    /// The library's own code: the operation was attempted on a closing or closed
    /// handle or loop (``UVError/closed``).
    public static let ECLOSED = StatusCode(rawValue: UVError.closed.code)
    /// The library's own code: the call came from a thread that does not own the
    /// running loop (``UVError/wrongThread``).
    public static let EWRONGTHREAD = StatusCode(rawValue: UVError.wrongThread.code)

    /// `UV_E2BIG`: argument list too long.
    public static let E2BIG = StatusCode(rawValue: UV_E2BIG.rawValue)
    /// `UV_EACCES`: permission denied.
    public static let EACCES = StatusCode(rawValue: UV_EACCES.rawValue)
    /// `UV_EADDRINUSE`: address already in use.
    public static let EADDRINUSE = StatusCode(rawValue: UV_EADDRINUSE.rawValue)
    /// `UV_EADDRNOTAVAIL`: address not available.
    public static let EADDRNOTAVAIL = StatusCode(rawValue: UV_EADDRNOTAVAIL.rawValue)
    /// `UV_EAFNOSUPPORT`: address family not supported.
    public static let EAFNOSUPPORT = StatusCode(rawValue: UV_EAFNOSUPPORT.rawValue)
    /// `UV_EAGAIN`: resource temporarily unavailable.
    public static let EAGAIN = StatusCode(rawValue: UV_EAGAIN.rawValue)
    /// `UV_EAI_ADDRFAMILY`: address family not supported.
    public static let EAI_ADDRFAMILY = StatusCode(rawValue: UV_EAI_ADDRFAMILY.rawValue)
    /// `UV_EAI_AGAIN`: temporary failure.
    public static let EAI_AGAIN = StatusCode(rawValue: UV_EAI_AGAIN.rawValue)
    /// `UV_EAI_BADFLAGS`: bad ai_flags value.
    public static let EAI_BADFLAGS = StatusCode(rawValue: UV_EAI_BADFLAGS.rawValue)
    /// `UV_EAI_BADHINTS`: invalid value for hints.
    public static let EAI_BADHINTS = StatusCode(rawValue: UV_EAI_BADHINTS.rawValue)
    /// `UV_EAI_CANCELED`: request canceled.
    public static let EAI_CANCELED = StatusCode(rawValue: UV_EAI_CANCELED.rawValue)
    /// `UV_EAI_FAIL`: permanent failure.
    public static let EAI_FAIL = StatusCode(rawValue: UV_EAI_FAIL.rawValue)
    /// `UV_EAI_FAMILY`: ai_family not supported.
    public static let EAI_FAMILY = StatusCode(rawValue: UV_EAI_FAMILY.rawValue)
    /// `UV_EAI_MEMORY`: out of memory.
    public static let EAI_MEMORY = StatusCode(rawValue: UV_EAI_MEMORY.rawValue)
    /// `UV_EAI_NODATA`: no address.
    public static let EAI_NODATA = StatusCode(rawValue: UV_EAI_NODATA.rawValue)
    /// `UV_EAI_NONAME`: unknown node or service.
    public static let EAI_NONAME = StatusCode(rawValue: UV_EAI_NONAME.rawValue)
    /// `UV_EAI_OVERFLOW`: argument buffer overflow.
    public static let EAI_OVERFLOW = StatusCode(rawValue: UV_EAI_OVERFLOW.rawValue)
    /// `UV_EAI_PROTOCOL`: resolved protocol is unknown.
    public static let EAI_PROTOCOL = StatusCode(rawValue: UV_EAI_PROTOCOL.rawValue)
    /// `UV_EAI_SERVICE`: service not available for socket type.
    public static let EAI_SERVICE = StatusCode(rawValue: UV_EAI_SERVICE.rawValue)
    /// `UV_EAI_SOCKTYPE`: socket type not supported.
    public static let EAI_SOCKTYPE = StatusCode(rawValue: UV_EAI_SOCKTYPE.rawValue)
    /// `UV_EALREADY`: connection already in progress.
    public static let EALREADY = StatusCode(rawValue: UV_EALREADY.rawValue)
    /// `UV_EBADF`: bad file descriptor.
    public static let EBADF = StatusCode(rawValue: UV_EBADF.rawValue)
    /// `UV_EBUSY`: resource busy or locked.
    public static let EBUSY = StatusCode(rawValue: UV_EBUSY.rawValue)
    /// `UV_ECANCELED`: operation canceled.
    public static let ECANCELED = StatusCode(rawValue: UV_ECANCELED.rawValue)
    /// `UV_ECHARSET`: invalid Unicode character.
    public static let ECHARSET = StatusCode(rawValue: UV_ECHARSET.rawValue)
    /// `UV_ECONNABORTED`: software caused connection abort.
    public static let ECONNABORTED = StatusCode(rawValue: UV_ECONNABORTED.rawValue)
    /// `UV_ECONNREFUSED`: connection refused.
    public static let ECONNREFUSED = StatusCode(rawValue: UV_ECONNREFUSED.rawValue)
    /// `UV_ECONNRESET`: connection reset by peer.
    public static let ECONNRESET = StatusCode(rawValue: UV_ECONNRESET.rawValue)
    /// `UV_EDESTADDRREQ`: destination address required.
    public static let EDESTADDRREQ = StatusCode(rawValue: UV_EDESTADDRREQ.rawValue)
    /// `UV_EEXIST`: file already exists.
    public static let EEXIST = StatusCode(rawValue: UV_EEXIST.rawValue)
    /// `UV_EFAULT`: bad address in system call argument.
    public static let EFAULT = StatusCode(rawValue: UV_EFAULT.rawValue)
    /// `UV_EFBIG`: file too large.
    public static let EFBIG = StatusCode(rawValue: UV_EFBIG.rawValue)
    /// `UV_EHOSTUNREACH`: host is unreachable.
    public static let EHOSTUNREACH = StatusCode(rawValue: UV_EHOSTUNREACH.rawValue)
    /// `UV_EINTR`: interrupted system call.
    public static let EINTR = StatusCode(rawValue: UV_EINTR.rawValue)
    /// `UV_EINVAL`: invalid argument.
    public static let EINVAL = StatusCode(rawValue: UV_EINVAL.rawValue)
    /// `UV_EIO`: i/o error.
    public static let EIO = StatusCode(rawValue: UV_EIO.rawValue)
    /// `UV_EISCONN`: socket is already connected.
    public static let EISCONN = StatusCode(rawValue: UV_EISCONN.rawValue)
    /// `UV_EISDIR`: illegal operation on a directory.
    public static let EISDIR = StatusCode(rawValue: UV_EISDIR.rawValue)
    /// `UV_ELOOP`: too many symbolic links encountered.
    public static let ELOOP = StatusCode(rawValue: UV_ELOOP.rawValue)
    /// `UV_EMFILE`: too many open files.
    public static let EMFILE = StatusCode(rawValue: UV_EMFILE.rawValue)
    /// `UV_EMSGSIZE`: message too long.
    public static let EMSGSIZE = StatusCode(rawValue: UV_EMSGSIZE.rawValue)
    /// `UV_ENAMETOOLONG`: name too long.
    public static let ENAMETOOLONG = StatusCode(rawValue: UV_ENAMETOOLONG.rawValue)
    /// `UV_ENETDOWN`: network is down.
    public static let ENETDOWN = StatusCode(rawValue: UV_ENETDOWN.rawValue)
    /// `UV_ENETUNREACH`: network is unreachable.
    public static let ENETUNREACH = StatusCode(rawValue: UV_ENETUNREACH.rawValue)
    /// `UV_ENFILE`: file table overflow.
    public static let ENFILE = StatusCode(rawValue: UV_ENFILE.rawValue)
    /// `UV_ENOBUFS`: no buffer space available.
    public static let ENOBUFS = StatusCode(rawValue: UV_ENOBUFS.rawValue)
    /// `UV_ENODEV`: no such device.
    public static let ENODEV = StatusCode(rawValue: UV_ENODEV.rawValue)
    /// `UV_ENOENT`: no such file or directory.
    public static let ENOENT = StatusCode(rawValue: UV_ENOENT.rawValue)
    /// `UV_ENOMEM`: not enough memory.
    public static let ENOMEM = StatusCode(rawValue: UV_ENOMEM.rawValue)
    /// `UV_ENONET`: machine is not on the network.
    public static let ENONET = StatusCode(rawValue: UV_ENONET.rawValue)
    /// `UV_ENOPROTOOPT`: protocol not available.
    public static let ENOPROTOOPT = StatusCode(rawValue: UV_ENOPROTOOPT.rawValue)
    /// `UV_ENOSPC`: no space left on device.
    public static let ENOSPC = StatusCode(rawValue: UV_ENOSPC.rawValue)
    /// `UV_ENOSYS`: function not implemented.
    public static let ENOSYS = StatusCode(rawValue: UV_ENOSYS.rawValue)
    /// `UV_ENOTCONN`: socket is not connected.
    public static let ENOTCONN = StatusCode(rawValue: UV_ENOTCONN.rawValue)
    /// `UV_ENOTDIR`: not a directory.
    public static let ENOTDIR = StatusCode(rawValue: UV_ENOTDIR.rawValue)
    /// `UV_ENOTEMPTY`: directory not empty.
    public static let ENOTEMPTY = StatusCode(rawValue: UV_ENOTEMPTY.rawValue)
    /// `UV_ENOTSOCK`: socket operation on non-socket.
    public static let ENOTSOCK = StatusCode(rawValue: UV_ENOTSOCK.rawValue)
    /// `UV_ENOTSUP`: operation not supported on socket.
    public static let ENOTSUP = StatusCode(rawValue: UV_ENOTSUP.rawValue)
    /// `UV_EOVERFLOW`: value too large for defined data type.
    public static let EOVERFLOW = StatusCode(rawValue: UV_EOVERFLOW.rawValue)
    /// `UV_EPERM`: operation not permitted.
    public static let EPERM = StatusCode(rawValue: UV_EPERM.rawValue)
    /// `UV_EPIPE`: broken pipe.
    public static let EPIPE = StatusCode(rawValue: UV_EPIPE.rawValue)
    /// `UV_EPROTO`: protocol error.
    public static let EPROTO = StatusCode(rawValue: UV_EPROTO.rawValue)
    /// `UV_EPROTONOSUPPORT`: protocol not supported.
    public static let EPROTONOSUPPORT = StatusCode(rawValue: UV_EPROTONOSUPPORT.rawValue)
    /// `UV_EPROTOTYPE`: protocol wrong type for socket.
    public static let EPROTOTYPE = StatusCode(rawValue: UV_EPROTOTYPE.rawValue)
    /// `UV_ERANGE`: result too large.
    public static let ERANGE = StatusCode(rawValue: UV_ERANGE.rawValue)
    /// `UV_EROFS`: read-only file system.
    public static let EROFS = StatusCode(rawValue: UV_EROFS.rawValue)
    /// `UV_ESHUTDOWN`: cannot send after transport endpoint shutdown.
    public static let ESHUTDOWN = StatusCode(rawValue: UV_ESHUTDOWN.rawValue)
    /// `UV_ESPIPE`: invalid seek.
    public static let ESPIPE = StatusCode(rawValue: UV_ESPIPE.rawValue)
    /// `UV_ESRCH`: no such process.
    public static let ESRCH = StatusCode(rawValue: UV_ESRCH.rawValue)
    /// `UV_ETIMEDOUT`: connection timed out.
    public static let ETIMEDOUT = StatusCode(rawValue: UV_ETIMEDOUT.rawValue)
    /// `UV_ETXTBSY`: text file is busy.
    public static let ETXTBSY = StatusCode(rawValue: UV_ETXTBSY.rawValue)
    /// `UV_EXDEV`: cross-device link not permitted.
    public static let EXDEV = StatusCode(rawValue: UV_EXDEV.rawValue)
    /// `UV_UNKNOWN`: unknown error.
    public static let UNKNOWN = StatusCode(rawValue: UV_UNKNOWN.rawValue)
    /// `UV_EOF`: end of file.
    public static let EOF = StatusCode(rawValue: UV_EOF.rawValue)
    /// `UV_ENXIO`: no such device or address.
    public static let ENXIO = StatusCode(rawValue: UV_ENXIO.rawValue)
    /// `UV_EMLINK`: too many links.
    public static let EMLINK = StatusCode(rawValue: UV_EMLINK.rawValue)
    /// `UV_EHOSTDOWN`: host is down.
    public static let EHOSTDOWN = StatusCode(rawValue: UV_EHOSTDOWN.rawValue)
    /// `UV_EREMOTEIO`: remote I/O error.
    public static let EREMOTEIO = StatusCode(rawValue: UV_EREMOTEIO.rawValue)
    /// `UV_ENOTTY`: inappropriate ioctl for device.
    public static let ENOTTY = StatusCode(rawValue: UV_ENOTTY.rawValue)
    /// `UV_EFTYPE`: inappropriate file type or format.
    public static let EFTYPE = StatusCode(rawValue: UV_EFTYPE.rawValue)
    /// `UV_EILSEQ`: illegal byte sequence.
    public static let EILSEQ = StatusCode(rawValue: UV_EILSEQ.rawValue)
    /// `UV_ESOCKTNOSUPPORT`: socket type not supported.
    public static let ESOCKTNOSUPPORT = StatusCode(rawValue: UV_ESOCKTNOSUPPORT.rawValue)

    /// Every libuv 1.44 code, in the order of libuv's `UV_ERRNO_MAP`.
    public static let allLibUVCodes: [StatusCode] = [
        E2BIG, EACCES, EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EAI_ADDRFAMILY, EAI_AGAIN, EAI_BADFLAGS, EAI_BADHINTS, EAI_CANCELED, EAI_FAIL, EAI_FAMILY, EAI_MEMORY, EAI_NODATA, EAI_NONAME, EAI_OVERFLOW, EAI_PROTOCOL, EAI_SERVICE, EAI_SOCKTYPE, EALREADY, EBADF, EBUSY, ECANCELED, ECHARSET, ECONNABORTED, ECONNREFUSED, ECONNRESET, EDESTADDRREQ, EEXIST, EFAULT, EFBIG, EHOSTUNREACH, EINTR, EINVAL, EIO, EISCONN, EISDIR, ELOOP, EMFILE, EMSGSIZE, ENAMETOOLONG, ENETDOWN, ENETUNREACH, ENFILE, ENOBUFS, ENODEV, ENOENT, ENOMEM, ENONET, ENOPROTOOPT, ENOSPC, ENOSYS, ENOTCONN, ENOTDIR, ENOTEMPTY, ENOTSOCK, ENOTSUP, EOVERFLOW, EPERM, EPIPE, EPROTO, EPROTONOSUPPORT, EPROTOTYPE, ERANGE, EROFS, ESHUTDOWN, ESPIPE, ESRCH, ETIMEDOUT, ETXTBSY, EXDEV, UNKNOWN, EOF, ENXIO, EMLINK, EHOSTDOWN, EREMOTEIO, ENOTTY, EFTYPE, EILSEQ, ESOCKTNOSUPPORT,
    ]

    /// Whether this is success (0).
    public var isSuccess: Bool { rawValue == 0 }

    /// The error for a negative status; nil for success (or a positive value).
    public var error: UVError? { rawValue < 0 ? UVError(code: rawValue) : nil }

    /// Throws the status as a ``UVError`` unless it is success.
    public func check() throws(UVError) {
        if let error { throw error }
    }

    /// The symbolic name: "success" for 0, "EOF", "ECONNRESET", ... for libuv's codes,
    /// "ECLOSED" and "EWRONGTHREAD" for the library's own, "UNKNOWN" otherwise.
    public var name: String {
        rawValue == 0 ? "success" : UVError(code: rawValue).name
    }

    /// A human-readable message ("connection refused"); "success" for 0.
    public var message: String {
        rawValue == 0 ? "success" : UVError(code: rawValue).message
    }

    /// The name, as ``name``.
    public var description: String { name }

    /// Matches a raw `Int32` status against a named code, so a `switch` over a
    /// callback's status can use the named codes.
    public static func ~= (pattern: StatusCode, value: Int32) -> Bool {
        pattern.rawValue == value
    }

    /// Whether a raw status is this code.
    public static func == (lhs: StatusCode, rhs: Int32) -> Bool {
        lhs.rawValue == rhs
    }

    /// Whether a raw status is this code.
    public static func == (lhs: Int32, rhs: StatusCode) -> Bool {
        lhs == rhs.rawValue
    }

    /// Whether a raw status is not this code.
    public static func != (lhs: StatusCode, rhs: Int32) -> Bool {
        lhs.rawValue != rhs
    }

    /// Whether a raw status is not this code.
    public static func != (lhs: Int32, rhs: StatusCode) -> Bool {
        lhs != rhs.rawValue
    }
}

extension UVError {
    /// The error's code as a ``StatusCode``.
    public var status: StatusCode { StatusCode(rawValue: code) }

    /// The error for a status code (which should be negative).
    public init(_ status: StatusCode) {
        self.init(code: status.rawValue)
    }
}
