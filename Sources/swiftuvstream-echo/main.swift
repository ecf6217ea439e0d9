// swiftuvstream-echo — an async echo server and client on SwiftUVStream.
//
//   swiftuvstream-echo server [--host HOST] [--port PORT] [--callbacks]
//   swiftuvstream-echo client [--host HOST] --port PORT [MESSAGE...]
//
// server: listens on HOST (default 127.0.0.1) and PORT (default 0: any free port),
//   prints "READY <port>" once listening, and sends every connection back what it
//   receives; when a peer ends its side, the server ends its own once the echo is
//   flushed, then closes the connection. SIGINT or SIGTERM stops it cleanly: the
//   signal handler writes to a pipe the server reads as one of its streams; it then
//   closes the listener, which ends `serve` and cancels (closes) every connection
//   still open; the loop thread shuts down and the program exits 0.
//   With --callbacks, the same server on the callback API instead: a `Loop` run on
//   the main thread, reads and writes in callbacks, backpressure through
//   `onWritabilityChanged`, and a signal closes every handle.
// client: connects, sends each MESSAGE (default "hello from Swift") printing
//   "sent: <message>", reads until exactly the bytes it sent have come back, prints
//   "echoed: <message>" for each, then shuts its side down and waits for the server's
//   end of stream. Exits 0 if the echo matched, 1 otherwise (connection error, wrong
//   echo, or no answer within 5 seconds), 2 for bad arguments.
//
// What it shows: a LoopThread as the executor of the tasks that use its handles;
// connect, accept (`connections().serve`), reads as an AsyncSequence with watermark
// backpressure, writes that suspend above the high watermark, half-close with
// `shutdown()`, scoped closing with `TCP.withConnection`, and cancellation; and the
// callback API the async layer is built on (the bench measures both).

import Glibc
import SwiftUVStream

/// Writes a line to a file descriptor at once (no stdio buffering, so "READY" is seen
/// by a script reading a pipe the moment it is printed).
func emit(_ line: String, to fd: Int32 = 1) {
    var bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { raw in
            write(fd, raw.baseAddress! + offset, raw.count - offset)
        }
        if written <= 0 {
            if written < 0, errno == EINTR { continue }
            return
        }
        offset += written
    }
    bytes.removeAll()
}

func fail(_ message: String) {
    emit("swiftuvstream-echo: \(message)", to: 2)
}

let usage = """
    usage: swiftuvstream-echo server [--host HOST] [--port PORT] [--callbacks]
           swiftuvstream-echo client [--host HOST] --port PORT [MESSAGE...]
    """

struct Options {
    var mode = ""
    var host = "127.0.0.1"
    var port: Int?
    var callbacks = false
    var messages: [String] = []
}

func parse(_ arguments: [String]) -> Options? {
    var options = Options()
    var rest = arguments[...]
    guard let mode = rest.popFirst(), mode == "server" || mode == "client" else { return nil }
    options.mode = mode
    while let argument = rest.popFirst() {
        switch argument {
        case "--host":
            guard let value = rest.popFirst() else { return nil }
            options.host = value
        case "--port":
            guard let value = rest.popFirst(), let port = Int(value), (0...65535).contains(port) else { return nil }
            options.port = port
        case "--callbacks":
            guard mode == "server" else { return nil }
            options.callbacks = true
        case "--help", "-h":
            return nil
        case "--":
            options.messages += rest
            rest = []
        default:
            guard mode == "client", !argument.hasPrefix("--") else { return nil }
            options.messages.append(argument)
        }
    }
    if mode == "server", !options.messages.isEmpty { return nil }
    if mode == "client", options.port == nil { return nil }
    return options
}

// MARK: Server

/// Echoes one connection: every chunk read is written back (the write suspends while
/// the peer is slow to read it, and the read buffer then stops reading, so a fast
/// sender is slowed down instead of filling memory); at EOF, ends our side.
func echo(_ connection: TCP, isolation: isolated (any Actor)? = #isolation) async throws {
    for try await chunk in try connection.reads(highWatermark: 256 * 1024, lowWatermark: 64 * 1024) {
        try await connection.write(chunk)
    }
    try await connection.shutdown()
}

/// The write end of the pipe on which the signal handler reports SIGINT and SIGTERM
/// (a byte per signal; write(2) is async-signal-safe). The server reads the other end
/// as a stream of its loop.
nonisolated(unsafe) var stopPipeWriteEnd: Int32 = -1

