import CLibUV
import SwiftUVStream
import Testing

/// Writes `parts` as one request of several buffers.
private func sendBuffers(_ stream: SwiftUVStream.Stream, _ parts: [[UInt8]], _ completion: RequestCompletion) throws {
    // Pin every part for the call; the stream copies what it keeps.
    var buffers: [uv_buf_t] = []
    var storage: [UnsafeMutableRawBufferPointer] = []
    defer { storage.forEach { $0.deallocate() } }
    for part in parts {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: part.count, alignment: 1)
        copy.copyBytes(from: part)
        storage.append(copy)
        buffers.append(uv_buf_t(
            base: part.isEmpty ? nil : copy.baseAddress?.assumingMemoryBound(to: CChar.self), len: part.count))
    }
    try buffers.withUnsafeBufferPointer { pointer in
        try stream.write(pointer, completion: completion)
    }
}

/// Shrinks the kernel's buffers between `client` and `peer` so that a large write
/// stays queued in the library while the peer does not read.
private func shrinkSocketBuffers(_ client: TCP, _ peer: TCP) throws {
    try client.setSendBufferSize(16 * 1024)
    try peer.setReceiveBufferSize(16 * 1024)
}

@Suite("Writing")
struct WriteTests {
    @Test("write callbacks run once each, in submission order, and the bytes arrive in order")
    func ordering() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        let received = try collect(peer, t, "peer")
        var expected: [UInt8] = []
        var completions: [String] = []
        for index in 0..<300 {
            // Mostly small writes, every 50th a large one so that the queue fills.
            let size = index % 50 == 49 ? 200_000 : 1 + (index * 37) % 3000
            let bytes = [UInt8].pattern(size, seed: UInt32(index + 1))
            expected += bytes
            if index % 3 == 0 {
                let parts = [Array(bytes.prefix(size / 2)), [], Array(bytes.dropFirst(size / 2))]
                try sendBuffers(client, parts, .closure { completions.append("\(index) \(statusName($0))") })
            } else {
                try client.send(bytes, .closure { completions.append("\(index) \(statusName($0))") })
            }
        }
        #expect(completions.isEmpty, "no completion inside write()")
        try t.run(until: { received.bytes.count >= expected.count && completions.count == 300 })
        #expect(completions == (0..<300).map { "\($0) 0" })
        #expect(received.bytes.count == expected.count)
        #expect(received.bytes == expected)
        #expect(client.writeQueueSize == 0)
    }

    @Test("many small writes behind a queued one are accounted exactly and coalesce in order")
    func coalescing() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        try shrinkSocketBuffers(client, peer)
        var completions: [Int] = []
        var failures: [String] = []
        let big = [UInt8].pattern(1 << 20)
        try client.send(big, .closure { status in
            if status != 0 { failures.append("big \(statusName(status))") }
            completions.append(-1)
        })
        let queuedAfterBig = client.writeQueueSize
        try #require(queuedAfterBig > 0, "the kernel cannot take 1 MiB with 16 KiB buffers")
        var expected = big
        for index in 0..<10_000 {
            let small = [UInt8]("<\(index)>".utf8)
            expected += small
            try client.send(small, .closure { status in
                if status != 0 { failures.append("\(index) \(statusName(status))") }
                completions.append(index)
            })
        }
        // No system call happened in between: the queue grew by exactly what was written.
        let smallBytes = expected.count - big.count
        #expect(client.writeQueueSize == queuedAfterBig + smallBytes)
        #expect(throws: UVError.tryAgain) { _ = try client.trySend([1]) }
        #expect(completions.isEmpty)
        let received = try collect(peer, t, "peer")
        try t.run(until: { completions.count == 10_001 && received.bytes.count >= expected.count })
        #expect(failures.isEmpty)
        #expect(completions == [-1] + Array(0..<10_000))
        #expect(received.bytes.count == expected.count)
        #expect(received.bytes == expected)
        #expect(client.writeQueueSize == 0)
    }

    @Test("an 8 MiB write queues, its buffer is free at once, and it arrives whole")
    func largeWrite() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        try shrinkSocketBuffers(client, peer)
        let size = 8 << 20
        let original = [UInt8].pattern(size, seed: 8)
        // A buffer of its own (no storage shared with `original`), overwritten below.
        var scratch = [UInt8](repeating: 0, count: size)
        scratch.withUnsafeMutableBytes { $0.copyBytes(from: original) }
        try client.send(scratch, t.logged("big"))
        // The caller may reuse its buffer as soon as write() returns.
        for index in scratch.indices { scratch[index] = 0 }
        let queued = client.writeQueueSize
        #expect(queued > 0 && queued <= size)
        #expect(client.isActive, "writing")
        #expect(throws: UVError.tryAgain) { _ = try client.trySend([1, 2, 3]) }
        try client.send([], t.logged("empty"))
        try client.send("tail", t.logged("tail"))
        #expect(client.writeQueueSize == queued + 4)
        #expect(t.events.isEmpty)
        // Nobody reads yet: loop iterations make no progress beyond the kernel buffers.
        try t.loop.run(.noWait)
        #expect(t.events.isEmpty)
        #expect(client.writeQueueSize > 0)
        let received = try collect(peer, t, "peer")
        try t.run(until: { t.events.count == 3 && received.bytes.count >= size + 4 })
        #expect(t.events == ["big 0", "empty 0", "tail 0"])
        #expect(received.bytes.count == size + 4)
        #expect(received.bytes.prefix(size).elementsEqual(original))
        #expect(text(Array(received.bytes.suffix(4))) == "tail")
        #expect(client.writeQueueSize == 0)
    }

    @Test("zero-byte writes and zero buffers complete with 0, in order, from the loop")
    func zeroByteWrites() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        let received = try collect(peer, t, "peer")
        try client.send("a", t.logged("a"))
        try client.send([], t.logged("empty"))
        try client.sendNoBuffers(t.logged("no buffers"))
        try sendBuffers(client, [[], []], t.logged("empty buffers"))
        try client.send("b", t.logged("b"))
        try sendBuffers(client, [[], [UInt8]("c"), []], t.logged("mixed"))
        try client.sendNoBuffers(.none)
        #expect(t.events.isEmpty, "never inside the call")
        try t.run(until: { t.events.count == 6 && received.bytes.count >= 3 })
        #expect(t.events == ["a 0", "empty 0", "no buffers 0", "empty buffers 0", "b 0", "mixed 0"])
        #expect(text(received.bytes) == "abc")
        #expect(try client.trySend([]) == 0, "try_write of zero bytes")
    }

    @Test("a buffer with no base but a length is rejected and its callback never runs")
    func invalidBuffer() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, _) = try connectedPair(t)
        var bad = uv_buf_t(base: nil, len: 5)
        #expect(throws: UVError.invalidArgument) {
            try withUnsafePointer(to: &bad) { pointer in
                try client.write(UnsafeBufferPointer(start: pointer, count: 1), completion: t.logged("bad"))
            }
        }
        #expect(throws: UVError.invalidArgument) {
            _ = try withUnsafePointer(to: &bad) { pointer in
                try client.tryWrite(UnsafeBufferPointer(start: pointer, count: 1))
            }
        }
        try client.send("ok", t.logged("ok"))
        try t.run(until: { !t.events.isEmpty })
        #expect(t.events == ["ok 0"])
    }

    @Test("writes on a stream that was never connected fail at the call, zero-byte ones too")
    func writeUnconnected() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let tcp = try TCP(loop: t.loop)
        #expect(throws: UVError.brokenPipe) { try tcp.send("x", t.logged("x")) }
        #expect(throws: UVError.brokenPipe) { try tcp.send([], t.logged("empty")) }
        #expect(throws: UVError.brokenPipe) { try tcp.sendNoBuffers(t.logged("none")) }
        #expect(throws: UVError.brokenPipe) { _ = try tcp.trySend([1]) }
        #expect(tcp.writeQueueSize == 0)
        try t.loop.run(.noWait)
        #expect(t.events.isEmpty)
    }

    @Test("writes made while connecting are sent after the connect, in order")
    func writeDuringConnect() throws {
        let t = try TestLoop()
        defer { t.finish() }
        var peer: TCP?
        var received = Received()
        let (server, port) = try makeAcceptingServer(t) { accepted in
            peer = accepted
            received = (try? collect(accepted, t, "peer")) ?? Received()
        }
        let client = try TCP(loop: t.loop)
        try client.connect(to: "127.0.0.1", port: port, completion: t.logged("connect"))
        #expect(client.isWritable)
        #expect(client.isActive, "connecting is active")
        try client.send("one", t.logged("one"))
        try client.send([], t.logged("empty"))
        try client.send("two", t.logged("two"))
        try sendBuffers(client, [[UInt8]("thr"), [UInt8]("ee")], t.logged("three"))
        #expect(client.writeQueueSize == 11)
        #expect(throws: UVError.tryAgain, "try_write while connecting") { _ = try client.trySend([1]) }
        #expect(t.events.isEmpty)
        try t.run(until: { t.events.count == 5 && received.bytes.count >= 11 })
        #expect(t.events == ["connect 0", "one 0", "empty 0", "two 0", "three 0"])
        #expect(text(received.bytes) == "onetwothree")
        #expect(peer != nil)
        try server.close()
    }

    @Test("try_write reports EAGAIN while writes are queued, even with room in the kernel")
    func tryWriteNeverReorders() throws {
        let t = try TestLoop()
        defer { t.finish() }
        var received = Received()
        let (server, port) = try makeAcceptingServer(t) { accepted in
            received = (try? collect(accepted, t, "peer")) ?? Received()
        }
        let client = try TCP(loop: t.loop)
        try client.connect(to: "127.0.0.1", port: port, completion: .closure { status in
            t.log("connect \(statusName(status))")
            // Connected, the kernel buffer is empty, but "first" still waits in the queue.
            t.log("try_write " + outcome { _ = try client.trySend([UInt8]("X")) })
            t.log("write " + outcome { try client.send("second", t.logged("second")) })
        })
        try client.send("first", t.logged("first"))
        try t.run(until: { received.bytes.count >= 11 && t.events.count == 5 })
        #expect(t.events == ["connect 0", "try_write EAGAIN", "write ok", "first 0", "second 0"])
        #expect(text(received.bytes) == "firstsecond")
        // Drained: try_write now writes directly.
        #expect(try client.trySend([UInt8]("tail")) == 4)
        try t.run(until: { received.bytes.count >= 15 })
        #expect(text(received.bytes) == "firstsecondtail")
        try server.close()
    }

    @Test("writeNow finishes a write the kernel takes whole, without a report; others queue and report")
    func writeNow() throws {
        let t = try TestLoop()
        defer { t.finish() }
        var received = Received()
        let (server, port) = try makeAcceptingServer(t) { accepted in
            received = (try? collect(accepted, t, "peer")) ?? Received()
        }
        func writeNow(_ stream: TCP, _ text: String) -> String {
            var bytes = Array(text.utf8)
            return bytes.withUnsafeMutableBytes { raw in
                var buffer = uv_buf_t(base: raw.baseAddress?.assumingMemoryBound(to: CChar.self), len: raw.count)
                return withUnsafePointer(to: &buffer) { pointer in
                    outcome { t.log("\(text) now: \(try stream.writeNow(UnsafeBufferPointer(start: pointer, count: 1), completion: t.logged(text)))") }
                }
            }
        }
        let client = try TCP(loop: t.loop)
        try client.connect(to: "127.0.0.1", port: port, completion: t.logged("connect"))
        // While connecting it queues, and reports like any write.
        _ = writeNow(client, "first")
        try t.run(until: { t.events.count == 3 })
        // Connected, nothing queued: the kernel takes it whole, and no report follows.
        _ = writeNow(client, "second")
        try client.send("third", t.logged("third"))
        try t.run(until: { received.bytes.count >= 16 && t.events.count == 5 })
        #expect(t.events == ["first now: false", "connect 0", "first 0", "second now: true", "third 0"])
        #expect(text(received.bytes) == "firstsecondthird")
        #expect(outcome { _ = try client.writeNow(UnsafeBufferPointer(start: nil, count: 0), completion: .none) } == "ok")
        try client.close()
        #expect(writeNow(client, "late") == "ECLOSED")
        try server.close()
    }

    @Test("a failed connect cancels the writes and the shutdown queued behind it, in order")
    func connectFailureCancelsWrites() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (_, port) = try refusingPort(t)
        let client = try TCP(loop: t.loop)
        try client.connect(to: "127.0.0.1", port: port, completion: t.logged("connect"))
        try client.send("one", t.logged("one"))
        try client.send([], t.logged("empty"))
        try client.send("two", t.logged("two"))
        try client.shutdown(completion: t.logged("shutdown"))
        #expect(throws: UVError.brokenPipe, "shut down: no more writes") { try client.send("three", t.logged("three")) }
        try t.run()
        #expect(t.events == ["connect ECONNREFUSED", "one ECANCELED", "empty ECANCELED", "two ECANCELED", "shutdown ECANCELED"])
        #expect(!client.isWritable && !client.isReadable)
        #expect(client.writeQueueSize == 0)
        #expect(throws: UVError.brokenPipe) { try client.send("late", .none) }
    }

    @Test("shutdown waits for queued writes; a second shutdown and later writes fail")
    func shutdownFlushesFirst() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        try shrinkSocketBuffers(client, peer)
        let big = [UInt8].pattern(2 << 20, seed: 3)
        try client.send(big, t.logged("big"))
        try client.send("end", t.logged("end"))
        try client.shutdown(completion: t.logged("shutdown"))
        #expect(!client.isWritable)
        #expect(client.isReadable)
        #expect(throws: UVError.notConnected) { try client.shutdown(completion: t.logged("second")) }
        #expect(throws: UVError.brokenPipe) { try client.send("more", t.logged("more")) }
        #expect(throws: UVError.brokenPipe) { _ = try client.trySend([1]) }
        let received = try collect(peer, t, "peer")
        try t.run(until: { received.end != nil && t.events.count == 4 })
        #expect(t.events == ["big 0", "end 0", "shutdown 0", "peer EOF"])
        #expect(received.bytes.count == big.count + 3)
        #expect(received.bytes == big + [UInt8]("end"))
    }

    @Test("an I/O error reaches the in-flight write and every queued one, once each, in order")
    func ioErrorFailsQueuedWrites() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        try shrinkSocketBuffers(client, peer)
        var statuses: [String: Int32] = [:]
        var order: [String] = []
        for name in ["big", "small 1", "small 2"] {
            let bytes = name == "big" ? [UInt8].pattern(1 << 20) : [UInt8](name)
            try client.send(bytes, .closure { status in
                order.append(name)
                statuses[name] = status
            })
        }
        try #require(client.writeQueueSize > 0)
        try setResetOnClose(peer)
        try peer.close()
        try t.run(until: { order.count == 3 })
        #expect(order == ["big", "small 1", "small 2"])
        let first = try #require(statuses["big"])
        #expect(first == UV_ECONNRESET.rawValue || first == UV_EPIPE.rawValue, "got \(statusName(first))")
        #expect(statuses["small 1"] == first && statuses["small 2"] == first)
        #expect(!client.isWritable)
        #expect(throws: UVError.brokenPipe) { try client.send("again", .none) }
    }

    @Test("writing to a closed peer reports an error in the callback, never SIGPIPE")
    func writeToClosedPeer() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try connectedPair(t)
        let received = try collect(client, t, "client")
        try peer.close { _ in t.log("peer closed") }
        try t.run(until: { received.end != nil })
        #expect(t.events.sorted() == ["client EOF", "peer closed"])
        // The peer's socket is gone: the first write draws a reset, a later one EPIPE.
        var writes = 0
        var failure: Int32?
        func writeMore() {
            writes += 1
            do {
                try client.send([UInt8].pattern(1024), .closure { status in
                    if status == 0 { writeMore() } else { failure = status }
                })
            } catch {
                Issue.record("write threw \(error) after \(writes) writes")
                failure = (error as? UVError)?.code ?? -1
            }
        }
        writeMore()
        try t.run(until: { failure != nil })
        let status = try #require(failure)
        #expect(status == UV_EPIPE.rawValue || status == UV_ECONNRESET.rawValue, "got \(statusName(status))")
        #expect(!client.isWritable)
    }
}
