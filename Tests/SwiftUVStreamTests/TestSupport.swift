import CLibUV
import Glibc
import SwiftUVStream
import Testing

// Helpers shared by every suite.
//
// Each test owns one `TestLoop` (its loop, an event log and a watchdog timer), keeps
// it and every handle local to the test function, and ends with `defer { t.finish() }`:
// the teardown closes every handle, runs the loop until the close callbacks ran, and
// expects `loop.close()` to succeed, so a leaked or stuck handle fails the test.

/// "0" for success, the error name ("ECANCELED", "EOF", ...) otherwise.
func statusName(_ status: Int32) -> String {
    status == 0 ? "0" : UVError(code: status).name
}

/// Runs `body` and names its outcome: "ok" or the thrown error's name.
func outcome(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "ok"
    } catch let error as UVError {
        return error.name
    } catch {
        return "not a UVError: \(error)"
    }
}

/// A test's loop, event log and safety net.
final class TestLoop {
    let loop: Loop
    /// What happened, in order: callback name and status, as each test words it.
    var events: [String] = []
    /// Whether the watchdog fired (the test has then already failed).
    private(set) var timedOut = false
    private var watchdog: SwiftUVStream.Timer?

    init(bufferSize: Int = 65536) throws {
        loop = try Loop(bufferSize: bufferSize)
    }

    func log(_ event: String) {
        events.append(event)
    }

    /// A completion that logs "`label` `status`".
    func logged(_ label: String, then: ((Int32) -> Void)? = nil) -> RequestCompletion {
        .closure { [unowned self] status in
            self.log("\(label) \(statusName(status))")
            then?(status)
        }
    }

    /// Runs the loop until no referenced work is left. Safety net only: if it still
    /// runs after `timeout` ms, records an issue and stops the loop.
    func run(timeout: UInt64 = 30_000, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard !timedOut else { return }
        let dog = try armWatchdog(timeout, keepsLoopAlive: false, sourceLocation)
        defer { try? dog.stop() }
        try loop.run(.default)
    }

    /// Runs loop iterations until `condition` holds. Safety net only: if it does not
    /// hold after `timeout` ms, records an issue and returns.
    func run(
        until condition: () -> Bool, timeout: UInt64 = 30_000,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        guard !timedOut, !condition() else { return }
        let dog = try armWatchdog(timeout, keepsLoopAlive: true, sourceLocation)
        defer { try? dog.stop() }
        while !condition() && !timedOut {
            try loop.run(.once)
        }
    }

    private func armWatchdog(
        _ timeout: UInt64, keepsLoopAlive: Bool, _ sourceLocation: SourceLocation
    ) throws -> SwiftUVStream.Timer {
        let dog: SwiftUVStream.Timer
        if let existing = watchdog, !existing.isClosing {
            dog = existing
        } else {
            dog = try SwiftUVStream.Timer(loop: loop)
        }
        watchdog = dog
        if keepsLoopAlive { try dog.reference() } else { try dog.unreference() }
        try loop.updateTime()
        try dog.start(timeout: timeout) { [unowned self] _ in
            self.timedOut = true
            Issue.record("the loop did not finish within \(timeout) ms", sourceLocation: sourceLocation)
            try? self.loop.stop()
        }
        return dog
    }

    /// The teardown every test ends with: closes every handle, lets the close
    /// callbacks run, and expects the loop to close.
    func finish(sourceLocation: SourceLocation = #_sourceLocation) {
        guard !loop.isClosed else { return }
        do {
            var rounds = 0
            repeat {
                try loop.closeAllHandles()
                try loop.run(.noWait)
                rounds += 1
            } while loop.handleCount > 0 && rounds < 100
        } catch {
            Issue.record("teardown failed: \(error)", sourceLocation: sourceLocation)
        }
        #expect(loop.handleCount == 0, "handles left open", sourceLocation: sourceLocation)
        #expect(throws: Never.self, "loop.close() after teardown", sourceLocation: sourceLocation) {
            try self.loop.close()
        }
        #expect(loop.isClosed, sourceLocation: sourceLocation)
    }
}

// MARK: Bytes

extension Array where Element == UInt8 {
    init(_ text: String) {
        self = Array(text.utf8)
    }

    /// `count` bytes of a pattern that does not repeat with any short period, so a
    /// reordered or lost chunk shows.
    static func pattern(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        }
    }
}

func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

extension SwiftUVStream.Stream {
    /// Writes `bytes` as one request.
    func send(_ bytes: [UInt8], _ completion: RequestCompletion) throws {
        try bytes.withUnsafeBytes { (raw) throws in
            try write(raw, completion: completion)
        }
    }

    func send(_ string: String, _ completion: RequestCompletion) throws {
        try send([UInt8](string), completion)
    }

