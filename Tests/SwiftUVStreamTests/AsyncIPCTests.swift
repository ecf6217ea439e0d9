import Glibc
import SwiftUVStream
import Testing

/// Two IPC pipes joined by a socket pair, on the thread's loop.
private func ipcPair(_ thread: isolated LoopThread) throws -> (sender: Pipe, receiver: Pipe) {
    let (first, second) = try Pipe.makeSocketPair()
    let sender = try Pipe(loop: thread.loop, ipc: true)
    try sender.open(first)
    let receiver = try Pipe(loop: thread.loop, ipc: true)
    try receiver.open(second)
    return (sender, receiver)
}

@Suite("Async handle passing", .timeLimit(.minutes(1)))
struct AsyncIPCTests {
    @Test("a TCP connection sent with write(_:sending:) arrives with its bytes and works on the other side")
    func connectionTravelsWithItsBytes() async throws {
        let (bytes, kinds, echoed) = try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let (sender, receiver) = try ipcPair(thread)
            let connection = try TCP(loop: thread.loop)
            try await connection.connect(to: "127.0.0.1", port: port)
            try await sender.write(Array("take it".utf8), sending: connection)
            try await sender.flush()
            // The sender's copy may close at once: the receiver's stays open.
            try await connection.close()

            var messages = try receiver.receive().makeAsyncIterator()
            let message = try #require(try await messages.next())
            let handed = try #require(message.handles.first as? TCP)
            try await handed.write(Array("ping".utf8))
            try await handed.shutdown()
            let echoed = try await readAll(handed)
            for handle in message.handles { try await handle.close() }
            try await sender.close()
            try await receiver.close()
            try await server.close()
            return (message.bytes, message.handles.map(\.kind), echoed)
        }
        #expect(Array(bytes) == Array("take it".utf8))
        #expect(kinds == [.tcp])
        #expect(echoed == Array("ping".utf8))
    }

    @Test("the sender may close a connection as soon as it is written, even while the write waits in the queue")
    func closeRightAfterSending() async throws {
        let (tail, kinds, echoed, stillWritable) = try await onLoopThread { thread in
            let (server, port) = try startEchoServer(thread)
            let (sender, receiver) = try ipcPair(thread)
            let connection = try TCP(loop: thread.loop)
            try await connection.connect(to: "127.0.0.1", port: port)
            // 1 MiB the receiver has not read: what follows waits in the queue.
            let backlog = [UInt8](repeating: 0, count: 1 << 20)
            try sender.write(backlog, completion: .none)
            try sender.write(Array("P".utf8), sendHandle: connection, completion: .none)
            try await connection.close()
            try sender.write(Array("Q".utf8), completion: .none)
            var bytes: [UInt8] = []
            var handles: [Stream] = []
            for try await message in try receiver.receive() {
                bytes += message.bytes
                handles += message.handles
                if bytes.count == backlog.count + 2 { break }
            }
            let stillWritable = sender.isWritable
            let handed = try #require(handles.first as? TCP)
            try await handed.write(Array("ping".utf8))
            try await handed.shutdown()
            let echoed = try await readAll(handed)
            for handle in handles { try await handle.close() }
            try await sender.close()
            try await receiver.close()
            try await server.close()
            return (Array(bytes.suffix(2)), handles.map(\.kind), echoed, stillWritable)
        }
        #expect(tail == Array("PQ".utf8))
        #expect(kinds == [.tcp])
        #expect(echoed == Array("ping".utf8))
        #expect(stillWritable)
    }

    @Test("reads() after receive() leaves the handles that arrive pending in the pipe")
    func readsAfterReceiveLeavesHandlesPending() async throws {
        let (pending, kind) = try await onLoopThread { thread in
            let (sender, receiver) = try ipcPair(thread)
            let (other, otherPeer) = try ipcPair(thread)
            try await sender.write(Array("first".utf8))
            var messages = try receiver.receive().makeAsyncIterator()
            _ = try #require(try await messages.next())
            try await sender.write(Array("second".utf8), sending: other)
            var chunks = try receiver.reads().makeAsyncIterator()
            _ = try #require(try await chunks.next())
            let pending = receiver.pendingCount
            let kind = receiver.pendingKind
            try await other.close()
            try await otherPeer.close()
            try await sender.close()
            try await receiver.close()
            return (pending, kind)
        }
        #expect(pending == 1)
        #expect(kind == .pipe)
    }

    @Test("handles received but not taken are closed with the pipe; nothing leaks")
    func bufferedHandlesCloseWithThePipe() async throws {
        let handleCount = try await onLoopThread { thread in
            let (sender, receiver) = try ipcPair(thread)
            let (other, otherPeer) = try ipcPair(thread)
            var messages = try receiver.receive().makeAsyncIterator()
            try await sender.write(Array("first".utf8))
            let first = try #require(try await messages.next())
            #expect(first.handles.isEmpty)
            // Sent and read into the buffer (reading goes on), but never taken.
            try await sender.write(Array("second".utf8), sending: other)
            try await sender.flush()
            try await thread.loop.sleep(milliseconds: 50)
            let withBuffered = thread.loop.handleCount
            try await other.close()
            try await otherPeer.close()
            try await sender.close()
            try await receiver.close()
            return withBuffered
        }
        // sender, receiver, other, its peer and the received copy.
        #expect(handleCount == 5)
    }

    @Test("receive() needs an IPC pipe; write(_:sending:) needs an IPC pipe and bytes")
    func misuseIsRejected() async throws {
        let outcomes = try await onLoopThread { thread in
            let (first, second) = try Pipe.makeSocketPair()
            let plain = try Pipe(loop: thread.loop)
            try plain.open(first)
            let (sender, receiver) = try ipcPair(thread)
            let results = [
                outcome { _ = try plain.receive() },
                outcome { _ = try receiver.receive(highWatermark: 1, lowWatermark: 2) },
                await asyncOutcome { try await plain.write(Array("x".utf8), sending: sender) },
                await asyncOutcome { try await sender.write([UInt8](), sending: receiver) },
            ]
            try await plain.close()
            try await sender.close()
            try await receiver.close()
            Glibc.close(second)
            return results
        }
        #expect(outcomes == ["EINVAL", "EINVAL", "EINVAL", "EINVAL"])
    }
}
