import CLibUV
import Glibc
import SwiftUVStream
import Synchronization
import Testing

@Suite("LoopThread", .timeLimit(.minutes(1)))
struct LoopThreadTests {
    @Test("the body runs on the loop's thread: loop calls work, and the executor says so")
    func runsOnLoopThread() async throws {
        let outcome = try await onLoopThread { thread in
            try thread.loop.checkThread()
            thread.executor.checkIsolated()
            thread.preconditionIsolated()
            let timer = try SwiftUVStream.Timer(loop: thread.loop)
            try await timer.close()
            return thread.loop.isRunning
        }
        #expect(outcome)
    }

    @Test("child tasks made in run() prefer the loop's task executor: they run on the loop's thread")
    func childTasksRunOnLoopThread() async throws {
        let threads = try await onLoopThread { thread in
            let loopThread = pthread_self()
            let children = await withTaskGroup(of: pthread_t.self) { group in
                for _ in 0..<4 {
                    group.addTask { await threadOfNonisolatedCode() }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            async let later = threadOfNonisolatedCode()
            let unstructured = await Task(executorPreference: thread.taskExecutor) {
                await threadOfNonisolatedCode()
            }.value
            return (loopThread, children + [await later, unstructured])
        }
        #expect(threads.1.count == 6)
        #expect(threads.1.allSatisfy { $0 == threads.0 })
    }

    @Test("a task preferring the loop's task executor may outlive its LoopThread: it runs on")
    func taskExecutorOutlivesThread() async throws {
        var thread: LoopThread? = try LoopThread()
        let executor = try #require(thread?.taskExecutor)
        #expect(await thread?.shutdown() == 0)
        thread = nil
        let value = await Task(executorPreference: executor) {
            _ = await threadOfNonisolatedCode()
            return 7
        }.value
        #expect(value == 7)
    }

    @Test("tasks that keep resuming each other do not starve the loop's I/O and timers")
    func busyTasksDoNotStarveTheLoop() async throws {
        let yields = try await onLoopThread { thread in
            let stop = Unchecked(Progress())
            // On the loop's task executor, each yield re-enqueues the task on the loop's
            // own thread: it never leaves the local job queue.
            let spinner = Task(executorPreference: thread.taskExecutor) {
                var count = 0
                while !stop.value.done {
                    await Task.yield()
                    count += 1
                }
                return count
            }
            try await thread.loop.sleep(milliseconds: 30)
            stop.value.done = true
            return await spinner.value
        }
        // The timer fired while the spinner was still yielding: the loop went on polling.
        #expect(yields > 0)
    }

    @Test("code not isolated to the thread gets wrongThread from the loop and its handles")
    func otherThreadsAreRejected() async throws {
        let thread = try LoopThread()
        let smuggled = await thread.run { thread in
            Unchecked((loop: thread.loop, timer: try? SwiftUVStream.Timer(loop: thread.loop)))
        }
        let loop = smuggled.value.loop
        #expect(outcome { _ = try TCP(loop: loop) } == "EWRONGTHREAD")
        #expect(outcome { try loop.stop() } == "EWRONGTHREAD")
        let timer = try #require(smuggled.value.timer)
        #expect(outcome { try timer.start(timeout: 1) { _ in } } == "EWRONGTHREAD")
        #expect(await asyncOutcome { try await timer.close() } == "EWRONGTHREAD")
        await thread.run { _ in
            _ = smuggled
            try? smuggled.value.timer?.close(nil)
        }
        #expect(await thread.shutdown() == 0)
    }

    @Test("shutdown reports the handles left open, closes them, and their tasks end canceled")
    func shutdownClosesWhatIsLeft() async throws {
        let thread = try LoopThread()
        let acceptor = try await thread.run { thread in
            let (server, _) = try listeningServer(thread)
            let connections = try server.connections()
            _ = try TCP(loop: thread.loop)
            let task = Task {
                _ = thread
                do throws(UVError) {
                    for try await _ in connections {}
                    return "ended"
                } catch {
                    return error.name
                }
            }
            // Let the task reach its suspension point.
            try await thread.loop.sleep(milliseconds: 20)
            return task
        }
        #expect(await thread.shutdown() == 2)
        #expect(await thread.shutdown() == 0, "a second shutdown has nothing to do")
        #expect(await acceptor.value == "ECANCELED")
    }

    @Test("after shutdown, code isolated to the thread still runs, and every call reports closed")
    func afterShutdown() async throws {
        let thread = try LoopThread()
        #expect(await thread.shutdown() == 0)
        let outcomes = await thread.run { thread in
            [
                outcome { _ = try TCP(loop: thread.loop) },
                outcome { try thread.loop.run() },
                thread.loop.isClosed ? "closed" : "open",
            ]
        }
        #expect(outcomes == ["ECLOSED", "ECLOSED", "closed"])
    }

    @Test("withLoopThread returns the body's result and shuts down, also when the body throws")
    func withLoopThread() async throws {
        let value = try await LoopThread.withLoopThread { thread in
            try await thread.loop.sleep(milliseconds: 1)
            return 42
        }
        #expect(value == 42)
        struct Failure: Error {}
        var thrown: (any Error)?
        do {
            _ = try await LoopThread.withLoopThread { thread -> Int in
                _ = try TCP(loop: thread.loop)   // left open: shutdown closes it
                throw Failure()
            }
        } catch {
            thrown = error
        }
        #expect(thrown is Failure)
    }

    @Test("a LoopThread dropped without shutdown shuts down by itself")
    func droppedWithoutShutdown() async throws {
        var thread: LoopThread? = try LoopThread()
        let value = try await thread?.run { thread in
            try await thread.loop.sleep(milliseconds: 1)
            return 5
        }
        #expect(value == 5)
        thread = nil
        // Nothing to observe but the absence of a crash or a hang.
        try await Task.sleep(nanoseconds: 20_000_000)
    }

    @Test("many tasks on one thread interleave on the loop's thread")
    func manyTasks() async throws {
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let results = Unchecked(Progress())
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let echoed = try? await thread.run { thread in
                            try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
                                try await connection.write(Array("message \(index)".utf8))
                                try await connection.shutdown()
                                return text(try await readAll(connection))
                            }
                        }
                        await thread.run { _ in
                            if echoed == "message \(index)" { results.value.count += 1 }
                        }
                    }
                }
            }
            #expect(results.value.count == 20)
            try await server.close()
        }
    }
}

