// An async echo round trip through `import SwiftUVStream`, from outside the package:
// a server and a client on one LoopThread, 1 MiB and a line of text each way.
// Prints "echo round trip: OK (<n> bytes)" and exits 0, or says what failed and exits 1.

import SwiftUVStream

#if canImport(Glibc)
import Glibc
#endif

func check(_ condition: Bool, _ message: String) {
    if !condition {
        print("echo round trip: FAILED: \(message)")
        exit(1)
    }
}

let thread = try LoopThread()
let payload = Array("hello from a separate package\n".utf8) + (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

let echoed = try await thread.run { thread -> [UInt8] in
    let server = try TCP(loop: thread.loop)
    try server.bind(host: "127.0.0.1", port: 0)
    let port = try server.socketName().port
    let connections = try server.connections()
    let serving = Task {
        _ = thread
        try? await connections.serve { connection in
            for try await chunk in try connection.reads() {
                try await connection.write(chunk)
            }
            try await connection.shutdown()
        }
    }
    let reply = try await TCP.withConnection(to: "127.0.0.1", port: port, on: thread.loop) { connection in
        let reader = Task {
            _ = thread
            var received: [UInt8] = []
            for try await chunk in try connection.reads(highWatermark: 64 * 1024, lowWatermark: 16 * 1024) {
                received += chunk
            }
            return received
        }
        try await connection.write(payload)
        try await connection.shutdown()
        return try await reader.value
    }
    try await server.close()
    await serving.value
    return reply
}
let leftOpen = await thread.shutdown()
check(echoed == payload, "sent \(payload.count) bytes, got back \(echoed.count) different ones")
check(leftOpen == 0, "\(leftOpen) handles left open")
print("echo round trip: OK (\(echoed.count) bytes)")
