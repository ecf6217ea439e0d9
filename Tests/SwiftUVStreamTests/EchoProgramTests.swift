import Glibc
import SwiftUVStream
import Testing

// End to end: the swiftuvstream-echo program (Sources/swiftuvstream-echo), built next
// to the test bundle by `swift build` / `swift test`.

/// The built swiftuvstream-echo next to the running test binary, if there is one.
private func echoProgram() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    var path = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // .../debug/swiftuvstreamPackageTests.xctest (a file on Linux): its folder.
    while let last = path.last, last != "/" { path.removeLast() }
    let program = path + "swiftuvstream-echo"
    return access(program, X_OK) == 0 ? program : nil
}

/// A child process with its stdout (and stderr) on a pipe.
private final class Child {
    let pid: pid_t
    private let output: Int32
    private(set) var text = ""
    /// Whether the last `readUntil` gave up waiting for output.
    private(set) var timedOut = false

    init(_ arguments: [String]) throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw UVError(code: -errno) }
        // Close-on-exec, so that a child spawned meanwhile by another test does not
        // hold this pipe open (dup2 into the child's 1 and 2 clears the flag there).
        // (Glibc's module does not export pipe2.)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw UVError(code: -result)
        }
        self.pid = pid
        self.output = fds[0]
    }

    deinit { close(output) }

    /// Reads output until `predicate` holds; false if the output ends first, or after
    /// 20 seconds without output (a blocking read would hang the test run: a time
    /// limit cannot interrupt it).
    func readUntil(_ predicate: (String) -> Bool) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        timedOut = false
        while !predicate(text) {
            var ready = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, 20_000)
            if polled < 0, errno == EINTR { continue }
            if polled <= 0 {
                timedOut = true
                return false
            }
            let count = read(output, &chunk, chunk.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return false }
            text += String(decoding: chunk.prefix(count), as: UTF8.self)
        }
        return true
    }

    /// Reads the rest of the output and waits for the exit status; a child whose
    /// output has not ended within 20 seconds (or cannot be polled) is killed (status
    /// 128 + SIGKILL).
    func finish() -> Int32 {
        _ = readUntil { _ in false }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // WIFEXITED / WEXITSTATUS; a signal shows as 128 + its number.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

@Suite("swiftuvstream-echo", .serialized, .timeLimit(.minutes(1)))
struct EchoProgramTests {
    @Test(
        "server prints READY <port>; the client's messages come back; SIGTERM stops the server with 0",
        arguments: [[], ["--callbacks"]])
    func serverAndClient(api: [String]) throws {
        guard let program = echoProgram() else {
            Issue.record("swiftuvstream-echo is not built next to the tests")
            return
        }
        let server = try Child([program, "server", "--port", "0"] + api)
        var stopped = false
        defer { if !stopped { kill(server.pid, SIGKILL); _ = server.finish() } }
        #expect(server.readUntil { $0.contains("\n") })
        let port = server.text.split(separator: "\n").first.flatMap { line in
            line.hasPrefix("READY ") ? Int(line.dropFirst(6)) : nil
        }
        let serverPort = try #require(port, "READY line, got: \(server.text)")

        let client = try Child([program, "client", "--port", "\(serverPort)", "hello from Swift", "second message"])
        #expect(client.finish() == 0)
        #expect(client.text == """
            sent: hello from Swift
            sent: second message
            echoed: hello from Swift
            echoed: second message

            """)

        let big = String(repeating: "0123456789", count: 10_000)   // under the 128 KiB limit of one argument
        let bigClient = try Child([program, "client", "--port", "\(serverPort)", big])
        #expect(bigClient.finish() == 0)
        #expect(bigClient.text.hasSuffix("echoed: \(big)\n"))

        kill(server.pid, SIGTERM)
        stopped = true
        #expect(server.finish() == 0)
        #expect(server.text == "READY \(serverPort)\n")
    }

    @Test("client errors: refused is 1, bad arguments (a server option) 2")
    func clientErrors() throws {
        guard let program = echoProgram() else {
            Issue.record("swiftuvstream-echo is not built next to the tests")
            return
        }
        let holder = try Child([program, "server", "--port", "0"])
        #expect(holder.readUntil { $0.contains("\n") })
        kill(holder.pid, SIGTERM)
        let port = Int(holder.text.dropFirst(6).prefix { $0.isNumber }) ?? 1
        #expect(holder.finish() == 0)
        let refused = try Child([program, "client", "--port", "\(port)", "x"])
        #expect(refused.finish() == 1)
        #expect(refused.text.contains("ECONNREFUSED"))
        let usage = try Child([program, "client", "x"])
        #expect(usage.finish() == 2)
        #expect(usage.text.hasPrefix("usage:"))
        let serverOption = try Child([program, "client", "--callbacks", "--port", "\(port)"])
        #expect(serverOption.finish() == 2)
    }
}
