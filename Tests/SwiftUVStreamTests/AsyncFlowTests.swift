import CLibUV
import Glibc
import SwiftUVStream
import Testing

@Suite("Async backpressure", .timeLimit(.minutes(1)))
struct AsyncBackpressureTests {
    @Test("a slow reader keeps the buffered bytes under the high watermark plus one read; nothing is lost")
    func slowReader() async throws {
        let readSize = 4096
        try await onLoopThread(bufferSize: readSize) { thread in
            let (client, peer) = try await asyncPair(thread)
            let payload = [UInt8].pattern(2 << 20, seed: 7)
            let high = 32 * 1024
            let low = 8 * 1024
            let reads = try peer.reads(highWatermark: high, lowWatermark: low)
            let reader = Task {
                _ = thread
                var received: [UInt8] = []
                var peak = 0
                var sawReadingStopped = false
                var chunks = 0
                for try await chunk in reads {
                    received += chunk
                    #expect(chunk.count <= readSize)
                    chunks += 1
                    if chunks % 16 == 0 {
                        // A slow consumer: the writer fills the buffer meanwhile.
                        try await thread.loop.sleep(milliseconds: 2)
                        peak = max(peak, reads.bufferedByteCount)
                        if !peer.isReading { sawReadingStopped = true }
                    }
                    peak = max(peak, reads.bufferedByteCount)
                }
                return (received: received, peak: peak, sawReadingStopped: sawReadingStopped)
            }
            for start in stride(from: 0, to: payload.count, by: 65536) {
                try await client.write(payload[start..<min(start + 65536, payload.count)])
            }
            try await client.shutdown()
            let result = try await reader.value
            #expect(result.received == payload)
            #expect(result.peak <= high + readSize, "buffered bytes stay bounded")
            #expect(result.peak > low, "the reader was slow enough to fill the buffer")
            #expect(result.sawReadingStopped, "reading was stopped above the high watermark")
            try await client.close()
            try await peer.close()
        }
    }

    @Test("a writer to a peer that does not read suspends with the queue bounded; it resumes when the peer reads")
    func writerSuspends() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            let high = 64 * 1024
            let low = 16 * 1024
            try client.setWriteWatermarks(high: high, low: low)
            try client.setSendBufferSize(16 * 1024)
            try peer.setReceiveBufferSize(16 * 1024)
            let chunk = 16 * 1024
            let payload = [UInt8].pattern(4 << 20, seed: 3)
            let progress = Progress()
            var peakAfterWrite = 0
            let writer = Task {
                _ = thread
                for start in stride(from: 0, to: payload.count, by: chunk) {
                    try await client.write(payload[start..<start + chunk])
                    peakAfterWrite = max(peakAfterWrite, client.writeQueueSize)
                    progress.count += 1
                }
                try await client.shutdown()
                progress.done = true
            }
            try await thread.loop.sleep(milliseconds: 100)
            let stalledAt = progress.count
            try await thread.loop.sleep(milliseconds: 50)
            #expect(!progress.done)
            #expect(progress.count == stalledAt, "the writer is suspended, not spinning")
            #expect(client.isWriteBlocked)
            #expect(client.writeQueueSize <= high + chunk)
            let received = try await readAll(peer)
            try await writer.value
            #expect(progress.done)
            #expect(received == payload)
            #expect(peakAfterWrite <= high, "write returns only with the queue at most at the high watermark")
            try await client.close()
            try await peer.close()
        }
    }

    @Test("reads may stop and resume: break out of the loop and iterate again without loss")
    func breakAndResume() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            let payload = [UInt8].pattern(256 * 1024, seed: 11)
            let writer = Task {
                _ = thread
                try await client.write(payload)
                try await client.shutdown()
            }
            var received: [UInt8] = []
            for try await chunk in try peer.reads() {
                received += chunk
                if received.count >= 1000 { break }
            }
            // Another task waits on the same buffer: busy.
            try await thread.loop.sleep(milliseconds: 5)
            for try await chunk in try peer.reads() { received += chunk }
            try await writer.value
            #expect(received == payload)
            try await client.close()
            try await peer.close()
        }
    }

    @Test("two tasks waiting on the same stream's reads: the second is EBUSY")
    func oneReaderAtATime() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            let first = Task {
                _ = thread
                return await asyncOutcome { _ = try await readAll(peer) }
            }
            try await thread.loop.sleep(milliseconds: 10)
            #expect(await asyncOutcome { _ = try await readAll(peer) } == "EBUSY")
            try await client.shutdown()
            #expect(await first.value == "ok")
            try await client.close()
            try await peer.close()
        }
    }

    @Test("watermarks out of order are EINVAL")
    func badWatermarks() async throws {
        try await onLoopThread { thread in
            let stream = try TCP(loop: thread.loop)
            #expect(outcome { _ = try stream.reads(highWatermark: 10, lowWatermark: 11) } == "EINVAL")
            #expect(outcome { _ = try stream.reads(highWatermark: 10, lowWatermark: -1) } == "EINVAL")
            #expect(outcome { _ = try stream.reads(highWatermark: 0, lowWatermark: 0) } == "ok")
            #expect(await asyncOutcome { for try await _ in try stream.reads() {} } == "ENOTCONN")
            try await stream.close()
        }
    }
}

