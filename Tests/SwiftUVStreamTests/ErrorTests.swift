import CLibUV
import SwiftUVStream
import Testing

@Suite("Errors")
struct ErrorTests {
    @Test("libuv codes carry libuv's name and message", arguments: [
        (UV_ECONNREFUSED, "ECONNREFUSED", "connection refused"),
        (UV_EOF, "EOF", "end of file"),
        (UV_ECANCELED, "ECANCELED", "operation canceled"),
        (UV_EAGAIN, "EAGAIN", "resource temporarily unavailable"),
        (UV_EPIPE, "EPIPE", "broken pipe"),
        (UV_EADDRINUSE, "EADDRINUSE", "address already in use"),
        (UV_UNKNOWN, "UNKNOWN", "unknown error"),
        (UV_ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", "socket type not supported"),
    ])
    func knownCodes(code: uv_errno_t, name: String, message: String) {
        let error = UVError(code: code.rawValue)
        #expect(error.code == code.rawValue)
        #expect(error.name == name)
        #expect(error.message == message)
        #expect(error.description == "\(name): \(message)")
        #expect(String(cString: UVError.namePointer(code.rawValue)) == name)
        #expect(String(cString: UVError.messagePointer(code.rawValue)) == message)
    }

    @Test("every code libuv names is passed through unchanged")
    func agreesWithLibUV() {
        // Every code from -1 to -4095 that libuv 1.44 knows: uv_err_name gives it a
        // static "E..." name; for the others libuv would allocate "Unknown system error".
        var known = 0
        for code in Int32(-4095)...Int32(-1) {
            let libuvName = String(cString: uv_err_name(code))
            guard !libuvName.hasPrefix("Unknown system error") else { continue }
            known += 1
            let error = UVError(code: code)
            #expect(error.name == libuvName, "code \(code)")
            #expect(error.message == String(cString: uv_strerror(code)), "code \(code)")
        }
        #expect(known >= 80)
    }

    @Test("the library's own codes")
    func ownCodes() {
        #expect(UVError.closed.code == -5001)
        #expect(UVError.closed.name == "ECLOSED")
        #expect(UVError.closed.message == "operation on a closing or closed handle")
        #expect(UVError.wrongThread.code == -5002)
        #expect(UVError.wrongThread.name == "EWRONGTHREAD")
        #expect(UVError.wrongThread.message == "call from a thread that does not own the running loop")
        #expect(UVError.closed.description == "ECLOSED: operation on a closing or closed handle")
        // Outside libuv's range, so never confused with one of its codes.
        #expect(String(cString: uv_err_name(-5001)).hasPrefix("Unknown system error"))
    }

    @Test("unknown codes are UNKNOWN / unknown error, from static storage",
          arguments: [Int32(0), 1, 42, -4096, -5000, -5003, -9999, Int32.min, Int32.max])
    func unknownCodes(code: Int32) {
        let error = UVError(code: code)
        #expect(error.name == "UNKNOWN")
        #expect(error.message == "unknown error")
        #expect(error.description == "UNKNOWN: unknown error")
        // Static storage: the same pointer every time (libuv's own uv_err_name would
        // allocate a new string for each call).
        #expect(UVError.namePointer(code) == UVError.namePointer(code))
        #expect(UVError.messagePointer(code) == UVError.messagePointer(code))
    }

    @Test("the named statics are libuv's codes")
    func statics() {
        let pairs: [(UVError, uv_errno_t)] = [
            (.invalidArgument, UV_EINVAL), (.tryAgain, UV_EAGAIN), (.busy, UV_EBUSY),
            (.canceled, UV_ECANCELED), (.endOfFile, UV_EOF), (.brokenPipe, UV_EPIPE),
            (.notConnected, UV_ENOTCONN), (.badFileDescriptor, UV_EBADF),
            (.notSocket, UV_ENOTSOCK), (.noBufferSpace, UV_ENOBUFS),
            (.alreadyInProgress, UV_EALREADY), (.alreadyConnected, UV_EISCONN),
            (.outOfMemory, UV_ENOMEM),
        ]
        for (error, code) in pairs {
            #expect(error.code == code.rawValue, "\(error)")
            #expect(error == UVError(code: code.rawValue))
        }
        let all = Set(pairs.map(\.0) + [.closed, .wrongThread])
        #expect(all.count == pairs.count + 2, "distinct codes")
        #expect(UVError.closed != UVError.wrongThread)
    }

    @Test("errors are thrown typed: the catch sees UVError without a cast")
    func typedThrows() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let tcp = try TCP(loop: t.loop)
        do {
            try tcp.readStart { _, _, _ in }
            Issue.record("readStart on an unconnected stream succeeded")
        } catch {
            // `error` is statically a UVError here.
            #expect(error == .notConnected)
            #expect(error.name == "ENOTCONN")
        }
    }
}
