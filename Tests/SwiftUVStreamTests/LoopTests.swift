import CLibUV
import SwiftUVStream
import Testing

@Suite("Loop")
struct LoopTests {
    @Test("a new loop has no work: every run mode returns false at once")
    func freshLoopHasNoWork() throws {
        let t = try TestLoop()
        defer { t.finish() }
        #expect(!t.loop.isAlive)
        #expect(!t.loop.isRunning)
        #expect(!t.loop.isClosed)
        #expect(t.loop.handleCount == 0)
        #expect(try t.loop.run(.default) == false)
        #expect(try t.loop.run(.once) == false)
        #expect(try t.loop.run(.noWait) == false)
    }

    @Test("a buffer size of 0 or less is rejected", arguments: [0, -1, Int.min])
    func invalidBufferSize(size: Int) {
        #expect(throws: UVError.invalidArgument) { _ = try Loop(bufferSize: size) }
    }

    @Test("handleCount counts a handle until its close callback has run")
    func handleCount() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let first = try SwiftUVStream.Timer(loop: t.loop)
        let second = try TCP(loop: t.loop)
        #expect(t.loop.handleCount == 2)
        try first.close { _ in t.log("close timer (count \(t.loop.handleCount))") }
        #expect(t.loop.handleCount == 2, "still counted while closing")
        try t.loop.run()  // (no watchdog here: it would be a handle too)
        #expect(t.events == ["close timer (count 1)"])
        #expect(t.loop.handleCount == 1)
        #expect(second.isClosing == false)
    }

    @Test("closeAllHandles closes each open handle once, with the callback, and counts them")
    func closeAllHandles() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        let tcp = try TCP(loop: t.loop)
        let already = try SwiftUVStream.Timer(loop: t.loop)
        try already.close { _ in t.log("own close") }
        let closed = try t.loop.closeAllHandles { handle in t.log("all \(handle.kind)") }
        #expect(closed == 2)
        #expect(timer.isClosing && tcp.isClosing)
        #expect(try t.loop.closeAllHandles() == 0, "nothing left to close")
        #expect(t.events.isEmpty, "close callbacks never run inside the call")
        try t.loop.run()
        // libuv runs close callbacks in reverse order of closing.
        #expect(t.events.sorted() == ["all tcp", "all timer", "own close"])
        #expect(t.loop.handleCount == 0)
    }

    @Test("a referenced active handle keeps the loop alive; an unreferenced one does not")
    func aliveness() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        #expect(!t.loop.isAlive, "an inactive handle is no work")
        try timer.start(timeout: 60_000) { _ in t.log("fired") }
        #expect(t.loop.isAlive)
        try timer.unreference()
        #expect(!t.loop.isAlive)
        #expect(try t.loop.run() == false, "returns at once: nothing referenced")
        #expect(t.events.isEmpty)
        try timer.reference()
        #expect(t.loop.isAlive)
    }

    @Test("run is not reentrant and close fails while running")
    func runInsideRun() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        try timer.start(timeout: 0) { _ in
            t.log("running \(t.loop.isRunning)")
            t.log("run " + outcome { try t.loop.run() })
            t.log("run once " + outcome { try t.loop.run(.once) })
            t.log("close " + outcome { try t.loop.close() })
        }
        #expect(!t.loop.isRunning)
        try t.run()
        #expect(t.events == ["running true", "run EBUSY", "run once EBUSY", "close EBUSY"])
        #expect(!t.loop.isRunning)
        #expect(!t.loop.isClosed)
    }

    @Test("stop inside a callback ends run after that iteration, with work left")
    func stopFromCallback() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        var ticks = 0
        try timer.start(timeout: 1, repeat: 1) { timer in
            ticks += 1
            if ticks == 3 { try? t.loop.stop() }
            if ticks == 5 { try? timer.stop() }
        }
        #expect(try t.loop.run() == true, "stopped with the timer still active")
        #expect(ticks == 3)
        #expect(timer.isActive)
        try t.run()
        #expect(ticks == 5, "a later run carries on")
    }

    @Test("stop while not running makes the next run return at once")
    func stopBeforeRun() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        try timer.start(timeout: 0) { _ in t.log("fired") }
        try t.loop.stop()
        #expect(try t.loop.run() == true)
        #expect(t.events.isEmpty)
        #expect(try t.loop.run() == false)
        #expect(t.events == ["fired"])
    }

    @Test("run(.noWait) runs what is ready without blocking")
    func runNoWait() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let late = try SwiftUVStream.Timer(loop: t.loop)
        try late.start(timeout: 60_000) { _ in t.log("late") }
        let soon = try SwiftUVStream.Timer(loop: t.loop)
        try soon.start(timeout: 0) { _ in t.log("soon") }
        #expect(try t.loop.run(.noWait) == true, "the late timer remains")
        #expect(t.events == ["soon"])
    }

    @Test("now is monotonic and updateTime refreshes it")
    func time() throws {
        let t = try TestLoop()
        defer { t.finish() }
        try t.loop.updateTime()
        let before = t.loop.now
        let timer = try SwiftUVStream.Timer(loop: t.loop)
        var inside: UInt64 = 0
        try timer.start(timeout: 5) { _ in inside = t.loop.now }
        try t.run()
        #expect(inside >= before + 5)
        try t.loop.updateTime()
        #expect(t.loop.now >= inside)
    }

    @Test("functions posted before run run first, in order; they keep the loop alive")
    func postBeforeRun() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let order = Unchecked(t)
        try t.loop.post { order.value.log("closure 1") }
        try t.loop.post(function: { _, context in
            Unmanaged<TestLoop>.fromOpaque(context!).takeUnretainedValue().log("function")
        }, context: Unmanaged.passUnretained(t).toOpaque())
        try t.loop.post { order.value.log("closure 2") }
        #expect(t.events.isEmpty, "posting never runs the function inside the call")
        #expect(t.loop.isAlive, "waiting posted functions are work")
        #expect(throws: UVError.busy, "close with posted functions waiting") { try t.loop.close() }
        #expect(try t.loop.run() == false)
        #expect(t.events == ["closure 1", "function", "closure 2"])
        #expect(!t.loop.isAlive)
    }

    @Test("a function posted from a posted function runs in the same run")
    func postFromPosted() throws {
        let t = try TestLoop()
        defer { t.finish() }
        let box = Unchecked(t)
        try t.loop.post {
            box.value.log("outer")
            do {
                try box.value.loop.post { box.value.log("inner") }
            } catch {
                Issue.record("post from the loop thread failed: \(error)")
            }
        }
        try t.run()
        #expect(t.events == ["outer", "inner"])
    }

    @Test("close is idempotent, and every later call reports closed")
    func closedLoop() throws {
        let t = try TestLoop()
        defer { t.finish() }
        try t.loop.close()
        #expect(t.loop.isClosed)
        try t.loop.close()
        #expect(throws: UVError.closed) { try t.loop.run() }
        #expect(throws: UVError.closed) { try t.loop.run(.noWait) }
        #expect(throws: UVError.closed) { try t.loop.stop() }
        #expect(throws: UVError.closed) { try t.loop.updateTime() }
        #expect(throws: UVError.closed) { try t.loop.closeAllHandles() }
        #expect(throws: UVError.closed) { _ = try SwiftUVStream.Timer(loop: t.loop) }
        #expect(throws: UVError.closed) { _ = try TCP(loop: t.loop) }
        #expect(throws: UVError.closed) { try t.loop.post {} }
        #expect(throws: UVError.closed) {
            try t.loop.post(function: { _, _ in }, context: nil)
        }
        #expect(!t.loop.isAlive)
        #expect(t.loop.now == 0)
        #expect(t.loop.handleCount == 0)
    }

    @Test("a closed handle and its loop are freed once the test lets go of them")
    func freedAfterClose() throws {
        weak var weakLoop: Loop?
        weak var weakTimer: SwiftUVStream.Timer?
        do {
            let loop = try Loop()
            let timer = try SwiftUVStream.Timer(loop: loop)
            weakLoop = loop
            weakTimer = timer
            try timer.start(timeout: 0) { _ in }
            try timer.close()
            try loop.run()
            #expect(timer.isClosed)
            // Released without loop.close(): deinit closes it.
        }
        #expect(weakTimer == nil, "the handle's self-retain ends with its close callback")
        #expect(weakLoop == nil)
    }
}