    /// Zero buffers: a null buffer array of count 0.
    func sendNoBuffers(_ completion: RequestCompletion) throws {
        try write(UnsafeBufferPointer<uv_buf_t>(start: nil, count: 0), completion: completion)
    }

    func trySend(_ bytes: [UInt8]) throws -> Int {
        try bytes.withUnsafeBytes { (raw) throws -> Int in
            var buffer = uv_buf_t(
                base: UnsafeMutablePointer(mutating: raw.baseAddress?.assumingMemoryBound(to: CChar.self)),
                len: raw.count)
            return try withUnsafePointer(to: &buffer) { (pointer) throws -> Int in
                try tryWrite(UnsafeBufferPointer(start: pointer, count: 1))
            }
        }
    }
}

/// What a stream read: the bytes, and how reading ended.
final class Received {
    var bytes: [UInt8] = []
    var chunks = 0
    /// The status of the final read callback (UV_EOF or an error), nil while open.
    var end: Int32?
}

/// Starts reading into a new `Received`; logs "`label` EOF" (or the error) when
/// reading ends, never the data chunks (their split is the kernel's business).
@discardableResult
func collect(_ stream: SwiftUVStream.Stream, _ t: TestLoop, _ label: String,
             onEnd: ((Int32) -> Void)? = nil) throws -> Received {
    let received = Received()
    try stream.readStart { [unowned t] _, status, bytes in
        if status == 0 {
            received.bytes.append(contentsOf: bytes)
            received.chunks += 1
        } else {
            if received.end != nil { t.log("\(label) second end \(statusName(status))") }
            received.end = status
            t.log("\(label) \(statusName(status))")
            onEnd?(status)
        }
    }
    return received
}

// MARK: TCP

/// A TCP server listening on 127.0.0.1 at a port the kernel picks; returns it and the port.
func makeServer(
    _ t: TestLoop, backlog: Int32 = 16, _ onConnection: @escaping ConnectionCallback
) throws -> (server: TCP, port: Int) {
    let server = try TCP(loop: t.loop)
    try server.bind(host: "127.0.0.1", port: 0)
    try server.listen(backlog: backlog, onConnection)
    let address = try server.socketName()
    #expect(address.host == "127.0.0.1")
    #expect(address.port > 0)
    return (server, address.port)
}

/// A server that accepts every connection at once and hands the accepted stream to
/// `onAccept`. Failures to accept are test failures.
func makeAcceptingServer(
    _ t: TestLoop, _ onAccept: @escaping (TCP) -> Void
) throws -> (server: TCP, port: Int) {
    try makeServer(t) { server, status in
        #expect(status == 0, "connection callback status")
        do {
            let peer = try TCP(loop: server.loop)
            try server.accept(into: peer)
            onAccept(peer)
        } catch {
            Issue.record("accept failed: \(error)")
        }
    }
}

/// A connected client and the server side's accepted stream; the listener is closed.
func connectedPair(
    _ t: TestLoop, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (client: TCP, peer: TCP) {
    var peer: TCP?
    var connectStatus: Int32?
    let (server, port) = try makeAcceptingServer(t) { accepted in
        #expect(peer == nil, "one connection only")
        peer = accepted
    }
    let client = try TCP(loop: t.loop)
    try client.connect(to: "127.0.0.1", port: port, completion: .closure { connectStatus = $0 })
    try t.run(until: { peer != nil && connectStatus != nil }, sourceLocation: sourceLocation)
    try server.close()
    #expect(connectStatus == 0, "connect status", sourceLocation: sourceLocation)
    return (client, try #require(peer, sourceLocation: sourceLocation))
}

/// A 127.0.0.1 port that refuses connections: bound (so no one else takes it) but not
/// listening. Keep the returned handle open while the port is in use.
func refusingPort(_ t: TestLoop) throws -> (holder: TCP, port: Int) {
    let holder = try TCP(loop: t.loop)
    try holder.bind(host: "127.0.0.1", port: 0)
    return (holder, try holder.socketName().port)
}

/// Makes closing `stream` send a reset instead of a FIN (SO_LINGER with timeout 0).
func setResetOnClose(_ stream: SwiftUVStream.Stream) throws {
    let fd = try stream.fileDescriptor()
    var option = linger(l_onoff: 1, l_linger: 0)
    let result = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    #expect(result == 0, "setsockopt(SO_LINGER)")
}

// MARK: Threads

/// Moves a value to another thread; the test vouches for how it is used there.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Runs `body` on a new POSIX thread (not the Swift concurrency pool, which the
/// tests' blocking loops may occupy). Join it with `joinThread`.
func startThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { context in
        let body = Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue()
        body.body()
        return nil
    }, context)
    if result != 0 {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        throw UVError(code: -result)
    }
    return thread
}

func joinThread(_ thread: pthread_t) {
    pthread_join(thread, nil)
}
