import CLibUV
import Glibc
import SwiftUVStream
import Synchronization
import Testing

/// A counting semaphore with a timed wait (the timeout is a safety net only).
private final class Semaphore: @unchecked Sendable {
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init() {
        sem_init(semaphore, 0, 0)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func signal() {
        sem_post(semaphore)
    }

    /// False if `seconds` passed first.
    func wait(seconds: Int = 30) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += seconds
        while sem_timedwait(semaphore, &deadline) != 0 {
            if errno != EINTR { return false }
        }
        return true
    }
}

private func isCurrentThread(_ thread: pthread_t) -> Bool {
    pthread_equal(pthread_self(), thread) != 0
}

@Suite("Threads")
struct ThreadTests {
    @Test("functions posted from another thread run on the loop's thread, in order, waking the loop")
    func postFromAnotherThread() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let loopThread = pthread_self()
        let shared = Unchecked(t)
        var poster: pthread_t?
        let failures = Mutex<[String]>([])
        let starter = try SwiftUVStream.Timer(loop: t.loop)
        // Started from a callback, so every post reaches a running (polling) loop.
        try starter.start(timeout: 0) { _ in
            poster = try? startThread {
                if isCurrentThread(loopThread) { failures.withLock { $0.append("poster is the loop thread") } }
                for index in 0..<100 {
                    do {
                        try shared.value.loop.post {
                            let where_ = isCurrentThread(loopThread) ? "loop thread" : "OTHER THREAD"
                            shared.value.log("\(index) \(where_)")
                        }
                    } catch {
                        failures.withLock { $0.append("post failed: \(error)") }
                    }
                }
                do {
                    try shared.value.loop.post(function: { _, context in
                        let t = Unmanaged<TestLoop>.fromOpaque(context!).takeUnretainedValue()
                        t.log("function \(t.loop.isRunning ? "while running" : "NOT RUNNING")")
                    }, context: Unmanaged.passUnretained(shared.value).toOpaque())
                } catch {
                    failures.withLock { $0.append("post(function:) failed: \(error)") }
                }
            }
        }
        try t.run(until: { t.events.count == 101 })
        let thread = try #require(poster)
        joinThread(thread)
        #expect(failures.withLock { $0 } == [])
        #expect(t.events == (0..<100).map { "\($0) loop thread" } + ["function while running"])
    }

    @Test("posts from several threads at once all run, each thread's in its order")
    func concurrentPosts() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let loopThread = pthread_self()
        let shared = Unchecked(t)
        let threadCount = 4
        let perThread = 250
        var threads: [pthread_t] = []
        let starter = try SwiftUVStream.Timer(loop: t.loop)
        try starter.start(timeout: 0) { _ in
            for thread in 0..<threadCount {
                guard let started = try? startThread({
                    for index in 0..<perThread {
                        try? shared.value.loop.post {
                            let where_ = isCurrentThread(loopThread) ? "" : " OTHER THREAD"
                            shared.value.log("\(thread) \(index)\(where_)")
                        }
                    }
                }) else {
                    Issue.record("could not start a thread")
                    continue
                }
                threads.append(started)
            }
        }
        try t.run(until: { t.events.count == threadCount * perThread })
        threads.forEach(joinThread)
        #expect(t.events.count == threadCount * perThread)
        for thread in 0..<threadCount {
            let mine = t.events.filter { $0.hasPrefix("\(thread) ") }
            #expect(mine == (0..<perThread).map { "\(thread) \($0)" })
        }
    }

    @Test("calls from another thread while the loop runs throw wrongThread; post works")
    func wrongThread() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        let tcp = try TCP(loop: t.loop)
        let (server, _) = try makeServer(t) { _, _ in }
        // Keeps run() on the stack until the other thread reports back.
        let keepAlive = try SwiftUVStream.Timer(loop: t.loop)
        try keepAlive.start(timeout: 60_000) { _ in Issue.record("the other thread never reported") }
        let shared = Unchecked((t, timer, tcp, server, keepAlive))
        var caller: pthread_t?
        let starter = try SwiftUVStream.Timer(loop: t.loop)
        try starter.start(timeout: 0) { _ in
            caller = try? startThread {
                let (t, timer, tcp, server, _) = shared.value
                let loop = t.loop
                let results = [
                    "run " + outcome { try loop.run() },
                    "run noWait " + outcome { try loop.run(.noWait) },
                    "stop " + outcome { try loop.stop() },
                    "updateTime " + outcome { try loop.updateTime() },
                    "close loop " + outcome { try loop.close() },
                    "closeAll " + outcome { try loop.closeAllHandles() },
                    "new timer " + outcome { _ = try SwiftUVStream.Timer(loop: loop) },
                    "new tcp " + outcome { _ = try TCP(loop: loop) },
                    "timer start " + outcome { try timer.start(timeout: 0) { _ in } },
                    "timer stop " + outcome { try timer.stop() },
                    "timer again " + outcome { try timer.again() },
                    "timer repeat " + outcome { try timer.setRepeatInterval(1) },
                    "timer unref " + outcome { try timer.unreference() },
                    "timer close " + outcome { try timer.close() },
                    "tcp bind " + outcome { try tcp.bind(host: "127.0.0.1", port: 0) },
                    "tcp connect " + outcome { try tcp.connect(to: "127.0.0.1", port: 1, completion: .none) },
                    "tcp nodelay " + outcome { try tcp.setNoDelay(true) },
                    "tcp sockname " + outcome { _ = try server.socketName() },
                    "tcp sndbuf " + outcome { _ = try server.sendBufferSize() },
                    "tcp write " + outcome { try tcp.send("x", .none) },
                    "tcp read " + outcome { try tcp.readStop() },
                    "accept " + outcome { try server.accept(into: tcp) },
                    "listen " + outcome { try tcp.listen(backlog: 1) { _, _ in } },
                    "server close " + outcome { try server.close() },
                ]
                // The one thread-safe call: report back on the loop's thread.
                // (If it failed, the watchdog fails the test.)
                try? loop.post {
                    for line in results { shared.value.0.log(line) }
                    try? shared.value.4.close()
                    try? shared.value.3.unreference()
                }
            }
        }
        try t.run()
        let thread = try #require(caller)
        joinThread(thread)
        #expect(t.events.count == 24)
        for line in t.events {
            #expect(line.hasSuffix(" EWRONGTHREAD"), "\(line)")
        }
        // Nothing was changed by the refused calls.
        #expect(!timer.isActive && !timer.isClosing && timer.hasReference && timer.repeatInterval == 0)
        #expect(!tcp.isClosing && !tcp.isActive && !tcp.isWritable)
        #expect(server.isActive && !server.isClosing)
        #expect(!t.loop.isClosed)
    }

    @Test("another thread may run the loop; meanwhile the creating thread is the wrong one")
    func loopRunOnAnotherThread() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let running = Semaphore()
        let keepAlive = try SwiftUVStream.Timer(loop: t.loop)
        let runnerResult = Mutex<String>("not run")
        try keepAlive.start(timeout: 0, repeat: 60_000) { timer in
            t.log("tick on runner")
            running.signal()
        }
        let shared = Unchecked((t, keepAlive))
        let runner = try startThread {
            let result = outcome { try shared.value.0.loop.run() }
            runnerResult.withLock { $0 = result }
        }
        #expect(running.wait(), "the runner thread started the loop")
        #expect(throws: UVError.wrongThread) { try t.loop.updateTime() }
        #expect(throws: UVError.wrongThread) { try keepAlive.stop() }
        #expect(throws: UVError.wrongThread) { try t.loop.run() }
        #expect(throws: UVError.wrongThread) { try t.loop.close() }
        try t.loop.post {
            shared.value.0.log("posted on runner")
            try? shared.value.1.close()
        }
        joinThread(runner)
        #expect(runnerResult.withLock { $0 } == "ok")
        #expect(t.events == ["tick on runner", "posted on runner"])
        // The loop is back with no owner: this thread may use it again.
        try t.loop.updateTime()
        #expect(!t.loop.isRunning)
    }

    @Test("posting to a closed loop from another thread reports closed")
    func postToClosedLoop() throws {
        let loop = try Loop()
        try loop.close()
        let shared = Unchecked(loop)
        let result = Mutex<String>("")
        let thread = try startThread {
            let posted = outcome { try shared.value.post {} }
            result.withLock { $0 = posted }
        }
        joinThread(thread)
        #expect(result.withLock { $0 } == "ECLOSED")
    }
}
