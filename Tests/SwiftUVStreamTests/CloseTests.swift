import CLibUV
import SwiftUVStream
import Testing

@Suite("Closing")
struct CloseTests {
    @Test("close is idempotent: one callback, once, from the loop")
    func idempotentClose() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        let tcp = try TCP(loop: t.loop)
        try timer.close { handle in
            t.log("timer closed isClosed=\(handle.isClosed)")
            t.log("again inside " + outcome { try handle.close { _ in t.log("never") } })
        }
        try timer.close { _ in t.log("second callback") }
        try timer.close()
        try tcp.close { _ in t.log("tcp closed") }
        try tcp.close { _ in t.log("tcp second callback") }
        #expect(timer.isClosing && !timer.isClosed)
        #expect(t.events.isEmpty, "never inside close()")
        try t.run()
        #expect(t.events.sorted() == ["again inside ok", "tcp closed", "timer closed isClosed=true"])
        #expect(timer.isClosed && tcp.isClosed)
        try timer.close { _ in t.log("after closed") }
        try t.loop.run(.noWait)
        #expect(t.events.count == 3)
    }

    @Test("a pending connect, and writes and shutdown behind it, are cancelled before the close callback")
    func pendingConnectCancelled() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (_, port) = try makeServer(t) { _, _ in }
        let client = try TCP(loop: t.loop)
        try client.connect(to: "127.0.0.1", port: port, completion: t.logged("connect"))
        try client.send("data", t.logged("write"))
        try client.send([], t.logged("empty"))
        try client.shutdown(completion: t.logged("shutdown"))
        try client.close { _ in t.log("close") }
        #expect(t.events.isEmpty)
        try t.run(until: { t.events.contains("close") })
        #expect(t.events == ["connect ECANCELED", "write ECANCELED", "empty ECANCELED", "shutdown ECANCELED", "close"])
    }

    @Test("queued and in-flight writes and a waiting shutdown are cancelled in order before the close callback")
    func pendingWritesCancelled() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        try client.setSendBufferSize(16 * 1024)
        try peer.setReceiveBufferSize(16 * 1024)
        try client.send([UInt8].pattern(1 << 20), t.logged("big"))
        try #require(client.writeQueueSize > 0)
        try client.send("small", t.logged("small"))
        try client.send([], t.logged("empty"))
        try client.shutdown(completion: t.logged("shutdown"))
        try client.close { _ in t.log("close") }
        #expect(client.writeQueueSize == 0, "nothing is queued on a closing stream")
        try t.run(until: { t.events.contains("close") })
        #expect(t.events == ["big ECANCELED", "small ECANCELED", "empty ECANCELED", "shutdown ECANCELED", "close"])
    }

    @Test("a write that already finished reports 0 even when the stream closes first")
    func finishedWriteReportsSuccess() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        let received = try collect(peer, t, "peer")
        try client.send("hi", t.logged("write"))  // small: the kernel takes it at once
        try client.send([], t.logged("empty"))
        try client.close { _ in t.log("close") }
        try t.run(until: { received.end != nil && t.events.contains("close") })
        #expect(t.events.filter { $0 != "peer EOF" } == ["write 0", "empty 0", "close"])
        #expect(text(received.bytes) == "hi")
    }

    @Test("closing inside the connect callback cancels the writes made while connecting")
    func closeInConnectCallback() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (_, port) = try makeServer(t) { _, _ in }
        let client = try TCP(loop: t.loop)
        try client.connect(to: "127.0.0.1", port: port, completion: .closure { status in
            t.log("connect \(statusName(status))")
            try? client.close { _ in t.log("close") }
        })
        try client.send("one", t.logged("one"))
        try client.send("two", t.logged("two"))
        try t.run(until: { t.events.contains("close") })
        #expect(t.events == ["connect 0", "one ECANCELED", "two ECANCELED", "close"])
    }

    @Test("closing inside the read callback ends reading: no further read callback")
    func closeInReadCallback() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        try client.readStart { stream, status, bytes in
            t.log("read \(statusName(status)) \(bytes.count)")
            try? stream.close { _ in t.log("close") }
        }
        try peer.send("first", .none)
        try peer.shutdown(completion: .none)  // an EOF follows the data
        try t.run(until: { t.events.contains("close") })
        try t.loop.run(.noWait)
        #expect(t.events.count == 2)
        #expect(t.events.first?.hasPrefix("read 0 ") == true)
        #expect(t.events.last == "close")
    }

    @Test("every call on a closing or closed stream reports closed; queries are neutral")
    func callsAfterClose() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, _) = try connectedPair(t)
        try collect(client, t, "client")
        let other = try TCP(loop: t.loop)
        try client.close { _ in t.log("close") }
        for phase in ["closing", "closed"] {
            if phase == "closed" {
                try t.run(until: { client.isClosed })
            }
            #expect(client.isClosing)
            #expect(client.isClosed == (phase == "closed"))
            #expect(throws: UVError.closed) { try client.readStart { _, _, _ in } }
            #expect(throws: UVError.closed) { try client.readStop() }
            #expect(throws: UVError.closed) { try client.send("x", t.logged("x")) }
            #expect(throws: UVError.closed) { try client.send([], t.logged("empty")) }
            #expect(throws: UVError.closed) { try client.sendNoBuffers(t.logged("none")) }
            #expect(throws: UVError.closed) { _ = try client.trySend([1]) }
            #expect(throws: UVError.closed) { try client.shutdown(completion: t.logged("shutdown")) }
            #expect(throws: UVError.closed) { try client.listen(backlog: 1) { _, _ in } }
            #expect(throws: UVError.closed) { try client.accept(into: other) }
            #expect(throws: UVError.closed) { try client.connect(to: "127.0.0.1", port: 1, completion: t.logged("connect")) }
            #expect(throws: UVError.closed) { try client.bind(host: "127.0.0.1", port: 0) }
            #expect(throws: UVError.closed) { try client.open(0) }
            #expect(throws: UVError.closed) { try client.setNoDelay(true) }
            #expect(throws: UVError.closed) { try client.setKeepAlive(true, delay: 10) }
            #expect(throws: UVError.closed) { try client.setSimultaneousAccepts(true) }
            #expect(throws: UVError.closed) { _ = try client.socketName() }
            #expect(throws: UVError.closed) { _ = try client.peerName() }
            #expect(throws: UVError.closed) { _ = try client.fileDescriptor() }
            #expect(throws: UVError.closed) { _ = try client.sendBufferSize() }
            #expect(throws: UVError.closed) { try client.setSendBufferSize(4096) }
            #expect(throws: UVError.closed) { _ = try client.receiveBufferSize() }
            #expect(throws: UVError.closed) { try client.setReceiveBufferSize(4096) }
            #expect(throws: UVError.closed) { try client.reference() }
            #expect(throws: UVError.closed) { try client.unreference() }
            #expect(!client.isReadable && !client.isWritable && !client.isReading)
            #expect(!client.isActive && !client.hasReference)
            #expect(client.writeQueueSize == 0)
            #expect(client.kind == .tcp)
            try client.close { _ in t.log("second close") }
        }
        try t.loop.run(.noWait)
        #expect(t.events == ["close"], "no callback from any refused call")
    }

    @Test("accept on a closing listener reports closed and leaves the client unused")
    func acceptOnClosingListener() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (server, _) = try makeServer(t) { _, _ in }
        let client = try TCP(loop: t.loop)
        try server.close()
        #expect(throws: UVError.closed) { try server.accept(into: client) }
        #expect(!client.isClosing)
    }

    @Test("closing a loop with live handles is EBUSY; after closing them and running once it succeeds")
    func loopCloseBusyThenOK() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        _ = try connectedPair(t)
        #expect(throws: UVError.busy, "live handles") { try t.loop.close() }
        #expect(t.loop.handleCount == 5, "timer, watchdog, client, peer, closing listener")
        try timer.start(timeout: 60_000) { _ in t.log("never") }
        let closed = try t.loop.closeAllHandles { handle in t.log("closed \(handle.kind)") }
        #expect(closed == 4, "the listener was already closing")
        #expect(throws: UVError.busy, "handles still closing") { try t.loop.close() }
        #expect(!t.loop.isClosed)
        try t.loop.run(.once)
        #expect(t.loop.handleCount == 0)
        #expect(t.events.sorted() == ["closed tcp", "closed tcp", "closed timer", "closed timer"])
        try t.loop.close()
        #expect(t.loop.isClosed)
        try t.loop.close()
    }

    @Test("a handle the owner lets go of while open lives until its close callback")
    func handleOutlivesOwner() throws {
        let t = try TestLoop()
        defer { t.finish() }
        weak var weakTimer: SwiftUVStream.Timer?
        weak var weakServer: TCP?
        var port = 0
        do {
            let timer = try SwiftUVStream.Timer(loop: t.loop)
            try timer.start(timeout: 0) { timer in
                t.log("fired")
                try? timer.close { _ in t.log("timer closed") }
            }
            weakTimer = timer
            let (server, serverPort) = try makeServer(t) { server, status in
                t.log("connection \(statusName(status))")
                try? server.close { _ in t.log("server closed") }
            }
            weakServer = server
            port = serverPort
        }
        #expect(weakTimer != nil, "libuv may still call back: the object stays alive")
        #expect(weakServer != nil)
        let client = try TCP(loop: t.loop)
        try client.connect(to: "127.0.0.1", port: port, completion: .none)
        try t.run(until: { t.events.contains("server closed") && t.events.contains("timer closed") })
        #expect(t.events.filter { $0.hasPrefix("connection") || $0 == "server closed" } == ["connection 0", "server closed"])
        #expect(t.events.filter { $0 == "fired" || $0 == "timer closed" } == ["fired", "timer closed"])
        #expect(weakTimer == nil, "freed once closed and unowned")
        #expect(weakServer == nil)
    }
}
