import CLibUV
import Glibc
import SwiftUVStream
import Testing

@Suite("Pipes")
struct PipeTests {
    @Test("a Unix socket server echoes a client's bytes; names are the bound path")
    func unixSocketEcho() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let t = try TestLoop()
        defer { t.finish() }
        let path = dir.file("echo.sock")
        var accepted: Pipe?
        let server = try makePipeServer(t, path: path) { peer in
            accepted = peer
            do { try echo(peer) } catch { Issue.record("echo: \(error)") }
        }
        #expect(exists(path), "bind creates the socket file")
        #expect(try server.socketName() == path)
        #expect(server.kind == .pipe && !server.isIPC)
        #expect(!server.isReadable && !server.isWritable && server.isActive)

        let client = try Pipe(loop: t.loop)
        try client.connect(to: path, completion: t.logged("connect"))
        #expect(client.isWritable, "writable while connecting: writes wait")
        let received = try collect(client, t, "client")
        try client.send("hello, ", t.logged("write 1"))
        try client.send("pipe", t.logged("write 2"))
        try client.shutdown(completion: t.logged("shutdown"))
        #expect(t.events.isEmpty, "nothing inside the calls")
        try t.run(until: { received.end != nil })
        #expect(t.events == ["connect 0", "write 1 0", "write 2 0", "shutdown 0", "client EOF"])
        #expect(text(received.bytes) == "hello, pipe")

