import CLibUV
import SwiftUVStream
import Testing

/// Logs "writable <flag>" for each writability report, with whether it ran inside a
/// write() call (which it never may).
private final class WritabilityLog {
    var insideWrite = false
    var reports: [Bool] = []
}

private func watchWritability(_ stream: SwiftUVStream.Stream, _ t: TestLoop) throws -> WritabilityLog {
    let log = WritabilityLog()
    try stream.onWritabilityChanged { [unowned t] changed, writable in
        #expect(changed === stream)
        if log.insideWrite { Issue.record("writability reported inside write()") }
        log.reports.append(writable)
        t.log("writable \(writable) blocked=\(changed.isWriteBlocked)")
    }
    return log
}

/// Writes with `log.insideWrite` set for the duration of the call.
private func write(_ stream: SwiftUVStream.Stream, _ bytes: [UInt8], _ log: WritabilityLog,
                   _ completion: RequestCompletion) throws {
    log.insideWrite = true
    defer { log.insideWrite = false }
    try stream.send(bytes, completion)
}

/// A connected pair whose client cannot get much into the kernel while the peer does
/// not read, so writes queue in the library.
private func throttledPair(_ t: TestLoop) throws -> (client: TCP, peer: TCP) {
    let (client, peer) = try connectedPair(t)
    try client.setSendBufferSize(16 * 1024)
    try peer.setReceiveBufferSize(16 * 1024)
    return (client, peer)
}

