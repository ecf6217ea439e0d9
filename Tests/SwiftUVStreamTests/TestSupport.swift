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

// MARK: Pipes

/// A fresh directory under /tmp for Unix socket paths; `remove()` unlinks every path
/// it handed out and the directory itself.
final class TempDirectory {
    let path: String
    private var handedOut: [String] = []

    init() throws {
        var template = Array("/tmp/uvs-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw UVError(code: -errno) }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `name` inside the directory.
    func file(_ name: String) -> String {
        let full = path + "/" + name
        handedOut.append(full)
        return full
    }

    /// A path inside the directory exactly `length` bytes long.
    func file(length: Int) -> String {
        let prefix = path + "/"
        precondition(length > prefix.utf8.count, "the directory's own path is longer")
        return file(String(repeating: "p", count: length - prefix.utf8.count))
    }

    func remove() {
        for file in handedOut { unlink(file) }
        rmdir(path)
    }
}

/// Whether something exists at `path` (a socket file, say).
func exists(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0
}

/// Two pipes over the ends of a new socket pair, both IPC pipes if `ipc`.
func socketPairPipes(_ t: TestLoop, ipc: Bool = false) throws -> (Pipe, Pipe) {
    let (a, b) = try Pipe.makeSocketPair()
    let first = try Pipe(loop: t.loop, ipc: ipc)
    let second = try Pipe(loop: t.loop, ipc: ipc)
    do {
        try first.open(a)
    } catch {
        close(a)
        close(b)
        throw error
    }
    do {
        try second.open(b)
    } catch {
        close(b)
        throw error
    }
    return (first, second)
}

/// Creates and binds a listening pipe at `path` that accepts every connection into a
/// new pipe and hands it to `onAccept`.
func makePipeServer(_ t: TestLoop, path: String, _ onAccept: @escaping (Pipe) -> Void) throws -> Pipe {
    let server = try Pipe(loop: t.loop)
    try server.bind(path: path)
    try server.listen(backlog: 16) { server, status in
        #expect(status == 0, "connection callback status")
        do {
            let peer = try Pipe(loop: server.loop)
            try server.accept(into: peer)
            onAccept(peer)
        } catch {
            Issue.record("accept failed: \(error)")
        }
    }
    return server
}

extension SwiftUVStream.Stream {
    /// Writes `bytes` as one request with `handle` travelling along.
    func send(_ bytes: [UInt8], handle: SwiftUVStream.Stream?, _ completion: RequestCompletion) throws {
        try bytes.withUnsafeBytes { (raw) throws in
            var buffer = uv_buf_t(
                base: UnsafeMutablePointer(mutating: raw.baseAddress?.assumingMemoryBound(to: CChar.self)),
                len: raw.count)
            try withUnsafePointer(to: &buffer) { (pointer) throws in
                try write(UnsafeBufferPointer(start: pointer, count: 1), sendHandle: handle, completion: completion)
            }
        }
    }

    func send(_ string: String, handle: SwiftUVStream.Stream?, _ completion: RequestCompletion) throws {
        try send([UInt8](string), handle: handle, completion)
    }
}

/// Echoes everything `stream` reads back to it and shuts it down at EOF.
func echo(_ stream: SwiftUVStream.Stream) throws {
    try stream.readStart { stream, status, bytes in
        if status == 0 {
            _ = try? stream.send(Array(bytes), .none)
        } else if status == UV_EOF.rawValue {
            _ = try? stream.shutdown(completion: .none)
        }
    }
}

// MARK: Terminals

/// A pseudo-terminal from openpty(3), never the session's terminal. Handles may adopt
/// its descriptors: `release()` closes only those the test still owns (libuv keeps a
/// descriptor it opens itself for a terminal slave, and uses the caller's otherwise).
final class PseudoTerminal {
    let master: Int32
    let slave: Int32
    private var adopted: Set<Int32> = []

    init(width: UInt16 = 80, height: UInt16 = 24) throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        var size = winsize(ws_row: height, ws_col: width, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw UVError(code: -errno) }
        self.master = master
        self.slave = slave
    }

    /// Creates a TTY over `fd` (one of ours) and notes whether the handle took it over.
    func tty(_ t: TestLoop, fd: Int32, readable: Bool = true) throws -> TTY {
        let tty = try TTY(loop: t.loop, fd: fd, readable: readable)
        if try tty.fileDescriptor() == fd { adopted.insert(fd) }
        return tty
    }

    /// The terminal attributes of the slave.
    func attributes() -> termios {
        var attributes = termios()
        #expect(tcgetattr(slave, &attributes) == 0, "tcgetattr")
        return attributes
    }

    /// Closes the descriptors no handle adopted; call after the handles closed.
    func release() {
        for fd in [master, slave] where !adopted.contains(fd) { close(fd) }
    }
}
