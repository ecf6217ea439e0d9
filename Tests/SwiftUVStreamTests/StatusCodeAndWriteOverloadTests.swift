import CLibUV
import Glibc
import SwiftUVStream
import Testing

@Suite("Status codes")
struct StatusCodeTests {
    @Test("the named codes are libuv's values, named as libuv names them")
    func namedCodes() {
        #expect(StatusCode.success.rawValue == 0)
        #expect(StatusCode.success.name == "success")
        #expect(StatusCode.success.isSuccess)
        #expect(StatusCode.success.error == nil)
        #expect(StatusCode.EOF.rawValue == UV_EOF.rawValue)
        #expect(StatusCode.EAGAIN.rawValue == UV_EAGAIN.rawValue)
        #expect(StatusCode.ECANCELED.rawValue == UV_ECANCELED.rawValue)
        #expect(StatusCode.ECONNRESET.rawValue == UV_ECONNRESET.rawValue)
        #expect(StatusCode.ESOCKTNOSUPPORT.rawValue == UV_ESOCKTNOSUPPORT.rawValue)
        #expect(StatusCode.ECLOSED.rawValue == UVError.closed.code)
        #expect(StatusCode.EWRONGTHREAD.rawValue == UVError.wrongThread.code)
        #expect(StatusCode.ECLOSED.name == "ECLOSED")
        #expect(StatusCode.ECONNREFUSED.message == "connection refused")
        #expect("\(StatusCode.EPIPE)" == "EPIPE")
    }

    @Test("every libuv code is there once, named as libuv names it")
    func everyCode() {
        let codes = StatusCode.allLibUVCodes
        #expect(codes.count == 82, "libuv 1.44 defines 82 codes")
        #expect(Set(codes).count == codes.count)
        for code in codes {
            #expect(code.rawValue < 0)
            #expect(code.name == UVError(code: code.rawValue).name)
            #expect(code.error == UVError(code: code.rawValue))
        }
        #expect(codes.contains(.UNKNOWN))
        #expect(StatusCode(-9999).name == "UNKNOWN")
    }

    @Test("raw statuses match named codes in a switch and compare with ==")
    func matching() {
        func describe(_ status: Int32) -> String {
            switch status {
            case StatusCode.success: return "data"
            case StatusCode.EOF: return "end"
            case StatusCode.ECONNRESET: return "reset"
            default: return "other \(StatusCode(status))"
            }
        }
        #expect(describe(0) == "data")
        #expect(describe(UV_EOF.rawValue) == "end")
        #expect(describe(UV_ECONNRESET.rawValue) == "reset")
        #expect(describe(UV_EPIPE.rawValue) == "other EPIPE")
        let status: Int32 = UV_EOF.rawValue
        #expect(status == .EOF)
        #expect(StatusCode.EOF == status)
        #expect(status != .success)
    }

    @Test("UVError and StatusCode convert both ways; check() throws the error")
    func conversions() {
        #expect(UVError.brokenPipe.status == .EPIPE)
        #expect(UVError(StatusCode.ENOTCONN) == .notConnected)
        #expect(throws: UVError.canceled) { try StatusCode.ECANCELED.check() }
        #expect(throws: Never.self) { try StatusCode.success.check() }
    }
}

@Suite("Write overloads")
struct WriteOverloadTests {
    @Test("arrays, slices, UTF-8 views, non-contiguous collections and raw buffer lists all arrive in order")
    func collections() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        let received = try collect(peer, t, "peer")
        var statuses: [StatusCode] = []
        let record = RequestCompletion.status { statuses.append($0) }
        try client.write([UInt8]("array,"), completion: record)
        let big = [UInt8]("..slice,..")
        try client.write(big[2..<8], completion: record)
        try client.write("utf8,".utf8, completion: record)
        try client.write(repeatElement(UInt8(ascii: "r"), count: 3), completion: record)
        try client.write([UInt8](",lazy").lazy.map { $0 }, completion: record)
        try client.write([UInt8](), completion: record)
        let first = [UInt8](",one"), second = [UInt8](",two")
        try first.withUnsafeBytes { a in
            try second.withUnsafeBytes { b in
                try client.write([a, b], completion: record)
            }
        }
        #expect(statuses.isEmpty, "no completion runs inside the call that made the request")
        try client.shutdown(completion: .none)
        try t.run(until: { received.end != nil })
        #expect(text(received.bytes) == "array,slice,utf8,rrr,lazy,one,two")
        #expect(statuses == Array(repeating: StatusCode.success, count: 7))
    }

    @Test("collection writes follow the stream's rules: not connected is EPIPE, closed is ECLOSED, no callback")
    func errors() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let stream = try TCP(loop: t.loop)
        var called = false
        #expect(outcome { try stream.write([1, 2, 3], completion: .closure { _ in called = true }) } == "EPIPE")
        #expect(outcome { try stream.write(repeatElement(UInt8(1), count: 2), completion: .none) } == "EPIPE")
        try stream.close()
        #expect(outcome { try stream.write([1], completion: .none) } == "ECLOSED")
        #expect(outcome { _ = try stream.tryWrite([UInt8]("x")) } == "ECLOSED")
        try t.run()
        #expect(!called)
    }

    @Test("a collection write can carry a handle over an IPC pipe; it arrives with its byte and is accepted")
    func sendHandle() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (a, b) = try socketPairPipes(t, ipc: true)
        let (client, peer) = try connectedPair(t)
        var kinds: [HandleKind?] = []
        var received: TCP?
        try b.readStart { pipe, status, bytes in
            guard status == 0, let pipe = pipe as? Pipe else { return }
            kinds.append(pipe.pendingKind)
            if pipe.pendingCount > 0, let tcp = try? TCP(loop: pipe.loop) {
                try? pipe.accept(into: tcp)
                received = tcp
            }
        }
        var status: StatusCode?
        try a.write([UInt8]("h"), sendHandle: peer, completion: .status { status = $0 })
        #expect(outcome { try a.write([UInt8](), sendHandle: peer, completion: .none) } == "EINVAL")
        try t.run(until: { received != nil && status != nil })
        #expect(status == .success)
        #expect(kinds == [.tcp])
        let arrived = try #require(received)
        let echoed = try collect(client, t, "client")
        try arrived.write("via ipc".utf8, completion: .none)
        try arrived.shutdown(completion: .none)
        try t.run(until: { echoed.end != nil })
        #expect(text(echoed.bytes) == "via ipc")
    }

    @Test("tryWrite takes collections and raw buffers; EAGAIN with writes queued")
    func tryWrites() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        let received = try collect(peer, t, "peer")
        #expect(try client.tryWrite([UInt8]("try,")) == 4)
        #expect(try client.tryWrite(repeatElement(UInt8(ascii: "n"), count: 2)) == 2)
        let raw = [UInt8](",raw")
        #expect(try raw.withUnsafeBytes { try client.tryWrite($0) } == 4)
        try client.setSendBufferSize(4096)
        try client.write([UInt8](repeating: 0, count: 1 << 20), completion: .none)
        #expect(client.writeQueueSize > 0)
        #expect(outcome { _ = try client.tryWrite([UInt8]("late")) } == "EAGAIN")
        try client.shutdown(completion: .none)
        try t.run(until: { received.end != nil })
        #expect(text(Array(received.bytes.prefix(10))) == "try,nn,raw")
        #expect(received.bytes.count == 10 + (1 << 20))
    }
}