        let peer = try #require(accepted)
        #expect(try client.peerName() == path)
        #expect(try client.socketName() == "", "the client is not bound")
        #expect(try peer.socketName() == path)
        #expect(try peer.peerName() == "")
    }

    @Test("connect errors arrive through the completion, from the loop: ENOENT, ECONNREFUSED")
    func connectErrors() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let t = try TestLoop()
        defer { t.finish() }
        let missing = try Pipe(loop: t.loop)
        try missing.connect(to: dir.file("missing.sock"), completion: t.logged("missing"))
        try missing.send("queued", t.logged("queued write"))
        #expect(throws: UVError.alreadyInProgress) {
            try missing.connect(to: dir.file("missing.sock"), completion: t.logged("second"))
        }
        // Bound but not listening: the kernel refuses.
        let deaf = try Pipe(loop: t.loop)
        let deafPath = dir.file("deaf.sock")
        try deaf.bind(path: deafPath)
        let refused = try Pipe(loop: t.loop)
        try refused.connect(to: deafPath, completion: t.logged("refused"))
        #expect(t.events.isEmpty, "never inside connect()")
        try t.run(until: { t.events.count == 3 })
        #expect(t.events == ["missing ENOENT", "queued write ECANCELED", "refused ECONNREFUSED"])
        #expect(!missing.isReadable && !missing.isWritable)
        #expect(throws: UVError.brokenPipe) { try missing.send("late", .none) }
        #expect(throws: UVError.notConnected, "bound, not connected") { _ = try deaf.peerName() }
    }

    @Test("after a failed connect the pipe is done: a second connect is EINVAL; a new pipe connects",
          arguments: ["ENOENT", "ENAMETOOLONG"])
    func reconnectAfterFailure(failure: String) throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let t = try TestLoop()
        defer { t.finish() }
        let path = dir.file("later.sock")
        let target = failure == "ENOENT" ? path : dir.file(length: Pipe.maximumPathLength + 1)
        let client = try Pipe(loop: t.loop)
        try client.connect(to: target, completion: t.logged("first"))
        try t.run(until: { t.events.count == 1 })
        #expect(t.events == ["first \(failure)"])
        // libuv 1.44 reuses the failed socket without marking it readable or writable:
        // the library refuses the second attempt instead of handing out a dead stream.
        var accepted: Pipe?
        _ = try makePipeServer(t, path: path) { peer in accepted = peer }
        #expect(throws: UVError.invalidArgument) {
            try client.connect(to: path, completion: t.logged("second"))
        }
        #expect(!client.isReadable && !client.isWritable)
        #expect(throws: UVError.notConnected) { try client.readStart { _, _, _ in } }
        let fresh = try Pipe(loop: t.loop)
        try fresh.connect(to: path, completion: t.logged("fresh"))
        try t.run(until: { t.events.count == 2 && accepted != nil })
        #expect(t.events == ["first \(failure)", "fresh 0"])
        let peer = try #require(accepted)
        let atPeer = try collect(peer, t, "peer")
        try fresh.send("to peer", t.logged("write"))
        try t.run(until: { atPeer.bytes.count == 7 })
        #expect(text(atPeer.bytes) == "to peer")
    }

    @Test("a path one byte too long fails with ENAMETOOLONG in the completion, never truncated")
    func connectPathTooLong() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let t = try TestLoop()
        defer { t.finish() }
        #expect(Pipe.maximumPathLength == 107)
        // A server at the longest path: the too-long path below truncates to it.
        let longest = dir.file(length: Pipe.maximumPathLength)
        var connections = 0
        let server = try makePipeServer(t, path: longest) { _ in connections += 1 }
        #expect(try server.socketName() == longest)
        let tooLong = longest + "x"
        #expect(tooLong.utf8.count == Pipe.maximumPathLength + 1)

        let client = try Pipe(loop: t.loop)
        try client.connect(to: tooLong, completion: t.logged("too long"))
        try client.send("x", t.logged("write"))
        #expect(t.events.isEmpty, "reported from the loop, not thrown")
        let far = try Pipe(loop: t.loop)
        try far.connect(to: longest + String(repeating: "y", count: 400), completion: t.logged("far too long"))
        try t.run(until: { t.events.count == 3 })
        #expect(t.events == ["too long ENAMETOOLONG", "write ECANCELED", "far too long ENAMETOOLONG"])
        try t.loop.run(.noWait)
        #expect(connections == 0, "nothing connected to the truncated path")

        // The longest path itself works, and names come back whole.
        let exact = try Pipe(loop: t.loop)
        try exact.connect(to: longest, completion: t.logged("exact"))
        try t.run(until: { connections == 1 && t.events.count == 4 })
        #expect(t.events.last == "exact 0")
        #expect(try exact.peerName() == longest)
    }

    @Test("bind errors: too long, in use, no directory, twice; a failed bind leaves the pipe usable")
    func bindErrors() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let t = try TestLoop()
        defer { t.finish() }
        let pipe = try Pipe(loop: t.loop)
        let tooLong = dir.file(length: Pipe.maximumPathLength + 1)
        #expect(throws: UVError(code: UV_ENAMETOOLONG.rawValue)) { try pipe.bind(path: tooLong) }
        #expect(!exists(String(tooLong.dropLast())), "nothing bound at the truncated path")
        #expect(!exists(tooLong))

        let taken = dir.file("taken.sock")
        let first = try Pipe(loop: t.loop)
        try first.bind(path: taken)
        #expect(throws: UVError(code: UV_EADDRINUSE.rawValue)) { try pipe.bind(path: taken) }
        // libuv 1.44 reports a missing directory as EACCES (as Windows does).
        #expect(throws: UVError(code: UV_EACCES.rawValue)) {
            try pipe.bind(path: dir.file("no-such-dir/x.sock"))
        }
        let good = dir.file("good.sock")
        try pipe.bind(path: good)
        #expect(try pipe.socketName() == good)
        #expect(throws: UVError.invalidArgument, "already bound") { try pipe.bind(path: dir.file("again.sock")) }
        #expect(!exists(dir.file("again.sock")))
        try pipe.close()
        #expect(throws: UVError.closed) { try pipe.bind(path: dir.file("closed.sock")) }
    }

    @Test("chmod adds read and write permission for everyone to the socket file")
    func chmodSocketFile() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let t = try TestLoop()
        defer { t.finish() }
        func mode(_ path: String) -> mode_t {
            var status = stat()
            #expect(stat(path, &status) == 0)
            return status.st_mode & 0o777
        }
        let unbound = try Pipe(loop: t.loop)
        #expect(throws: UVError.badFileDescriptor, "not bound") { try unbound.chmod(readable: true, writable: true) }
        let path = dir.file("mode.sock")
        let pipe = try Pipe(loop: t.loop)
        try pipe.bind(path: path)
        #expect(chmod(path, 0o600) == 0)
        #expect(throws: UVError.invalidArgument, "no flags") { try pipe.chmod(readable: false, writable: false) }
        #expect(mode(path) == 0o600)
        try pipe.chmod(readable: true, writable: false)
        #expect(mode(path) == 0o644)
        try pipe.chmod(readable: false, writable: true)
        #expect(mode(path) == 0o666)
        #expect(chmod(path, 0o600) == 0)
        try pipe.chmod(readable: true, writable: true)
        #expect(mode(path) == 0o666)
    }

    @Test("socketName and peerName: socket pair ends are unnamed; no descriptor is EBADF")
    func names() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (a, b) = try socketPairPipes(t)
        #expect(try a.socketName() == "")
        #expect(try a.peerName() == "")
        #expect(try b.peerName() == "")
        let fresh = try Pipe(loop: t.loop)
        #expect(throws: UVError.badFileDescriptor) { _ = try fresh.socketName() }
        #expect(throws: UVError.badFileDescriptor) { _ = try fresh.peerName() }
        try a.close()
        #expect(throws: UVError.closed) { _ = try a.socketName() }
        #expect(throws: UVError.closed) { _ = try a.peerName() }
    }

    @Test("makePipe: the read end is readable only, the write end writable only; EOF when the writer closes")
    func anonymousPipe() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (readFD, writeFD) = try Pipe.makePipe()
        #expect(readFD >= 0 && writeFD >= 0 && readFD != writeFD)
        #expect(fcntl(readFD, F_GETFD) & FD_CLOEXEC != 0, "close-on-exec")
        #expect(fcntl(writeFD, F_GETFD) & FD_CLOEXEC != 0, "close-on-exec")
        let reader = try Pipe(loop: t.loop)
        let writer = try Pipe(loop: t.loop)
        try reader.open(readFD)
        try writer.open(writeFD)
        #expect(reader.isReadable && !reader.isWritable)
        #expect(writer.isWritable && !writer.isReadable)
        #expect(throws: UVError.brokenPipe) { try reader.send("x", t.logged("wrong way")) }
        #expect(throws: UVError.notConnected) { try reader.shutdown(completion: t.logged("shutdown")) }
        #expect(throws: UVError.notConnected) { try writer.readStart { _, _, _ in t.log("read on the write end") } }
        let received = try collect(reader, t, "reader")
        let payload = [UInt8].pattern(300_000, seed: 7)  // more than a pipe holds: it queues
        try writer.send(payload, t.logged("write"))
        try writer.send("tail", .closure { status in
            t.log("tail \(statusName(status))")
            try? writer.close { _ in t.log("writer closed") }
        })
        try t.run(until: { received.end != nil && t.events.contains("writer closed") })
        // The writer's descriptor closes inside close(): the reader may see the EOF in
        // the same loop iteration, before the close callback runs.
        #expect(Array(t.events.prefix(2)) == ["write 0", "tail 0"])
        #expect(t.events.dropFirst(2).sorted() == ["reader EOF", "writer closed"])
        #expect(received.bytes == payload + [UInt8]("tail"))
    }

    @Test("makeSocketPair gives two connected, bidirectional, close-on-exec ends")
    func socketPair() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (fdA, fdB) = try Pipe.makeSocketPair()
        #expect(fcntl(fdA, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(fdB, F_GETFD) & FD_CLOEXEC != 0)
        let a = try Pipe(loop: t.loop)
        let b = try Pipe(loop: t.loop)
        try a.open(fdA)
        try b.open(fdB)
        #expect(a.isReadable && a.isWritable && b.isReadable && b.isWritable)
        #expect(try a.fileDescriptor() == fdA)
        let atB = try collect(b, t, "b")
        let atA = try collect(a, t, "a")
        try a.send("to b", t.logged("a write"))
        try b.send("to a", t.logged("b write"))
        try t.run(until: { atA.bytes.count == 4 && atB.bytes.count == 4 })
        #expect(text(atB.bytes) == "to b" && text(atA.bytes) == "to a")
        #expect(t.events == ["a write 0", "b write 0"])
    }

    @Test("open rejects a regular file, /dev/null, a TCP socket and a datagram socket with EINVAL")
    func openRejects() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let t = try TestLoop()
        defer { t.finish() }
        let pipe = try Pipe(loop: t.loop)
        let file = open(dir.file("plain"), O_RDWR | O_CREAT, 0o600)
        try #require(file >= 0)
        defer { close(file) }
        #expect(throws: UVError.invalidArgument, "a regular file") { try pipe.open(file) }
        let null = open("/dev/null", O_RDWR)
        try #require(null >= 0)
        defer { close(null) }
        #expect(throws: UVError.invalidArgument, "/dev/null") { try pipe.open(null) }
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(tcp >= 0)
        defer { close(tcp) }
        #expect(throws: UVError.invalidArgument, "a TCP socket") { try pipe.open(tcp) }
        let datagram = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(datagram >= 0)
        defer { close(datagram) }
        #expect(throws: UVError.invalidArgument, "a Unix datagram socket") { try pipe.open(datagram) }
        #expect(throws: UVError.invalidArgument, "fd < 0") { try pipe.open(-1) }
        #expect(throws: UVError.badFileDescriptor, "not open") { try pipe.open(1_000_000) }
        // Nothing was adopted: the pipe still takes a real one, then no second.
        #expect(!pipe.isReadable && !pipe.isWritable)
        let (a, b) = try Pipe.makeSocketPair()
        try pipe.open(a)
        #expect(throws: UVError.busy) { try pipe.open(b) }
        close(b)
        #expect(pipe.isReadable && pipe.isWritable)
        try pipe.close()
        #expect(throws: UVError.closed) { try pipe.open(file) }
    }

    @Test("half-close: EOF reaches the peer, which can still answer; then EOF back")
    func halfClose() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (a, b) = try socketPairPipes(t)
        let atB = try collect(b, t, "b")
        let atA = try collect(a, t, "a")
        try a.send("question", t.logged("a write"))
        try a.shutdown(completion: t.logged("a shutdown"))
        #expect(!a.isWritable && a.isReadable)
        try t.run(until: { atB.end != nil })
        #expect(!b.isReadable && b.isWritable && !b.isReading)
        #expect(throws: UVError.notConnected, "EOF was reported") { try b.readStart { _, _, _ in } }
        try b.send("answer", t.logged("b write"))
        try b.shutdown(completion: t.logged("b shutdown"))
        try t.run(until: { atA.end != nil })
        #expect(text(atB.bytes) == "question")
        #expect(text(atA.bytes) == "answer")
        #expect(t.events == [
            "a write 0", "a shutdown 0", "b EOF",
            "b write 0", "b shutdown 0", "a EOF",
        ])
        #expect(!a.isReadable && !a.isWritable && !b.isReadable && !b.isWritable)
    }

    @Test("writes complete in submission order and the bytes arrive in order")
    func writeOrdering() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (a, b) = try socketPairPipes(t)
        var expected: [UInt8] = []
        var completions: [Int] = []
        var failures: [String] = []
        for index in 0..<200 {
            let size = index % 40 == 0 ? 2_000_000 : 1 + (index * 53) % 2000
            let bytes = [UInt8].pattern(size, seed: UInt32(index + 11))
            expected += bytes
            try a.send(bytes, .closure { status in
                if status != 0 { failures.append("\(index) \(statusName(status))") }
                completions.append(index)
            })
        }
        #expect(a.writeQueueSize > 0, "2 MB does not fit a socket pair")
        #expect(completions.isEmpty)
        let received = try collect(b, t, "b")
        try t.run(until: { completions.count == 200 && received.bytes.count >= expected.count })
        #expect(failures.isEmpty)
        #expect(completions == Array(0..<200))
        #expect(received.bytes.count == expected.count)
        #expect(received.bytes == expected)
        #expect(a.writeQueueSize == 0)
    }

    @Test("close cancels queued writes and a waiting shutdown, in order, before the close callback")
    func closeCancelsWrites() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (a, _) = try socketPairPipes(t)
        try a.send([UInt8].pattern(4 << 20), t.logged("big"))
        try #require(a.writeQueueSize > 0, "the peer does not read: 4 MiB stays queued")
        try a.send("small", t.logged("small"))
        try a.send([], t.logged("empty"))
        try a.shutdown(completion: t.logged("shutdown"))
        try a.close { _ in t.log("close") }
        #expect(a.writeQueueSize == 0)
        #expect(t.events.isEmpty)
        try t.run(until: { t.events.contains("close") })
        #expect(t.events == ["big ECANCELED", "small ECANCELED", "empty ECANCELED", "shutdown ECANCELED", "close"])
    }

    @Test("accept on a listening pipe takes a pipe only; connect on a connected pipe is EISCONN")
    func acceptAndConnectMisuse() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let t = try TestLoop()
        defer { t.finish() }
        let path = dir.file("server.sock")
        var waiting = 0
        let server = try Pipe(loop: t.loop)
        try server.bind(path: path)
        try server.listen(backlog: 4) { _, status in
            #expect(status == 0)
            waiting += 1
        }
        let client = try Pipe(loop: t.loop)
        try client.connect(to: path, completion: t.logged("connect"))
        try t.run(until: { waiting == 1 && t.events.count == 1 })
        #expect(t.events == ["connect 0"])
        #expect(throws: UVError.invalidArgument, "a TCP client") { try server.accept(into: TCP(loop: t.loop)) }
        #expect(throws: UVError.alreadyConnected) { try client.connect(to: path, completion: t.logged("again")) }
        let peer = try Pipe(loop: t.loop)
        try server.accept(into: peer)
        #expect(throws: UVError.tryAgain) { try server.accept(into: Pipe(loop: t.loop)) }
        let received = try collect(peer, t, "peer")
        try client.send("after accept", t.logged("write"))
        try t.run(until: { received.bytes.count == 12 })
        #expect(text(received.bytes) == "after accept")
        #expect(server.pendingCount == 0 && server.pendingKind == nil, "not an IPC pipe")
    }
}