/// Routes SIGINT and SIGTERM to a pipe; returns its read end.
func installStopHandler() throws(UVError) -> Int32 {
    let (readEnd, writeEnd) = try Pipe.makePipe()
    stopPipeWriteEnd = writeEnd
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in
        var byte: UInt8 = 1
        _ = write(stopPipeWriteEnd, &byte, 1)
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = SA_RESTART
    sigaction(SIGINT, &action, nil)
    sigaction(SIGTERM, &action, nil)
    // A parent may have spawned us with them blocked (the mask is inherited): unblock
    // them, or the handler would never run.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGINT)
    sigaddset(&stopSignals, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
    return readEnd
}

func runServer(_ options: Options) async -> Int32 {
    let thread: LoopThread
    let stopReadEnd: Int32
    do {
        stopReadEnd = try installStopHandler()
        thread = try LoopThread()
    } catch {
        fail("setup: \(error)")
        return 1
    }
    let host = options.host
    let port = options.port ?? 0
    let result = await Task {
        try await thread.run { thread in
            let stop = try Pipe(loop: thread.loop)
            try stop.open(stopReadEnd)
            let server = try TCP(loop: thread.loop)
            try server.bind(host: host, port: port)
            let connections = try server.connections(backlog: 128)
            emit("READY \(try server.socketName().port)")
            // A signal closes the listener, which ends `serve` below; the connections
            // still open are then cancelled (closed).
            let stopper = Task {
                _ = thread
                var signals = try stop.reads().makeAsyncIterator()
                if try await signals.next() != nil { try await server.close() }
            }
            do throws(UVError) {
                try await connections.serve { connection in
                    try connection.setNoDelay(true)
                    try await echo(connection)
                }
            } catch {
                guard error == .canceled else { throw error }
            }
            try await server.close()
            try await stop.close()
            _ = await stopper.result
        }
    }.result
    let leftOpen = await thread.shutdown()
    if case .failure(let error) = result {
        fail("server: \(error)")
        return 1
    }
    if leftOpen != 0 { fail("\(leftOpen) handles were left open") }
    return 0
}

// MARK: Server on the callback API

/// The read callback of every connection of the callback server: echoes each chunk
/// (written from the loop's read buffer; only what the socket does not take at once is
/// copied), half-closes at the end of the peer's input, closes on an error. A function,
/// not a closure per connection: the stream it is called for is its argument.
func echoRead(_ stream: Stream, _ status: Int32, _ bytes: UnsafeRawBufferPointer) {
    switch status {
    case StatusCode.success:
        do {
            try stream.write(bytes, completion: .none)
        } catch {
            try? stream.close()
        }
    case StatusCode.EOF:
        do {
            try stream.shutdown(completion: .closure { _ in try? stream.close() })
        } catch {
            try? stream.close()
        }
    default:
        try? stream.close()
    }
}

/// Starts echoing `connection`: reading stops while its write queue is above the high
/// watermark (a slow reader) and starts again below the low one.
func startEcho(_ connection: TCP) throws(UVError) {
    try connection.setNoDelay(true)
    try connection.onWritabilityChanged { stream, writable in
        if writable {
            if stream.isReadable { try? stream.readStart(echoRead) }
        } else {
            try? stream.readStop()
        }
    }
    try connection.readStart(echoRead)
}

func runCallbackServer(_ options: Options) -> Int32 {
    do throws(UVError) {
        let stopReadEnd = try installStopHandler()
        let loop = try Loop(bufferSize: LoopThread.defaultBufferSize)
        let server = try TCP(loop: loop)
        try server.bind(host: options.host, port: options.port ?? 0)
        try server.listen(backlog: 128) { server, status in
            guard status == StatusCode.success, let connection = try? TCP(loop: server.loop) else { return }
            do {
                try server.accept(into: connection)
                try startEcho(connection)
            } catch {
                try? connection.close()
            }
        }
        // A signal closes every handle (the listener, the connections, this pipe);
        // `run` then returns.
        let stop = try Pipe(loop: loop)
        try stop.open(stopReadEnd)
        try stop.readStart { stream, _, _ in _ = try? stream.loop.closeAllHandles() }
        emit("READY \(try server.socketName().port)")
        _ = try loop.run()
        try loop.close()
        return 0
    } catch {
        fail("server: \(error)")
        return 1
    }
}

// MARK: Client

enum ClientFailure: Error, CustomStringConvertible {
    case wrongEcho(expected: [UInt8], received: [UInt8])
    case timedOut

    var description: String {
        switch self {
        case .wrongEcho(let expected, let received):
            "wrong echo: sent \(expected.count) bytes, got back \(received.count) different ones"
        case .timedOut:
            "no complete answer within 5 seconds"
        }
    }
}

func runClient(_ options: Options) async -> Int32 {
    let messages = options.messages.isEmpty ? ["hello from Swift"] : options.messages
    let host = options.host
    let port = options.port ?? 0
    let thread: LoopThread
    do {
        thread = try LoopThread()
    } catch {
        fail("loop: \(error)")
        return 1
    }
    let exchange = Task {
        try await thread.run { thread in
            try await TCP.withConnection(to: host, port: port, on: thread.loop) { connection in
                try connection.setNoDelay(true)
                let expected = messages.flatMap { Array($0.utf8) }
                for message in messages {
                    try await connection.write(message.utf8)
                    try await connection.flush()
                    emit("sent: \(message)")
                }
                // Read until exactly what was sent has come back...
                var received: [UInt8] = []
                var reads = try connection.reads().makeAsyncIterator()
                while received.count < expected.count, let chunk = try await reads.next() {
                    received += chunk
                }
                guard received == expected else {
                    throw ClientFailure.wrongEcho(expected: expected, received: received)
                }
                for message in messages { emit("echoed: \(message)") }
                // ...then end our side and wait for the server to end its own.
                try await connection.shutdown()
                while let extra = try await reads.next() { received += extra }
                guard received == expected else {
                    throw ClientFailure.wrongEcho(expected: expected, received: received)
                }
            }
        }
    }
    // A timeout: cancelling the exchange closes the connection.
    let watchdog = Task {
        try await thread.run { thread in try await thread.loop.sleep(milliseconds: 5000) }
        exchange.cancel()
    }
    let result = await exchange.result
    watchdog.cancel()
    _ = await watchdog.result
    await thread.shutdown()
    switch result {
    case .success:
        return 0
    case .failure(let error):
        if (error as? UVError) == .canceled {
            fail(ClientFailure.timedOut.description)
        } else {
            fail("connect to \(host) port \(port): \(error)")
        }
        return 1
    }
}

// MARK: Main

guard let options = parse(Array(CommandLine.arguments.dropFirst())) else {
    let wanted = CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h")
    emit(usage, to: wanted ? 1 : 2)
    exit(wanted ? 0 : 2)
}
let status = switch (options.mode, options.callbacks) {
case ("server", true): runCallbackServer(options)
case ("server", false): await runServer(options)
default: await runClient(options)
}
exit(status)