@Suite("Async cancellation", .timeLimit(.minutes(1)))
struct AsyncCancellationTests {
    @Test("cancelling a task waiting for data stops reading and closes the stream")
    func cancelReader() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            let reader = Task {
                _ = thread
                return await asyncOutcome { _ = try await readAll(peer) }
            }
            try await thread.loop.sleep(milliseconds: 10)
            #expect(peer.isReading)
            reader.cancel()
            #expect(await reader.value == "ECANCELED")
            #expect(peer.isClosed)
            try await client.close()
        }
    }

    @Test("a cancelled task that still has buffered data to read gets ECANCELED and closes the stream")
    func cancelledWithData() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            try await client.write(Array("pending".utf8))
            try await client.flush()
            try await thread.loop.sleep(milliseconds: 10)
            let reader = Task {
                _ = thread
                withUnsafeCurrentTask { $0?.cancel() }
                return await asyncOutcome { _ = try await readAll(peer) }
            }
            #expect(await reader.value == "ECANCELED")
            #expect(peer.isClosing)
            try await peer.close()
            try await client.close()
        }
    }

    @Test("cancelling a task waiting for connections closes the listener")
    func cancelAccept() async throws {
        try await onLoopThread { thread in
            let (server, _) = try listeningServer(thread)
            let connections = try server.connections()
            let acceptor = Task {
                _ = thread
                return await asyncOutcome { for try await _ in connections {} }
            }
            try await thread.loop.sleep(milliseconds: 10)
            acceptor.cancel()
            #expect(await acceptor.value == "ECANCELED")
            #expect(server.isClosed)
        }
    }

    @Test("cancelling a writer suspended above the high watermark closes the stream")
    func cancelWriter() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            try client.setWriteWatermarks(high: 1024, low: 0)
            let writer = Task {
                _ = thread
                return await asyncOutcome {
                    while true { try await client.write([UInt8](repeating: 1, count: 1 << 20)) }
                }
            }
            while !client.isWriteBlocked { try await thread.loop.sleep(milliseconds: 1) }
            try await thread.loop.sleep(milliseconds: 10)
            writer.cancel()
            #expect(await writer.value == "ECANCELED")
            #expect(client.isClosed)
            try await peer.close()
        }
    }

    @Test("a cancelled task's connect, write, shutdown and sleep end with ECANCELED; the handle is closed")
    func cancelledBeforeTheCall() async throws {
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let outcomes = Task {
                _ = thread
                withUnsafeCurrentTask { $0?.cancel() }
                let connecting = try TCP(loop: thread.loop)
                let connect = await asyncOutcome { try await connecting.connect(to: "127.0.0.1", port: port) }
                let closedAfter = connecting.isClosing
                try await connecting.close()
                let sleep = await asyncOutcome { try await thread.loop.sleep(milliseconds: 10_000) }
                return [connect, "\(closedAfter)", sleep]
            }
            #expect(try await outcomes.value == ["ECANCELED", "true", "ECANCELED"])

            let (client, peer) = try await asyncPair(thread)
            let writer = Task {
                _ = thread
                withUnsafeCurrentTask { $0?.cancel() }
                return [
                    await asyncOutcome { try await client.write([1]) },
                    await asyncOutcome { try await client.shutdown() },
                ]
            }
            // The write closed the handle; the cancelled task's next call on it is
            // ECANCELED too (ECLOSED for a task that is not cancelled).
            #expect(await writer.value == ["ECANCELED", "ECANCELED"])
            #expect(await asyncOutcome { try await client.shutdown() } == "ECLOSED")
            try await client.close()
            try await peer.close()
            try await server.close()
        }
    }

    @Test("a sleep cancelled while waiting ends at once with ECANCELED, its timer closed")
    func cancelSleep() async throws {
        try await onLoopThread { thread in
            let sleeper = Task {
                _ = thread
                return await asyncOutcome { try await thread.loop.sleep(milliseconds: 60_000) }
            }
            try await thread.loop.sleep(milliseconds: 10)
            #expect(thread.loop.handleCount == 1)
            sleeper.cancel()
            #expect(await sleeper.value == "ECANCELED")
            #expect(thread.loop.handleCount == 0)
        }
    }
}