@Suite("Flow control")
struct FlowControlTests {
    @Test("new streams have the default watermarks and are not blocked")
    func defaults() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let streams: [SwiftUVStream.Stream] = [try TCP(loop: t.loop), try Pipe(loop: t.loop), try Pipe(loop: t.loop, ipc: true)]
        for stream in streams {
            #expect(stream.highWatermark == 65536, "UVS_DEFAULT_HIGH_WATERMARK")
            #expect(stream.lowWatermark == 16384, "UVS_DEFAULT_LOW_WATERMARK")
            #expect(!stream.isWriteBlocked)
        }
    }

    @Test("invalid watermarks are EINVAL and change nothing; low == high and 0 are fine")
    func invalidWatermarks() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let tcp = try TCP(loop: t.loop)
        #expect(throws: UVError.invalidArgument, "low > high") { try tcp.setWriteWatermarks(high: 100, low: 101) }
        #expect(throws: UVError.invalidArgument, "negative low") { try tcp.setWriteWatermarks(high: 100, low: -1) }
        #expect(throws: UVError.invalidArgument, "negative high") { try tcp.setWriteWatermarks(high: -1, low: 0) }
        #expect(tcp.highWatermark == 65536 && tcp.lowWatermark == 16384)
        try tcp.setWriteWatermarks(high: 4096, low: 4096)
        #expect(tcp.highWatermark == 4096 && tcp.lowWatermark == 4096)
        try tcp.setWriteWatermarks(high: 0, low: 0)
        #expect(tcp.highWatermark == 0 && tcp.lowWatermark == 0)
        #expect(!tcp.isWriteBlocked, "an empty queue is not above 0")
        try tcp.onWritabilityChanged(nil)
        try tcp.close()
        #expect(throws: UVError.closed) { try tcp.setWriteWatermarks(high: 10, low: 5) }
        #expect(throws: UVError.closed) { try tcp.onWritabilityChanged { _, _ in } }
        #expect(!tcp.isWriteBlocked)
    }

    @Test("a peer that does not read: false once, from the loop; reading drains: true once")
    func blockAndDrain() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try throttledPair(t)
        let log = try watchWritability(client, t)
        // Below the high watermark: nothing to report.
        try write(client, [UInt8].pattern(1000), log, t.logged("small"))
        try t.run(until: { t.events.count == 1 })
        #expect(t.events == ["small 0"])
        #expect(!client.isWriteBlocked)

        let big = [UInt8].pattern(1 << 20, seed: 5)
        try write(client, big, log, t.logged("big"))
        #expect(client.writeQueueSize > 65536)
        #expect(client.isWriteBlocked, "the state follows at once")
        #expect(log.reports.isEmpty, "never inside write()")
        try write(client, [UInt8]("tail"), log, t.logged("tail"))  // still above: no new crossing
        try t.loop.run(.noWait)
        #expect(log.reports == [false])
        // The peer still does not read: more loop turns, no further reports.
        try t.loop.run(.noWait)
        try t.loop.run(.noWait)
        #expect(t.events == ["small 0", "writable false blocked=true"])
        #expect(client.isWriteBlocked)

        let received = try collect(peer, t, "peer")
        try t.run(until: { t.events.count == 5 && received.bytes.count == 1000 + big.count + 4 })
        // The queue falls to the low watermark only when the big batch completes; the
        // tail, submitted after it, is below the low watermark by itself.
        #expect(t.events == [
            "small 0", "writable false blocked=true", "big 0", "writable true blocked=false", "tail 0",
        ])
        #expect(log.reports == [false, true])
        #expect(!client.isWriteBlocked)
        #expect(received.bytes == [UInt8].pattern(1000) + big + [UInt8]("tail"))
    }

    @Test("each crossing is reported once: block, drain, block, drain")
    func repeatedCrossings() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try throttledPair(t)
        let log = try watchWritability(client, t)
        var received = 0
        for round in 1...2 {
            try write(client, [UInt8].pattern(512 * 1024, seed: UInt32(round)), log, t.logged("round \(round)"))
            #expect(client.isWriteBlocked)
            try t.loop.run(.noWait)
            #expect(log.reports.count == 2 * round - 1 && log.reports.last == false)
            try peer.readStart { _, status, bytes in if status == 0 { received += bytes.count } }
            try t.run(until: { log.reports.count == 2 * round && received == round * 512 * 1024 })
            try peer.readStop()
            #expect(!client.isWriteBlocked)
        }
        #expect(log.reports == [false, true, false, true])
        #expect(t.events == [
            "writable false blocked=true", "round 1 0", "writable true blocked=false",
            "writable false blocked=true", "round 2 0", "writable true blocked=false",
        ])
    }

    @Test("unregistering with nil stops the reports; isWriteBlocked still follows the queue")
    func unregister() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try throttledPair(t)
        try client.onWritabilityChanged { _, writable in t.log("first \(writable)") }
        try client.onWritabilityChanged { _, writable in t.log("second \(writable)") }  // replaces
        try client.send([UInt8].pattern(1 << 20), t.logged("big"))
        try t.loop.run(.noWait)
        #expect(t.events == ["second false"])
        try client.onWritabilityChanged(nil)
        #expect(client.isWriteBlocked)
        let received = try collect(peer, t, "peer")
        try t.run(until: { received.bytes.count == 1 << 20 && t.events.count == 2 })
        try t.loop.run(.noWait)
        #expect(t.events == ["second false", "big 0"], "no report after unregistering")
        #expect(!client.isWriteBlocked)
        // Registering again reports only later crossings.
        try client.onWritabilityChanged { _, writable in t.log("third \(writable)") }
        try t.loop.run(.noWait)
        #expect(t.events == ["second false", "big 0"])
    }

    @Test("lowering the high watermark under a queue reports from the loop, raising it back too")
    func watermarksChangedUnderQueue() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try throttledPair(t)
        let log = try watchWritability(client, t)
        try client.setWriteWatermarks(high: 1 << 30, low: 0)
        try write(client, [UInt8].pattern(1 << 20), log, t.logged("write"))
        // The queue shrinks only when the batch in flight completes: never while the
        // peer does not read.
        let queued = client.writeQueueSize
        try #require(queued > 0, "16 KiB buffers cannot take 1 MiB")
        #expect(!client.isWriteBlocked, "below the high watermark")
        try client.setWriteWatermarks(high: queued - 1, low: 0)
        #expect(client.isWriteBlocked)
        #expect(log.reports.isEmpty, "never inside setWriteWatermarks()")
        try t.loop.run(.noWait)
        #expect(log.reports == [false])
        try client.setWriteWatermarks(high: queued, low: queued)
        #expect(!client.isWriteBlocked, "at the low watermark")
        try t.loop.run(.noWait)
        #expect(log.reports == [false, true])
        // Blocked and unblocked again before the loop runs: both crossings are still
        // reported, in order (a producer that saw isWriteBlocked hears it end).
        try client.setWriteWatermarks(high: 0, low: 0)
        try client.setWriteWatermarks(high: 1 << 30, low: 1 << 30)
        #expect(log.reports == [false, true], "never inside setWriteWatermarks()")
        try t.loop.run(.noWait)
        #expect(log.reports == [false, true, false, true])
        let received = try collect(peer, t, "peer")
        try t.run(until: { received.bytes.count == 1 << 20 && t.events.contains("write 0") })
        #expect(log.reports == [false, true, false, true])
    }

    @Test("a blocked stream whose peer resets reports true once: it can no longer be written")
    func errorUnblocks() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try throttledPair(t)
        let log = try watchWritability(client, t)
        var statuses: [Int32] = []
        try write(client, [UInt8].pattern(1 << 20), log, .closure { statuses.append($0) })
        try write(client, [UInt8]("more"), log, .closure { statuses.append($0) })
        try t.loop.run(.noWait)
        #expect(log.reports == [false])
        try setResetOnClose(peer)
        try peer.close()
        try t.run(until: { statuses.count == 2 && log.reports.count == 2 })
        #expect(log.reports == [false, true])
        #expect(statuses.count == 2 && statuses.allSatisfy { $0 < 0 }, "\(statuses.map(statusName))")
        #expect(!client.isWriteBlocked && !client.isWritable)
        #expect(client.writeQueueSize == 0)
    }

    @Test("flow control on a pipe: the same crossings over a socket pair")
    func pipeFlowControl() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (a, b) = try socketPairPipes(t)
        try a.setWriteWatermarks(high: 1024, low: 512)
        let log = try watchWritability(a, t)
        let payload = [UInt8].pattern(2 << 20, seed: 9)
        try write(a, payload, log, t.logged("write"))
        #expect(a.isWriteBlocked && log.reports.isEmpty)
        try t.loop.run(.noWait)
        #expect(log.reports == [false])
        let received = try collect(b, t, "b")
        try t.run(until: { received.bytes.count == payload.count && log.reports.count == 2 })
        #expect(t.events == ["writable false blocked=true", "write 0", "writable true blocked=false"])
        #expect(received.bytes == payload)
    }

    @Test("writes queued while connecting cross the high watermark; the failed connect cancels them: true")
    func blockedWhileConnecting() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (_, port) = try refusingPort(t)
        let client = try TCP(loop: t.loop)
        let log = try watchWritability(client, t)
        try client.connect(to: "127.0.0.1", port: port, completion: t.logged("connect"))
        try write(client, [UInt8].pattern(100_000), log, t.logged("write"))
        #expect(client.isWriteBlocked && client.writeQueueSize == 100_000)
        #expect(log.reports.isEmpty)
        try t.run(until: { log.reports.count == 2 })
        #expect(t.events == ["writable false blocked=true", "connect ECONNREFUSED", "write ECANCELED", "writable true blocked=false"])
        #expect(!client.isWriteBlocked && client.writeQueueSize == 0)
    }

    @Test("after a refused connect the stream is done: a second connect is EINVAL, writes EPIPE, with nothing queued")
    func queueAfterFailedConnect() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (holder, refusing) = try refusingPort(t)
        let client = try TCP(loop: t.loop)
        try client.connect(to: "127.0.0.1", port: refusing, completion: t.logged("first"))
        try client.send([UInt8]("queued"), t.logged("queued"))
        try t.run(until: { t.events.count == 2 })
        try holder.close()
        #expect(t.events == ["first ECONNREFUSED", "queued ECANCELED"])
        // libuv cannot reuse a socket whose connect failed: the library says so at once.
        let (server, port) = try makeAcceptingServer(t) { _ in }
        let second = outcome { try client.connect(to: "127.0.0.1", port: port, completion: t.logged("second")) }
        #expect(second == "EINVAL")
        #expect(!client.isReadable && !client.isWritable && !client.isActive)
        #expect(client.writeQueueSize == 0 && !client.isWriteBlocked)
        #expect(outcome { try client.send([UInt8]("late"), t.logged("late")) } == "EPIPE")
        // A new handle connects to the same server.
        let fresh = try TCP(loop: t.loop)
        try fresh.connect(to: "127.0.0.1", port: port, completion: t.logged("fresh"))
        try t.run(until: { t.events.count == 3 })
        try server.close()
        #expect(t.events == ["first ECONNREFUSED", "queued ECANCELED", "fresh 0"])
    }

    @Test("a producer that writes until blocked and resumes on true moves 8 MiB in order with a bounded queue")
    func producerPump() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let (client, peer) = try throttledPair(t)
        let total = 8 << 20
        let chunk = 48 * 1024
        let payload = [UInt8].pattern(total, seed: 12)
        var offset = 0
        var maxQueue = 0
        var reports: [Bool] = []
        var failures: [String] = []
        func produce() {
            while offset < total && !client.isWriteBlocked {
                let end = min(offset + chunk, total)
                do {
                    try client.send(Array(payload[offset..<end]), .closure { status in
                        if status != 0 { failures.append(statusName(status)) }
                    })
                } catch {
                    failures.append("write threw \(error)")
                    return
                }
                offset = end
                maxQueue = max(maxQueue, client.writeQueueSize)
            }
        }
        try client.onWritabilityChanged { _, writable in
            reports.append(writable)
            if writable { produce() }
        }
        produce()
        let received = try collect(peer, t, "peer")
        try t.run(until: { received.bytes.count == total && !client.isActive })
        #expect(failures.isEmpty)
        #expect(offset == total)
        #expect(received.bytes == payload)
        #expect(maxQueue <= client.highWatermark + chunk, "the producer stops once above the high watermark")
        #expect(!reports.isEmpty && reports.count % 2 == 0)
        #expect(reports == Array(repeating: [false, true], count: reports.count / 2).flatMap { $0 },
                "false and true alternate")
        #expect(!client.isWriteBlocked)
    }

    @Test("a queue that rises above the high watermark and drains before the loop turns still reports both crossings")
    func collapsedCrossing() throws {
        // A handle travels with the first byte, so a write with one never goes straight
        // to the socket: all 100 KB queue (isWriteBlocked turns true), then libuv hands
        // them to an empty socket pair at once.
        let t = try TestLoop()
        defer { t.finish() }
        let (sender, receiver) = try socketPairPipes(t, ipc: true)
        let (_, peer) = try connectedPair(t)
        let log = try watchWritability(sender, t)
        log.insideWrite = true
        try sender.send([UInt8].pattern(100_000), handle: peer, t.logged("write"))
        log.insideWrite = false
        #expect(sender.isWriteBlocked, "100 KB queued: above the high watermark")
        let received = try collect(receiver, t, "receiver")
        try t.run(until: { received.bytes.count == 100_000 && t.events.contains("write 0") })
        try t.loop.run(.noWait)
        #expect(!sender.isWriteBlocked)
        // The header: "called from the loop once per crossing: with 0 when the write
        // queue rises above the high watermark, then with 1 when it falls". A producer
        // that saw isWriteBlocked and waits for true must get it.
        #expect(log.reports == [false, true])
    }
}
