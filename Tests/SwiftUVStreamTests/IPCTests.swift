import CLibUV
import Glibc
import SwiftUVStream
import Testing

private func kindName(_ kind: HandleKind?) -> String {
    kind.map { "\($0)" } ?? "none"
}

/// What an IPC pipe received: the bytes and the handles, accepted in arrival order.
private final class Inbox {
    var bytes: [UInt8] = []
    var handles: [SwiftUVStream.Stream] = []
}

/// Reads `pipe`, and after each chunk accepts every handle waiting into a new stream of
/// the kind `pendingKind` names. Logs "`label` <kind>" per handle, and the end of input.
private func receiveHandles(_ pipe: Pipe, _ t: TestLoop, _ label: String) throws -> Inbox {
    let inbox = Inbox()
    try pipe.readStart { [unowned t] _, status, bytes in
        guard status == 0 else {
            t.log("\(label) \(statusName(status))")
            return
        }
        inbox.bytes.append(contentsOf: bytes)
        while pipe.pendingCount > 0 {
            let before = pipe.pendingCount
            let kind = pipe.pendingKind
            t.log("\(label) \(kindName(kind))")
            do {
                let client: SwiftUVStream.Stream
                switch kind {
                case .tcp: client = try TCP(loop: pipe.loop)
                case .pipe: client = try Pipe(loop: pipe.loop)
                default:
                    Issue.record("pending handle of kind \(kindName(kind)), count \(before)")
                    return
                }
                try pipe.accept(into: client)
                inbox.handles.append(client)
                #expect(pipe.pendingCount == before - 1)
            } catch {
                Issue.record("accept failed: \(error)")
                return
            }
        }
    }
    return inbox
}