/// Runs `body` inside `TCP.withConnection` to `port` in a task of its own, cancels the
/// task once `body` has started (and `settle` more milliseconds have passed), and returns
/// the task's outcome (see `asyncOutcome`).
private func cancelInsideConnection(
    _ thread: isolated LoopThread, port: Int, settle: UInt64 = 0,
    _ body: nonisolated(nonsending) @escaping (TCP) async throws -> Void
) async throws -> String {
    let started = Progress()
    let task = Task {
        _ = thread
        return await asyncOutcome {
            try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
                started.done = true
                try await body(connection)
            }
        }
    }
    while !started.done { try await thread.loop.sleep(milliseconds: 1) }
    if settle > 0 { try await thread.loop.sleep(milliseconds: settle) }
    task.cancel()
    return await task.value
}

@Suite("Scoped connections", .timeLimit(.minutes(1)))
struct ScopedConnectionTests {
    @Test("withConnection closes the connection when the body returns")
    func closesOnReturn() async throws {
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            var kept: TCP?
            let value = try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
                kept = connection
                #expect(connection.isReadable && connection.isWritable)
                return 7
            }
            #expect(value == 7)
            #expect(kept?.isClosed == true)
            try await server.close()
        }
    }

    @Test("withConnection closes the connection when the body throws, and rethrows")
    func closesOnThrow() async throws {
        struct BodyFailed: Error {}
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            var kept: TCP?
            var caught: (any Error)?
            do {
                try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
                    kept = connection
                    try await connection.write(Array("half a message".utf8))
                    throw BodyFailed()
                }
            } catch {
                caught = error
            }
            #expect(caught is BodyFailed)
            #expect(kept?.isClosed == true)
            try await server.close()
        }
    }

    @Test("withConnection: a cancelled body closes the connection and ends with ECANCELED")
    func cancelledBody() async throws {
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let outcome = try await cancelInsideConnection(thread, port: port) { connection in
                for try await _ in try connection.reads() {}
            }
            #expect(outcome == "ECANCELED")
            try await server.close()
        }
    }

    @Test("withConnection: another task reading the connection, cancelled alone, ends with ECANCELED")
    func cancelledReaderInsideScope() async throws {
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let outcome = try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
                // The scope's handler covers the scope's own task only: this reader
                // needs its own, or cancelling it would leave it waiting for data.
                let reader = Task {
                    _ = thread
                    return await asyncOutcome { for try await _ in try connection.reads() {} }
                }
                try await thread.loop.sleep(milliseconds: 10)
                #expect(connection.isReading)
                reader.cancel()
                let outcome = await reader.value
                #expect(connection.isClosing)
                return outcome
            }
            #expect(outcome == "ECANCELED")
            try await server.close()
        }
    }

    @Test("withConnection: a body cancelled between waits gets ECANCELED from its next read and write")
    func bodyCancelledBetweenWaits() async throws {
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let progress = Progress()
            let task = Task {
                _ = thread
                return await asyncOutcome {
                    try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
                        try await connection.write(Array("ping".utf8))
                        var reads = try connection.reads().makeAsyncIterator()
                        _ = try await reads.next()
                        withUnsafeCurrentTask { $0?.cancel() }
                        progress.events.append(await asyncOutcome { _ = try await reads.next() })
                        progress.events.append(await asyncOutcome { try await connection.write(Array("late".utf8)) })
                        progress.done = connection.isClosing
                    }
                }
            }
            #expect(await task.value == "ok")   // the body returned; the scope closed the connection
            #expect(progress.events == ["ECANCELED", "ECANCELED"])
            #expect(progress.done)
            try await server.close()
        }
    }

    @Test("withConnection: cancelling the task closes the connection at once, while the body is not waiting on it")
    func cancelClosesAtOnce() async throws {
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let seen = Progress()
            let outcome = try await cancelInsideConnection(thread, port: port) { connection in
                // Busy, not waiting on the connection: only the scope's handler can
                // close it (the posted close runs between the yields).
                var yields = 0
                while !connection.isClosing, yields < 100_000 {
                    await Task.yield()
                    yields += 1
                }
                seen.done = connection.isClosing
            }
            #expect(outcome == "ok")
            #expect(seen.done)
            try await server.close()
        }
    }

    @Test("a scope nested in a scope of the same connection: cancelling the task still ends its read")
    func nestedScopes() async throws {
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let outcome = try await cancelInsideConnection(thread, port: port, settle: 5) { connection in
                try await connection.closing { connection in
                    for try await _ in try connection.reads() {}
                }
            }
            #expect(outcome == "ECANCELED")
            try await server.close()
        }
    }

    @Test("closing(_:) scopes an accepted connection; serve closes each connection after its handler")
    func closingAndServe() async throws {
        try await onLoopThread { thread in
            let (server, port) = try listeningServer(thread)
            let connections = try server.connections()
            let served = Progress()
            let serving = Task {
                _ = thread
                return await asyncOutcome {
                    try await connections.serve { connection in
                        served.count += 1
                        let request = try await readAll(connection)
                        if text(request) == "fail" { throw UVError.invalidArgument }
                        try await connection.write(request.reversed())
                        try await connection.shutdown()
                    }
                }
            }
            for message in ["abc", "fail", "xyz"] {
                let reply = try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
                    try await connection.write(Array(message.utf8))
                    try await connection.shutdown()
                    return text(try await readAll(connection))
                }
                #expect(reply == (message == "fail" ? "" : String(message.reversed())))
            }
            #expect(served.count == 3)
            // A connection still being served when the listener closes is cancelled.
            let idle = try TCP(loop: thread.loop)
            try await idle.connect(to: "127.0.0.1", port: port)
            while served.count < 4 { try await thread.loop.sleep(milliseconds: 1) }
            try await server.close()
            #expect(await serving.value == "ECANCELED")
            #expect(text(try await readAll(idle)) == "", "the served connection was closed")
            try await idle.close()

            let (other, otherPort) = try listeningServer(thread)
            let kept = Box<TCP?>(nil)
            let otherConnections = try other.connections()
            let accepting = Task {
                _ = thread
                for try await connection in otherConnections {
                    kept.value = connection
                    try await connection.closing { connection in
                        try await connection.write(Array("bye".utf8))
                    }
                    return
                }
            }
            let greeting = try await TCP.withConnection(to: "127.0.0.1", port: otherPort, on: thread.loop) {
                text(try await readAll($0))
            }
            #expect(greeting == "bye")
            try await accepting.value
            #expect(kept.value?.isClosed == true)
            try await other.close()
        }
    }
}
