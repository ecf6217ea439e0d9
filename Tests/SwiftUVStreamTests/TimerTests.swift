import CLibUV
import SwiftUVStream
import Testing

@Suite("Timer")
struct TimerTests {
    @Test("a one-shot timer fires once, not before its timeout, never inside start")
    func oneShot() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        #expect(!timer.isActive)
        try t.loop.updateTime()
        let started = t.loop.now
        var firedAt: UInt64 = 0
        try timer.start(timeout: 20) { fired in
            #expect(fired === timer)
            firedAt = t.loop.now
            t.log("fired active=\(fired.isActive)")
        }
        #expect(timer.isActive)
        #expect(t.events.isEmpty)
        try t.run()
        #expect(t.events == ["fired active=false"])
        #expect(firedAt >= started + 20)
        #expect(!timer.isActive)
        #expect(!timer.isClosing, "a timer that fired stays open")
    }

    @Test("a zero timeout fires on the next iteration, not inside start")
    func zeroTimeout() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        try timer.start(timeout: 0) { _ in t.log("fired") }
        #expect(t.events.isEmpty)
        try t.run()
        #expect(t.events == ["fired"])
    }

    @Test("timers fire in order of due time, ties in order of start")
    func order() throws {
        let t = try TestLoop()
        defer { t.finish() }
        var timers: [SwiftUVStream.Timer] = []
        for (name, timeout) in [("c", 30), ("a", 10), ("b", 20), ("a2", 10), ("z", 0)] {
            let timer = try SwiftUVStream.Timer(loop: t.loop)
            try timer.start(timeout: UInt64(timeout)) { _ in t.log(name) }
            timers.append(timer)
        }
        try t.run()
        #expect(t.events == ["z", "a", "a2", "b", "c"])
    }

    @Test("a repeating timer fires until stopped from its callback")
    func repeating() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        var count = 0
        try timer.start(timeout: 0, repeat: 1) { timer in
            count += 1
            t.log("tick \(count) active=\(timer.isActive)")
            if count == 4 { try? timer.stop() }
        }
        #expect(timer.repeatInterval == 1)
        try t.run()
        #expect(t.events == (1...4).map { "tick \($0) active=true" })
        #expect(!timer.isActive)
    }

    @Test("restarting replaces the callback and the timeout")
    func restart() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        try timer.start(timeout: 60_000) { _ in t.log("old") }
        try timer.start(timeout: 0) { _ in t.log("new") }
        try t.run()
        #expect(t.events == ["new"])
    }

    @Test("stop prevents the callback and may be repeated")
    func stop() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        try timer.stop()
        try timer.start(timeout: 0) { _ in t.log("fired") }
        try timer.stop()
        try timer.stop()
        #expect(!timer.isActive)
        #expect(try t.loop.run() == false)
        #expect(t.events.isEmpty)
    }

    @Test("again: EINVAL before any start; restarts with the repeat value; stops a one-shot")
    func again() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        #expect(throws: UVError.invalidArgument) { try timer.again() }

        try timer.start(timeout: 60_000, repeat: 0) { _ in t.log("one-shot") }
        try timer.again()
        #expect(!timer.isActive, "again stops a timer whose repeat is 0")

        var count = 0
        try timer.start(timeout: 60_000, repeat: 60_000) { _ in t.log("never") }
        try timer.setRepeatInterval(1)
        #expect(timer.repeatInterval == 1)
        try timer.start(timeout: 60_000, repeat: 1) { timer in
            count += 1
            t.log("tick \(count)")
            if count == 2 { try? timer.stop() }
        }
        try timer.again()  // timeout becomes the repeat value: 1 ms, not 60 s
        #expect(timer.isActive)
        try t.run(timeout: 20_000)
        #expect(t.events == ["tick 1", "tick 2"])
    }

    @Test("a new repeat interval takes effect at the next expiry")
    func setRepeatWhileStarted() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        var count = 0
        try timer.start(timeout: 0, repeat: 60_000) { timer in
            count += 1
            t.log("tick \(count)")
            if count == 3 { try? timer.stop() }
        }
        // Set while started, before the first expiry. (Set inside the callback it would
        // only apply one expiry later: libuv schedules the next one before the callback.)
        try timer.setRepeatInterval(1)
        // Without the change the second tick would take a minute: the watchdog fails it.
        try t.run(timeout: 20_000)
        #expect(t.events == ["tick 1", "tick 2", "tick 3"])
    }

    @Test("an unreferenced timer does not keep the loop alive")
    func unreferenced() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        try timer.start(timeout: 0) { _ in t.log("fired") }
        try timer.unreference()
        #expect(!timer.hasReference)
        #expect(timer.isActive)
        #expect(try t.loop.run() == false)
        try timer.reference()
        #expect(timer.hasReference)
        try t.run()
        #expect(t.events == ["fired"])
    }

    @Test("a timer may close itself from its callback; then every call reports closed")
    func closeFromCallback() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        try timer.start(timeout: 0, repeat: 1) { timer in
            t.log("tick")
            try? timer.close { _ in t.log("closed") }
        }
        try t.run()
        #expect(t.events == ["tick", "closed"])
        #expect(timer.isClosed)
        #expect(throws: UVError.closed) { try timer.start(timeout: 0) { _ in } }
        #expect(throws: UVError.closed) { try timer.stop() }
        #expect(throws: UVError.closed) { try timer.again() }
        #expect(throws: UVError.closed) { try timer.setRepeatInterval(5) }
        #expect(throws: UVError.closed) { try timer.reference() }
        #expect(throws: UVError.closed) { try timer.unreference() }
        #expect(timer.repeatInterval == 0)
        #expect(!timer.isActive)
        #expect(!timer.hasReference)
    }

    @Test("socket operations on a timer are invalid")
    func notASocket() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        #expect(timer.kind == .timer)
        #expect(throws: UVError.invalidArgument) { _ = try timer.fileDescriptor() }
        #expect(throws: UVError.invalidArgument) { _ = try timer.sendBufferSize() }
        #expect(throws: UVError.invalidArgument) { try timer.setReceiveBufferSize(4096) }
    }
}