@Suite("Async streams", .timeLimit(.minutes(1)))
struct AsyncStreamTests {
    @Test("connect, accept, echo with half-close: reads end at EOF")
    func echoRoundTrip() async throws {
        try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let reply = try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
                try await connection.write(Array("hello ".utf8))
                try await connection.write("world".utf8)
                try await connection.shutdown()
                #expect(!connection.isWritable)
                return try await readAll(connection)
            }
            #expect(text(reply) == "hello world")
            try await server.close()
        }
    }

    @Test("a refused connect throws ECONNREFUSED; the stream is then done and closes cleanly")
    func refusedConnect() async throws {
        try await onLoopThread { thread in
            let holder = try TCP(loop: thread.loop)
            try holder.bind(host: "127.0.0.1", port: 0)
            let port = try holder.socketName().port
            let client = try TCP(loop: thread.loop)
            let first = await asyncOutcome { try await client.connect(to: "127.0.0.1", port: port) }
            let second = await asyncOutcome { try await client.connect(to: "127.0.0.1", port: port) }
            #expect(first == "ECONNREFUSED")
            #expect(second == "EINVAL")
            try await client.close()
            try await holder.close()
            let scoped = await asyncOutcome {
                try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { _ in }
            }
            #expect(scoped == "ECONNREFUSED")
            #expect(await asyncOutcome { try await client.connect(to: "not an address", port: 1) } == "ECLOSED")
        }
    }

    @Test("a reader waiting while the connect fails ends with the connect's error")
    func readerOfAFailedConnect() async throws {
        try await onLoopThread { thread in
            let holder = try TCP(loop: thread.loop)
            try holder.bind(host: "127.0.0.1", port: 0)
            let port = try holder.socketName().port
            let client = try TCP(loop: thread.loop)
            // Tasks on the loop's executor start in order: the connect begins, then the
            // reader starts reading the connecting stream and waits.
            let connecting = Task {
                await asyncOutcome(isolation: thread) { try await client.connect(to: "127.0.0.1", port: port) }
            }
            let reading = Task {
                await asyncOutcome(isolation: thread) { for try await _ in try client.reads() {} }
            }
            #expect(await connecting.value == "ECONNREFUSED")
            #expect(await reading.value == "ECONNREFUSED")
            try await client.close()
            try await holder.close()
        }
    }

    @Test("bad addresses fail at the call")
    func badAddress() async throws {
        try await onLoopThread { thread in
            let client = try TCP(loop: thread.loop)
            #expect(await asyncOutcome { try await client.connect(to: "localhost", port: 80) } == "EINVAL")
            #expect(await asyncOutcome { try await client.connect(to: "127.0.0.1", port: 70000) } == "EINVAL")
            try await client.close()
        }
    }

    @Test("connections that arrive before anyone iterates are not lost")
    func acceptLater() async throws {
        try await onLoopThread { thread in
            let (server, port) = try listeningServer(thread)
            let connections = try server.connections()
            var clients: [TCP] = []
            for _ in 0..<3 {
                let client = try TCP(loop: thread.loop)
                try await client.connect(to: "127.0.0.1", port: port)
                clients.append(client)
            }
            var iterator = connections.makeAsyncIterator()
            var accepted: [TCP] = []
            for _ in 0..<3 {
                accepted.append(try #require(try await iterator.next()))
            }
            for (index, client) in clients.enumerated() {
                try await client.write(Array("client \(index)".utf8))
                try await client.shutdown()
            }
            var received: [String] = []
            for peer in accepted {
                received.append(text(try await readAll(peer)))
                #expect(try peer.peerName().host == "127.0.0.1")
            }
            #expect(received.sorted() == ["client 0", "client 1", "client 2"])
            for handle in clients + accepted { try await handle.close() }
            try await server.close()
        }
    }

    @Test("a busy port: libuv defers EADDRINUSE to connections()")
    func busyPort() async throws {
        try await onLoopThread { thread in
            let (first, port) = try listeningServer(thread)
            _ = try first.connections()
            let second = try TCP(loop: thread.loop)
            #expect(outcome { try second.bind(host: "127.0.0.1", port: port) } == "ok")
            #expect(outcome { _ = try second.connections() } == "EADDRINUSE")
            try await second.close()
            try await first.close()
        }
    }

    @Test("EOF ends the reads once; the stream can still write and shut down")
    func endOfFileOnce() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            try await client.write(Array("question".utf8))
            try await client.shutdown()
            var iterator = try peer.reads().makeAsyncIterator()
            var received: [UInt8] = []
            while let chunk = try await iterator.next() { received += chunk }
            #expect(text(received) == "question")
            #expect(try await iterator.next() == nil, "EOF is reported once: then nil")
            #expect(!peer.isReadable)
            #expect(peer.isWritable)
            try await peer.write(Array("answer".utf8))
            try await peer.shutdown()
            #expect(text(try await readAll(client)) == "answer")
            try await client.close()
            try await peer.close()
        }
    }

    @Test("a reset is thrown once by the reads; then the stream is neither readable nor writable")
    func resetOnce() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            try setAbortiveClose(client)
            try await client.close()
            var iterator = try peer.reads().makeAsyncIterator()
            var errors: [String] = []
            do throws(UVError) {
                while try await iterator.next() != nil {}
            } catch {
                errors.append(error.name)
            }
            #expect(errors == ["ECONNRESET"])
            #expect(try await iterator.next() == nil, "reported once: then nil")
            #expect(!peer.isReadable)
            #expect(!peer.isWritable)
            #expect(await asyncOutcome { try await peer.write([1]) } == "EPIPE")
            try await peer.close()
        }
    }

    @Test("zero-byte writes and flush are defined and complete")
    func zeroByteWrites() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            try await client.write([UInt8]())
            try await client.write(EmptyCollection<UInt8>())
            try await client.flush()
            try await client.write(Array("x".utf8))
            try await client.flush()
            #expect(client.writeQueueSize == 0)
            try await client.shutdown()
            #expect(text(try await readAll(peer)) == "x")
            try await client.close()
            try await peer.close()
        }
    }

    @Test("shutdown flushes the queued writes first; later writes are EPIPE, a second shutdown ENOTCONN")
    func shutdownRules() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            let payload = [UInt8].pattern(1 << 20)
            try client.setWriteWatermarks(high: 1 << 30, low: 0)
            try await client.write(payload)       // queued: the peer is not reading yet
            let reader = Task {
                _ = thread
                return try await readAll(peer)
            }
            try await client.shutdown()
            #expect(client.writeQueueSize == 0)
            #expect(await asyncOutcome { try await client.write([1]) } == "EPIPE")
            #expect(await asyncOutcome { try await client.shutdown() } == "ENOTCONN")
            let received = try await reader.value
            #expect(received == payload)
            try await client.close()
            try await peer.close()
        }
    }

    @Test("close is idempotent; every later call reports closed")
    func closeIdempotent() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            try await client.close()
            try await client.close()
            #expect(client.isClosed)
            #expect(await asyncOutcome { try await client.write([1]) } == "ECLOSED")
            #expect(await asyncOutcome { try await client.flush() } == "ECLOSED")
            #expect(await asyncOutcome { try await client.shutdown() } == "ECLOSED")
            #expect(await asyncOutcome { try await client.connect(to: "127.0.0.1", port: 1) } == "ECLOSED")
            #expect(await asyncOutcome { for try await _ in try client.reads() {} } == "ECLOSED")
            #expect(outcome { _ = try client.connections() } == "ECLOSED")
            // Closing while another close is under way waits for the same close.
            peer.closeWithoutWaiting()
            try await peer.close()
            #expect(peer.isClosed)
        }
    }

    @Test("closing a stream resumes a waiting reader, a blocked writer and a pending connect with ECANCELED")
    func closeCancelsWaiters() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            try client.setWriteWatermarks(high: 1024, low: 0)
            try client.setSendBufferSize(4096)
            let reader = Task {
                _ = thread
                return await asyncOutcome { for try await _ in try client.reads() {} }
            }
            let writer = Task {
                _ = thread
                return await asyncOutcome {
                    while true { try await client.write([UInt8](repeating: 7, count: 65536)) }
                }
            }
            // Let both reach their suspension points.
            while !client.isWriteBlocked { try await thread.loop.sleep(milliseconds: 1) }
            try await thread.loop.sleep(milliseconds: 10)
            try await client.close()
            #expect(await reader.value == "ECANCELED")
            #expect(await writer.value == "ECANCELED")

            let (holder, port) = try listeningServer(thread)
            let connecting = try TCP(loop: thread.loop)
            // A zero timer fires in the next iteration's timer phase, before the poll
            // phase that could complete the connect: the close finds it pending.
            let closer = try SwiftUVStream.Timer(loop: thread.loop)
            try closer.start(timeout: 0) { _ in connecting.closeWithoutWaiting() }
            let status = await asyncOutcome { try await connecting.connect(to: "127.0.0.1", port: port) }
            #expect(status == "ECANCELED")
            #expect(connecting.isClosing)
            try await closer.close()
            try await holder.close()
            try await peer.close()
        }
    }

    @Test("a pipe: connect and accept by path, echo, half-close")
    func pipeEcho() async throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let path = directory.file("echo.sock")
        try await onLoopThread { thread in
            let server = try Pipe(loop: thread.loop)
            try server.bind(path: path)
            let connections = try server.connections()
            Task {
                _ = thread
                try? await connections.serve { connection in
                    for try await chunk in try connection.reads() { try await connection.write(chunk) }
                    try await connection.shutdown()
                }
            }
            let reply = try await Pipe.withConnection(to: path, on: thread.loop) { pipe in
                try await pipe.write(Array("over a pipe".utf8))
                try await pipe.shutdown()
                return try await readAll(pipe)
            }
            #expect(text(reply) == "over a pipe")
            let missing = await asyncOutcome {
                try await Pipe.withConnection(to: path + ".missing", on: thread.loop) { _ in }
            }
            #expect(missing == "ENOENT")
            try await server.close()
        }
    }

    @Test("writing to a closed peer reports an error, never SIGPIPE")
    func noSigpipe() async throws {
        try await onLoopThread { thread in
            let (client, peer) = try await asyncPair(thread)
            try await peer.close()
            var failure: String?
            for _ in 0..<200 {
                do throws(UVError) {
                    try await client.write([UInt8](repeating: 1, count: 65536))
                    try await client.flush()
                } catch {
                    failure = error.name
                    break
                }
            }
            #expect(failure == "EPIPE" || failure == "ECONNRESET")
            try await client.close()
        }
    }
}

extension Handle {
    /// The callback API's close, from an async context (where `close()` is the async one).
    func closeWithoutWaiting() {
        try? close(nil)
    }
}

/// The thread a nonisolated async function runs on: the global pool's, unless the task
/// prefers a task executor.
private nonisolated func threadOfNonisolatedCode() async -> pthread_t {
    await Task.yield()
    return pthread_self()
}
