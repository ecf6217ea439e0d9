import CLibUV
import Glibc
import SwiftUVStream
import Testing

// Helpers for the async suites. Each test runs its body on a fresh `LoopThread` with
// `onLoopThread` and ends by shutting the thread down, expecting it to find no handle
// left open: a leaked handle fails the test, as `TestLoop.finish()` does for the
// callback suites.

/// Runs `body` isolated to a new `LoopThread`, then shuts the thread down and expects
/// every handle to have been closed by then.
func onLoopThread<Result: Sendable>(
    bufferSize: Int = 65536,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @Sendable (isolated LoopThread) async throws -> Result
) async throws -> Result {
    let thread = try LoopThread(bufferSize: bufferSize)
    let result: Swift.Result<Result, any Error>
    do {
        result = .success(try await thread.run(body))
    } catch {
        result = .failure(error)
    }
    let leftOpen = await thread.shutdown()
    #expect(leftOpen == 0, "handles left open at the end of the test", sourceLocation: sourceLocation)
    return try result.get()
}

/// The outcome of an async operation, named: "ok" or the UVError's name.
func asyncOutcome(
    isolation: isolated (any Actor)? = #isolation, _ body: nonisolated(nonsending) () async throws -> Void
) async -> String {
    do {
        try await body()
        return "ok"
    } catch let error as UVError {
        return error.name
    } catch {
        return "not a UVError: \(error)"
    }
}

/// A listening TCP server on 127.0.0.1 (any port) on the thread's loop.
func listeningServer(_ thread: isolated LoopThread) throws -> (server: TCP, port: Int) {
    let server = try TCP(loop: thread.loop)
    try server.bind(host: "127.0.0.1", port: 0)
    return (server, try server.socketName().port)
}

/// A connected client and the accepted server side, made with the async API; the
/// listener is closed.
func asyncPair(_ thread: isolated LoopThread) async throws -> (client: TCP, peer: TCP) {
    let (server, port) = try listeningServer(thread)
    var connections = try server.connections().makeAsyncIterator()
    let client = try TCP(loop: thread.loop)
    try await client.connect(to: "127.0.0.1", port: port)
    guard let peer = try await connections.next() else { throw UVError.closed }
    try await server.close()
    return (client, peer)
}

/// Reads `stream` to its end, concatenating the chunks.
func readAll(
    _ stream: SwiftUVStream.Stream, isolation: isolated (any Actor)? = #isolation
) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    for try await chunk in try stream.reads() {
        bytes += chunk
    }
    return bytes
}

/// Starts an echo server on the thread's loop, serving until it is closed: each
/// connection is echoed, then shut down at EOF.
func startEchoServer(_ thread: isolated LoopThread) throws -> (server: TCP, port: Int) {
    let (server, port) = try listeningServer(thread)
    let connections = try server.connections()
    Task {
        _ = thread
        try? await connections.serve { connection in
            for try await chunk in try connection.reads() {
                try await connection.write(chunk)
            }
            try await connection.shutdown()
        }
    }
    return (server, port)
}

/// Sets SO_LINGER 0, so closing `stream` sends a reset.
func setAbortiveClose(_ stream: SwiftUVStream.Stream) throws {
    let fd = try stream.fileDescriptor()
    var option = linger(l_onoff: 1, l_linger: 0)
    let result = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    #expect(result == 0, "setsockopt(SO_LINGER)")
}

/// A flag and a count shared between tasks on one loop thread.
final class Progress {
    var count = 0
    var done = false
    var events: [String] = []
}

/// A value shared between tasks on one loop thread.
final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
}
