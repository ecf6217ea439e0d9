import CLibUV
import Glibc
import SwiftUVStream
import Testing

@Suite("TCP streams")
struct TCPStreamTests {
    @Test("connect, accept, and an echo with half-close on both sides")
    func echoWithHalfClose() throws {
        let t = try TestLoop()
        defer { t.finish() }
        var serverLog: [String] = []
        var clientLog: [String] = []
        var serverReceived = Received()
        let (_, port) = try makeServer(t) { server, status in
            serverLog.append("connection \(statusName(status))")
            do {
                let peer = try TCP(loop: server.loop)
                try server.accept(into: peer)
                try server.close()
                #expect(peer.isReadable && peer.isWritable)
                let received = Received()
                serverReceived = received
                try peer.readStart { peer, status, bytes in
                    if status == 0 {
                        received.bytes.append(contentsOf: bytes)
                        return
                    }
                    serverLog.append("read \(statusName(status))")
                    // Half-closed by the client: no more input, output still open.
                    serverLog.append("readable=\(peer.isReadable) writable=\(peer.isWritable) reading=\(peer.isReading)")
                    serverLog.append("read again " + outcome { try peer.readStart { _, _, _ in } })
                    do {
                        try peer.send(received.bytes.reversed(), .closure { serverLog.append("write \(statusName($0))") })
                        try peer.shutdown(completion: .closure { status in
                            serverLog.append("shutdown \(statusName(status))")
                            try? peer.close()
                        })
                    } catch {
                        Issue.record("server reply failed: \(error)")
                    }
                }
            } catch {
                Issue.record("server failed: \(error)")
            }
        }
        let client = try TCP(loop: t.loop)
        #expect(!client.isReadable && !client.isWritable, "not connected yet")
        var clientReceived = Received()
        try client.connect(to: "127.0.0.1", port: port, completion: .closure { status in
            clientLog.append("connect \(statusName(status))")
            do {
                clientReceived = try collect(client, t, "client") { _ in
                    clientLog.append("end")
                    try? client.close { _ in clientLog.append("close") }
                }
                try client.send("hello, world", .closure { clientLog.append("write \(statusName($0))") })
                try client.shutdown(completion: .closure { status in
                    clientLog.append("shutdown \(statusName(status)) writable=\(client.isWritable)")
                })
                clientLog.append("shut down: writable=\(client.isWritable) readable=\(client.isReadable)")
            } catch {
                Issue.record("client failed: \(error)")
            }
        })
        #expect(client.isReadable && client.isWritable, "connecting counts as connected")
        #expect(clientLog.isEmpty && serverLog.isEmpty)
        try t.run()
        #expect(clientLog == [
            "connect 0", "shut down: writable=false readable=true", "write 0",
            "shutdown 0 writable=false", "end", "close",
        ])
        #expect(t.events == ["client EOF"])
        #expect(text(clientReceived.bytes) == "dlrow ,olleh")
        #expect(serverLog == [
            "connection 0", "read EOF", "readable=false writable=true reading=false",
            "read again ENOTCONN", "write 0", "shutdown 0",
        ])
        #expect(text(serverReceived.bytes) == "hello, world")
    }

    @Test("addresses: sockname and peername agree on both ends")
    func addresses() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        let clientLocal = try client.socketName()
        let clientRemote = try client.peerName()
        let peerLocal = try peer.socketName()
        let peerRemote = try peer.peerName()
        #expect(clientLocal == peerRemote)
        #expect(clientRemote == peerLocal)
        #expect(clientLocal.host == "127.0.0.1" && clientLocal.family == AF_INET)
        #expect(clientRemote.port != clientLocal.port)
        let unconnected = try TCP(loop: t.loop, family: AF_INET)
        #expect(throws: UVError.notConnected) { _ = try unconnected.peerName() }
        let lazy = try TCP(loop: t.loop)
        #expect(throws: UVError.badFileDescriptor) { _ = try lazy.socketName() }
    }

    @Test("IPv6 loopback, when available")
    func ipv6() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let server = try TCP(loop: t.loop)
        do {
            try server.bind(host: "::1", port: 0)
            try server.listen(backlog: 4) { _, _ in }
        } catch {
            // No IPv6 on this machine: nothing to test.
            return
        }
        let port = try server.socketName().port
        let client = try TCP(loop: t.loop)
        try client.connect(to: "::1", port: port, completion: t.logged("connect"))
        try t.run(until: { !t.events.isEmpty })
        #expect(t.events == ["connect 0"])
        #expect(try client.peerName() == SocketAddress(host: "::1", port: port, family: AF_INET6))
    }

    @Test("a listener that does not accept in its callback keeps the connection for later")
    func acceptLater() throws {
        let t = try TestLoop()
        defer { t.finish() }
        var connections = 0
        let (server, port) = try makeServer(t) { _, status in
            connections += 1
            t.log("connection \(statusName(status))")
        }
        let spare = try TCP(loop: t.loop)
        #expect(throws: UVError.tryAgain, "nothing waiting yet") { try server.accept(into: spare) }
        let client = try TCP(loop: t.loop)
        var connected = false
        try client.connect(to: "127.0.0.1", port: port, completion: .closure { status in
            #expect(status == 0)
            connected = true
        })
        try t.run(until: { connections == 1 && connected })
        #expect(t.events == ["connection 0"])
        // Accept now, outside the callback, and prove it is the client's connection.
        try server.accept(into: spare)
        #expect(try spare.peerName() == client.socketName())
        #expect(throws: UVError.tryAgain) { try server.accept(into: TCP(loop: t.loop)) }
        let received = try collect(spare, t, "peer")
        try client.send("late", t.logged("write"))
        try t.run(until: { received.bytes.count == 4 })
        #expect(text(received.bytes) == "late")
        #expect(t.events == ["connection 0", "write 0"])
    }

    @Test("accept rejects invalid clients without losing the connection")
    func acceptInvalid() throws {
        let t = try TestLoop()
        defer { t.finish() }
        var waiting = false
        let (server, port) = try makeServer(t) { _, _ in waiting = true }
        let client = try TCP(loop: t.loop)
        try client.connect(to: "127.0.0.1", port: port, completion: .none)
        try t.run(until: { waiting && !client.isActive })
        #expect(throws: UVError.invalidArgument, "into itself") { try server.accept(into: server) }
        #expect(throws: UVError.invalidArgument, "into a connected stream") { try server.accept(into: client) }
        let bound = try TCP(loop: t.loop)
        try bound.bind(host: "127.0.0.1", port: 0)
        #expect(throws: UVError.invalidArgument, "into a stream with a socket") { try server.accept(into: bound) }
        let other = try TCP(loop: t.loop)
        #expect(throws: UVError.invalidArgument, "from a stream that is not listening") {
            try client.accept(into: other)
        }
        let otherLoop = try TestLoop()
        defer { otherLoop.finish() }
        let foreign = try TCP(loop: otherLoop.loop)
        #expect(throws: UVError.invalidArgument, "into a stream of another loop") { try server.accept(into: foreign) }
        let closing = try TCP(loop: t.loop)
        try closing.close()
        #expect(throws: UVError.closed, "into a closed stream") { try server.accept(into: closing) }
        // The connection is still there.
        try server.accept(into: other)
        #expect(try other.peerName() == client.socketName())
    }

    @Test("connect errors: refused in the callback; bad address, twice, connected at the call")
    func connectErrors() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (holder, refusing) = try refusingPort(t)
        let client = try TCP(loop: t.loop)
        #expect(throws: UVError.invalidArgument) { try client.connect(to: "localhost", port: 80, completion: .none) }
        #expect(throws: UVError.invalidArgument) { try client.connect(to: "127.0.0.1", port: 65536, completion: .none) }
        #expect(throws: UVError.invalidArgument) { try client.connect(to: "127.0.0.1", port: -1, completion: .none) }
        try client.connect(to: "127.0.0.1", port: refusing, completion: t.logged("connect"))
        #expect(throws: UVError.alreadyInProgress) {
            try client.connect(to: "127.0.0.1", port: refusing, completion: t.logged("second"))
        }
        #expect(t.events.isEmpty)
        try t.run()
        #expect(t.events == ["connect ECONNREFUSED"])
        #expect(!client.isReadable && !client.isWritable)
        #expect(throws: UVError.brokenPipe) { try client.send("x", .none) }
        #expect(throws: UVError.notConnected) { try client.readStart { _, _, _ in } }
        try holder.close()

        let (pairClient, _) = try connectedPair(t)
        #expect(throws: UVError.alreadyConnected) {
            try pairClient.connect(to: "127.0.0.1", port: refusing, completion: .none)
        }
    }

    @Test("bind to a busy port: libuv defers EADDRINUSE to listen")
    func bindBusyPort() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (_, port) = try makeServer(t) { _, _ in }
        let second = try TCP(loop: t.loop)
        try second.bind(host: "127.0.0.1", port: port)
        #expect(throws: UVError(code: UV_EADDRINUSE.rawValue)) { try second.listen(backlog: 1) { _, _ in } }
        #expect(throws: UVError.invalidArgument) { try second.bind(host: "not-an-ip", port: 0) }
        #expect(throws: UVError.invalidArgument) { try second.listen(backlog: -1) { _, _ in } }
    }

    @Test("EOF is reported once and reading stops; the stream stays writable")
    func endOfFile() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        let received = try collect(client, t, "client")
        try peer.send("bye", t.logged("peer write"))
        try peer.shutdown(completion: t.logged("peer shutdown"))
        try t.run(until: { received.end != nil })
        #expect(text(received.bytes) == "bye")
        #expect(!client.isReading && !client.isReadable && client.isWritable)
        #expect(throws: UVError.notConnected) { try client.readStart { _, _, _ in t.log("second EOF") } }
        try client.readStop()
        // Writing back after EOF still works.
        let back = try collect(peer, t, "peer")
        try client.send("ok", t.logged("client write"))
        try client.shutdown(completion: t.logged("client shutdown"))
        try t.run(until: { back.end != nil })
        #expect(text(back.bytes) == "ok")
        #expect(t.events == [
            "peer write 0", "peer shutdown 0", "client EOF",
            "client write 0", "client shutdown 0", "peer EOF",
        ])
    }

    @Test("a reset is reported once as a read error; the stream is then neither readable nor writable")
    func readError() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        try collect(client, t, "client")
        try setResetOnClose(peer)
        try peer.close { _ in t.log("peer closed") }
        try t.run(until: { t.events.count == 2 })
        // The reset leaves inside close(): the client may see it before the close
        // callback runs, so only the set of events is fixed.
        #expect(t.events.sorted() == ["client ECONNRESET", "peer closed"])
        #expect(!client.isReadable && !client.isWritable && !client.isReading)
        #expect(!client.isClosing, "a read error closes nothing")
        #expect(throws: UVError.brokenPipe) { try client.send("x", t.logged("write")) }
        #expect(throws: UVError.notConnected) { try client.readStart { _, _, _ in t.log("again") } }
        #expect(throws: UVError.notConnected) { try client.shutdown(completion: t.logged("shutdown")) }
        try client.readStop()
        try t.loop.run(.noWait)
        try t.loop.run(.noWait)
        #expect(t.events.sorted() == ["client ECONNRESET", "peer closed"], "reported once")
    }

    @Test("readStop inside the read callback takes effect at once; readStart resumes without loss")
    func readStopInCallback() throws {
        // A 4-byte read buffer: a 12-byte message takes three reads, and libuv would
        // make them all in one go if reading were not stopped at once.
        let t = try TestLoop(bufferSize: 4)
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        var reads = 0
        var resume: ReadCallback?
        let reader: ReadCallback = { stream, status, bytes in
            reads += 1
            t.log(status == 0 ? "read \(text(Array(bytes)))" : "read \(statusName(status))")
            if reads == 1 {
                try? stream.readStop()
                t.log("stopped reading=\(stream.isReading)")
                // Several loop iterations (each polling the socket) before resuming.
                var ticks = 0
                try? timer.start(timeout: 0, repeat: 1) { timer in
                    ticks += 1
                    t.log("tick \(ticks)")
                    if ticks == 3 {
                        try? timer.stop()
                        t.log("restart " + outcome { try stream.readStart(resume!) })
                    }
                }
            }
            if status != 0 { try? timer.close() }
        }
        resume = reader
        try peer.send("abcdefghijkl", .none)
        try peer.shutdown(completion: .none)
        try client.readStart(reader)
        try t.run()
        #expect(t.events == [
            "read abcd", "stopped reading=false", "tick 1", "tick 2", "tick 3", "restart ok",
            "read efgh", "read ijkl", "read EOF",
        ])
    }

    @Test("readStart and readStop may be repeated in any order; a second readStart replaces the callback")
    func readStartStopRepeated() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        try client.readStop()
        try client.readStop()
        try client.readStart { _, _, _ in t.log("first") }
        try client.readStart { _, _, _ in t.log("second") }
        #expect(client.isReading)
        try client.readStop()
        try client.readStop()
        #expect(!client.isReading)
        try client.readStart { _, _, _ in t.log("third") }
        try client.readStop()
        var got: [UInt8] = []
        try client.readStart { stream, status, bytes in
            got.append(contentsOf: bytes)
            // Replacing the callback from inside the callback is allowed too.
            try? stream.readStart { _, status, bytes in
                got.append(contentsOf: bytes)
                if status == UV_EOF.rawValue { t.log("fourth EOF") }
            }
            if status == UV_EOF.rawValue { t.log("fourth EOF") }
        }
        try peer.send("data", .none)
        try peer.shutdown(completion: .none)
        try t.run(until: { t.events.contains("fourth EOF") })
        #expect(t.events == ["fourth EOF"])
        #expect(text(got) == "data")
    }

    @Test("reading a stream that is not connected or is listening is ENOTCONN")
    func readNotConnected() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let fresh = try TCP(loop: t.loop)
        #expect(throws: UVError.notConnected) { try fresh.readStart { _, _, _ in } }
        let (server, _) = try makeServer(t) { _, _ in }
        #expect(throws: UVError.notConnected) { try server.readStart { _, _, _ in } }
        #expect(throws: UVError.brokenPipe) { try server.send("x", .none) }
        #expect(throws: UVError.brokenPipe) { try fresh.send("x", .none) }
        #expect(throws: UVError.notConnected) { try fresh.shutdown(completion: .none) }
        #expect(!server.isReadable && !server.isWritable && server.isActive)
    }

    @Test("socket options on a connected stream")
    func socketOptions() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let lazy = try TCP(loop: t.loop)
        try lazy.setNoDelay(true)  // remembered until the socket exists
        let (client, _) = try connectedPair(t)
        try client.setNoDelay(true)
        try client.setKeepAlive(true, delay: 30)
        try client.setKeepAlive(false, delay: 0)
        try client.setSimultaneousAccepts(true)
        try client.setSendBufferSize(65536)
        #expect(try client.sendBufferSize() == 65536)
        try client.setReceiveBufferSize(32768)
        #expect(try client.receiveBufferSize() == 32768)
        #expect(throws: UVError.invalidArgument) { try client.setSendBufferSize(0) }
        #expect(throws: UVError.invalidArgument) { try client.setReceiveBufferSize(-1) }
        #expect(try client.fileDescriptor() >= 0)
        #expect(client.kind == .tcp)
    }

    @Test("open adopts a connected socket; non-sockets and busy handles are refused")
    func openDescriptor() throws {
        let t = try TestLoop()
        defer { t.finish() }
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[1]) }
        let tcp = try TCP(loop: t.loop)
        #expect(throws: UVError.invalidArgument, "a unix socket is not TCP") { try tcp.open(fds[0]) }
        close(fds[0])
        #expect(throws: UVError.invalidArgument) { try tcp.open(-1) }
        let device = open("/dev/null", O_RDONLY)
        #expect(device >= 0)
        #expect(throws: UVError.notSocket, "a character device") { try tcp.open(device) }
        close(device)
        var template = Array("/tmp/swiftuvstream-test-XXXXXX".utf8CString)
        let file = mkstemp(&template)
        #expect(file >= 0)
        unlink(template)
        #expect(throws: UVError.notSocket, "a regular file") { try tcp.open(file) }
        close(file)
        #expect(!tcp.isReadable, "a refused open leaves the stream unused")

        // Adopt a real TCP socket: a duplicate of a connected client's descriptor.
        let (client, peer) = try connectedPair(t)
        let adopted = try TCP(loop: t.loop)
        try adopted.open(dup(try client.fileDescriptor()))
        #expect(adopted.isReadable && adopted.isWritable)
        let second = dup(try client.fileDescriptor())
        #expect(throws: UVError.busy) { try adopted.open(second) }
        close(second)
        let received = try collect(peer, t, "peer")
        try adopted.send("via dup", t.logged("write"))
        try t.run(until: { received.bytes.count == 7 })
        #expect(text(received.bytes) == "via dup")
        #expect(t.events == ["write 0"])
    }
}