@Suite("Handle passing")
struct IPCTests {
    @Test("an accepted TCP connection sent over an IPC pipe is accepted on the other end and echoes")
    func sendTCP() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (sender, receiver) = try socketPairPipes(t, ipc: true)
        #expect(sender.isIPC && receiver.isIPC)
        #expect(receiver.pendingCount == 0 && receiver.pendingKind == nil)
        let (client, peer) = try connectedPair(t)
        let peerAddress = try peer.socketName()
        var received: TCP?
        try receiver.readStart { _, status, bytes in
            guard status == 0 else { return t.log("receiver \(statusName(status))") }
            t.log("receiver read \(text(Array(bytes))) pending \(receiver.pendingCount) \(kindName(receiver.pendingKind))")
            guard let tcp = try? TCP(loop: t.loop) else { return t.log("receiver: no TCP handle") }
            t.log("receiver accept " + outcome { try receiver.accept(into: tcp) })
            t.log("receiver pending \(receiver.pendingCount) \(kindName(receiver.pendingKind))")
            received = tcp
        }
        try sender.send("conn", handle: peer, .closure { status in
            t.log("sender write \(statusName(status))")
            // Done with it here: the receiver's copy lives on.
            try? peer.close { _ in t.log("sender original closed") }
        })
        #expect(t.events.isEmpty)
        try t.run(until: { received != nil && peer.isClosed })
        #expect(t.events.filter { $0.hasPrefix("receiver") } == [
            "receiver read conn pending 1 tcp", "receiver accept ok", "receiver pending 0 none",
        ])
        #expect(t.events.filter { $0.hasPrefix("sender") } == ["sender write 0", "sender original closed"])

        // The copy is the same connection: same addresses, and it echoes end to end.
        let copy = try #require(received)
        #expect(copy.isReadable && copy.isWritable && copy.kind == .tcp)
        #expect(try copy.socketName() == peerAddress)
        #expect(try copy.peerName() == client.socketName())
        try echo(copy)
        t.events.removeAll()
        let back = try collect(client, t, "client")
        try client.send("ping through the copy", t.logged("client write"))
        try client.shutdown(completion: t.logged("client shutdown"))
        try t.run(until: { back.end != nil })
        #expect(text(back.bytes) == "ping through the copy")
        #expect(t.events == ["client write 0", "client shutdown 0", "client EOF"])
    }

    @Test("a pipe sent over an IPC pipe arrives as a pipe and carries data both ways")
    func sendPipe() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (sender, receiver) = try socketPairPipes(t, ipc: true)
        let (near, far) = try socketPairPipes(t)
        let inbox = try receiveHandles(receiver, t, "receiver")
        try sender.send("p", handle: near, .closure { status in
            t.log("sender write \(statusName(status))")
            try? near.close { _ in t.log("sender original closed") }
        })
        try t.run(until: { inbox.handles.count == 1 && near.isClosed })
        #expect(t.events.filter { $0.hasPrefix("receiver") } == ["receiver pipe"])
        #expect(t.events.filter { $0.hasPrefix("sender") } == ["sender write 0", "sender original closed"])
        #expect(text(inbox.bytes) == "p")
        let copy = try #require(inbox.handles.first as? Pipe)
        #expect(!copy.isIPC && copy.isReadable && copy.isWritable)
        try echo(copy)
        t.events.removeAll()
        let back = try collect(far, t, "far")
        try far.send("through the passed pipe", t.logged("far write"))
        try far.shutdown(completion: t.logged("far shutdown"))
        try t.run(until: { back.end != nil })
        #expect(text(back.bytes) == "through the passed pipe")
        #expect(t.events == ["far write 0", "far shutdown 0", "far EOF"])
    }

    @Test("several handles in a row arrive in order, each with its own bytes, and each works")
    func severalHandles() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (sender, receiver) = try socketPairPipes(t, ipc: true)
        let (client1, peer1) = try connectedPair(t)
        let (client2, peer2) = try connectedPair(t)
        let (near, far) = try socketPairPipes(t)
        let inbox = try receiveHandles(receiver, t, "receiver")
        try sender.send("1", t.logged("plain 0"))
        try sender.send("2", handle: peer1, t.logged("tcp 1"))
        try sender.send("3", handle: near, t.logged("pipe"))
        try sender.send("4", handle: peer2, t.logged("tcp 2"))
        try sender.send("5", t.logged("plain 5"))
        #expect(t.events.isEmpty)
        try t.run(until: { inbox.handles.count == 3 && inbox.bytes.count == 5 && t.events.count == 8 })
        #expect(t.events.filter { !$0.hasPrefix("receiver") } == ["plain 0 0", "tcp 1 0", "pipe 0", "tcp 2 0", "plain 5 0"])
        #expect(t.events.filter { $0.hasPrefix("receiver") } == ["receiver tcp", "receiver pipe", "receiver tcp"])
        #expect(text(inbox.bytes) == "12345")
        try #require(inbox.handles.count == 3)
        // Every original may go now; the copies are the same connections.
        for original in [peer1, peer2, near] as [SwiftUVStream.Stream] { try original.close() }
        let copy1 = try #require(inbox.handles[0] as? TCP)
        let copy2 = try #require(inbox.handles[2] as? TCP)
        #expect(try copy1.peerName() == client1.socketName())
        #expect(try copy2.peerName() == client2.socketName())
        let pipeCopy = try #require(inbox.handles[1] as? Pipe)
        let at1 = try collect(client1, t, "client 1")
        let at2 = try collect(client2, t, "client 2")
        let atFar = try collect(far, t, "far")
        try copy1.send("one", .none)
        try copy2.send("two", .none)
        try pipeCopy.send("three", .none)
        try t.run(until: { at1.bytes.count == 3 && at2.bytes.count == 3 && atFar.bytes.count == 5 })
        #expect(text(at1.bytes) == "one" && text(at2.bytes) == "two" && text(atFar.bytes) == "three")
    }

    @Test("a pipe stream over an anonymous pipe can be sent, and arrives as a pipe")
    func sendAnonymousPipe() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (sender, receiver) = try socketPairPipes(t, ipc: true)
        let (readFD, writeFD) = try Pipe.makePipe()
        let reader = try Pipe(loop: t.loop)
        let writer = try Pipe(loop: t.loop)
        try reader.open(readFD)
        try writer.open(writeFD)
        try receiver.readStart { _, status, _ in
            guard status == 0 else { return }
            t.log("pending \(receiver.pendingCount) \(kindName(receiver.pendingKind))")
        }
        // uvs_write2 takes any open pipe stream as send_handle.
        try sender.send("w", handle: writer, t.logged("write"))
        try t.run(until: { t.events.count == 2 })
        #expect(t.events.sorted() == ["pending 1 pipe", "write 0"],
                "uvs_pipe_pending_kind: UVS_KIND_PIPE or UVS_KIND_TCP whenever a handle waits")
        if receiver.pendingCount == 1, receiver.pendingKind == .pipe {
            let copy = try Pipe(loop: t.loop)
            try receiver.accept(into: copy)
            try writer.close()
            let received = try collect(reader, t, "reader")
            try copy.send("via the copy", .none)
            try t.run(until: { received.bytes.count == 12 })
            #expect(text(received.bytes) == "via the copy")
        }
    }

    @Test("write with sendHandle: misuse fails at the call and no callback runs")
    func sendHandleErrors() throws {
        let pty = try PseudoTerminal()
        defer { pty.release() }
        let t = try TestLoop()
        defer { t.finish() }
        let (sender, receiver) = try socketPairPipes(t, ipc: true)
        let (plainA, _) = try socketPairPipes(t)
        let (client, peer) = try connectedPair(t)
        #expect(!plainA.isIPC)
        #expect(throws: UVError.invalidArgument, "a pipe that is not IPC") {
            try plainA.send("x", handle: peer, t.logged("non-IPC"))
        }
        #expect(throws: UVError.invalidArgument, "a TCP stream as the carrier") {
            try client.send("x", handle: peer, t.logged("over TCP"))
        }
        #expect(throws: UVError.invalidArgument, "an empty payload") {
            try sender.send([], handle: peer, t.logged("empty"))
        }
        #expect(throws: UVError.invalidArgument, "no buffers") {
            try sender.write(UnsafeBufferPointer<uv_buf_t>(start: nil, count: 0), sendHandle: peer,
                             completion: t.logged("no buffers"))
        }
        let tty = try pty.tty(t, fd: pty.slave, readable: false)
        #expect(throws: UVError.invalidArgument, "a TTY is neither TCP nor a pipe") {
            try sender.send("x", handle: tty, t.logged("tty"))
        }
        // A Timer is not a Stream: the Swift API cannot even express sending one.
        let unconnected = try TCP(loop: t.loop)
        #expect(throws: UVError.badFileDescriptor, "no descriptor yet") {
            try sender.send("x", handle: unconnected, t.logged("no fd"))
        }
        let other = try TestLoop()
        defer { other.finish() }
        let (foreign, _) = try connectedPair(other)
        #expect(throws: UVError.invalidArgument, "a handle of another loop") {
            try sender.send("x", handle: foreign, t.logged("foreign"))
        }
        let closing = try TCP(loop: t.loop)
        try closing.bind(host: "127.0.0.1", port: 0)
        try closing.close()
        #expect(throws: UVError.closed, "a closing handle") {
            try sender.send("x", handle: closing, t.logged("closing"))
        }
        #expect(sender.writeQueueSize == 0)
        #expect(sender.isWritable, "the failed calls change nothing")
        try t.loop.run(.noWait)
        #expect(t.events.isEmpty, "no callback for a failed call")
        // The pipe still passes handles.
        let inbox = try receiveHandles(receiver, t, "receiver")
        try sender.send("ok", handle: peer, t.logged("valid"))
        try t.run(until: { inbox.handles.count == 1 && t.events.count == 2 })
        #expect(t.events.sorted() == ["receiver tcp", "valid 0"])
        #expect(text(inbox.bytes) == "ok")
    }

    @Test("a pipe that is not IPC receives the bytes but never a handle")
    func nonIPCReceiver() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (fdA, fdB) = try Pipe.makeSocketPair()
        let sender = try Pipe(loop: t.loop, ipc: true)
        let receiver = try Pipe(loop: t.loop, ipc: false)
        try sender.open(fdA)
        try receiver.open(fdB)
        let (_, peer) = try connectedPair(t)
        let received = try collect(receiver, t, "receiver")
        try sender.send("data", handle: peer, t.logged("write"))
        try t.run(until: { received.bytes.count == 4 && t.events.count == 1 })
        #expect(t.events == ["write 0"])
        #expect(text(received.bytes) == "data")
        #expect(receiver.pendingCount == 0 && receiver.pendingKind == nil)
        #expect(throws: UVError.invalidArgument, "nothing to accept") { try receiver.accept(into: TCP(loop: t.loop)) }
    }

    @Test("accept on an IPC pipe: nothing waiting, wrong kind and used clients are EINVAL; the handle stays")
    func acceptMisuse() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (sender, receiver) = try socketPairPipes(t, ipc: true)
        #expect(throws: UVError.invalidArgument, "neither listening nor holding a handle") {
            try receiver.accept(into: TCP(loop: t.loop))
        }
        let (client, peer) = try connectedPair(t)
        var arrived = false
        try receiver.readStart { _, status, _ in if status == 0 { arrived = true } }
        try sender.send("h", handle: peer, t.logged("write"))
        try t.run(until: { arrived && receiver.pendingCount == 1 && t.events.count == 1 })
        try receiver.readStop()
        #expect(receiver.pendingKind == .tcp)
        #expect(throws: UVError.invalidArgument, "a pipe for a TCP handle") { try receiver.accept(into: Pipe(loop: t.loop)) }
        let bound = try TCP(loop: t.loop)
        try bound.bind(host: "127.0.0.1", port: 0)
        #expect(throws: UVError.invalidArgument, "a client with a socket") { try receiver.accept(into: bound) }
        #expect(throws: UVError.invalidArgument, "a connected client") { try receiver.accept(into: client) }
        #expect(receiver.pendingCount == 1 && receiver.pendingKind == .tcp, "still waiting")
        let copy = try TCP(loop: t.loop)
        try receiver.accept(into: copy)
        #expect(receiver.pendingCount == 0 && receiver.pendingKind == nil)
        #expect(try copy.peerName() == client.socketName())
        try receiver.close()
        #expect(receiver.pendingCount == 0 && receiver.pendingKind == nil, "neutral when closed")
    }

    @Test("closing the IPC pipe cancels a queued handle write in order; the handle itself stays open")
    func closeCancelsHandleWrite() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (sender, _) = try socketPairPipes(t, ipc: true)
        let (client, peer) = try connectedPair(t)
        try sender.send([UInt8].pattern(4 << 20), t.logged("big"))
        try #require(sender.writeQueueSize > 0, "the receiver does not read")
        try sender.send("h", handle: peer, t.logged("handle"))
        try sender.send("after", t.logged("after"))
        try sender.close { _ in t.log("close") }
        try t.run(until: { t.events.contains("close") })
        #expect(t.events == ["big ECANCELED", "handle ECANCELED", "after ECANCELED", "close"])
        #expect(!peer.isClosing && peer.isWritable, "the library never closes a handle it was to send")
        let received = try collect(client, t, "client")
        try peer.send("still here", .none)
        try t.run(until: { received.bytes.count == 10 })
        #expect(text(received.bytes) == "still here")
    }
}
