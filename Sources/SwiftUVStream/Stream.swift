import CLibUV

/// A callback for data read from a stream: `(stream, status, bytes)`. Status 0 with
/// bytes, `UV_EOF` at the end, or another negative code for a read error (see
/// ``StatusCode`` to name them). The bytes are borrowed from the loop's shared read
/// buffer and valid only during the call: copy what you keep, with `Array(bytes)`.
public typealias ReadCallback = (Stream, Int32, UnsafeRawBufferPointer) -> Void

/// A callback for a connection waiting on a listening stream: `(server, status)`.
public typealias ConnectionCallback = (Stream, Int32) -> Void

/// A byte stream over a libuv stream handle: the state machine that decides which
/// calls are legal, reading into the loop's shared buffer, and the write queue.
///
/// States: idle (no connection) → connecting → open (→ end of input, shut down) or
/// failed, or listening; then closing → closed. `isReadable` and `isWritable` track the two
/// directions separately, so a half-closed stream can still write.
///
/// Threading: one loop, one thread. Not `Sendable`: use it on its loop's thread only —
/// from the loop's callbacks, or from code isolated to its ``LoopThread``. Elsewhere,
/// while the loop runs, every call throws ``UVError/wrongThread``.
public class Stream: Handle {
    enum Phase {
        /// No connection yet; `failed`: a connect failed (libuv cannot reuse the
        /// socket reliably after that: make a new handle).
        case idle, connecting, open, listening, failed
    }

    /// A connect's report: what to tell, and a failure known before libuv was called
    /// (reported from the loop).
    struct ConnectState {
        var completion: RequestCompletion
        var deferredStatus: Int32?
    }

    /// Where incoming events go: a listening stream's connections, any other stream's
    /// reads. A stream never has both, so they share one slot.
    enum Receiver {
        case reads(Callback<ReadCallback, ReadFunction>)
        case connections(Callback<ConnectionCallback, StreamEventFunction>)
    }

    enum ShutdownState {
        case none
        /// Requested; waits until every queued byte is submitted to libuv.
        case waiting(RequestCompletion)
        case inProgress(RequestCompletion)
        /// Finished (or failed to start) inside the caller's call; reports from the loop.
        case finished(RequestCompletion, Int32)
        case done
    }

    // Flags first: they fill the padding after the handle's own flags.
    var phase = Phase.idle
    private var readable = false
    private var writable = false
    private var reading = false
    private var isDeferralScheduled = false
    /// Whether the write queue rose above the high watermark and has not yet fallen to
    /// the low one.
    public private(set) var isWriteBlocked = false
    private var receiver: Receiver?
    private var writabilityCallback: Callback<(Stream, Bool) -> Void, StreamEventFunction>?
    private var writes = WriteQueue()
    /// Crossings of the watermarks not yet reported to the writability callback.
    private var unreportedCrossings = 0

    /// The write-queue size above which the stream reports itself blocked.
    public private(set) var highWatermark = 65536
    /// The write-queue size at or below which a blocked stream reports writable again.
    public private(set) var lowWatermark = 16384
    // libuv requests, one of each per stream (a stream has at most one connect, one
    // write batch and one shutdown in flight), allocated on first use.
    private var connectBlock: RequestBlock<ConnectState, uv_connect_t>?
    private var writeBlock: RequestBlock<Void, uv_write_t>?
    private var shutdownBlock: RequestBlock<ShutdownState, uv_shutdown_t>?

    /// The shutdown's progress; `.none` until one is requested (which creates its block).
    private var shutdownState: ShutdownState {
        get { shutdownBlock?.header ?? .none }
        set { shutdownBlock?.header = newValue }
    }

    var stream: UnsafeMutablePointer<uv_stream_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
    }

    static func from(_ stream: UnsafeMutablePointer<uv_stream_t>?) -> Stream? {
        guard let stream, let data = stream.pointee.data else { return nil }
        return Unmanaged<Stream>.fromOpaque(data).takeUnretainedValue()
    }

    // MARK: State

    /// Whether data can still arrive: connected or connecting, no end of input or
    /// read error yet. False once closing.
    public var isReadable: Bool { !isClosing && readable }
    /// Whether writes are accepted: connected or connecting, not shut down, no error.
    public var isWritable: Bool { !isClosing && writable }
    /// Whether reading is started.
    public var isReading: Bool { !isClosing && reading }
    /// Whether the stream is active: reading or listening (as libuv counts it), and
    /// also while connecting, writing or waiting to shut down.
    public override var isActive: Bool {
        guard !isClosing else { return false }
        if super.isActive || phase == .connecting || !writes.isDrained { return true }
        switch shutdownState {
        case .waiting, .inProgress: return true
        case .none, .finished, .done: return false
        }
    }

    /// Bytes accepted by the writes and not yet handed to the kernel.
    public var writeQueueSize: Int { isClosing ? 0 : writes.size }

    /// The stream got a connection (connect finished, accept, or an adopted fd).
    func didConnect() {
        didOpen(readable: true, writable: true)
    }

    /// The stream is open with the given directions (a TTY may be output only).
    func didOpen(readable: Bool, writable: Bool) {
        phase = .open
        self.readable = readable
        self.writable = writable
    }

    /// Whether this is an IPC pipe, able to send handles.
    public var isIPC: Bool { false }

    /// The kind of the next handle received over an IPC pipe, if one waits.
    var pendingHandleKind: HandleKind? { nil }

    // MARK: Listening

    /// Listens for connections; `callback` runs for each. A listening stream stays
    /// alive until closed. `UV_EINVAL` for a stream that is reading, connecting or
    /// failed.
    public func listen(backlog: Int32, _ callback: @escaping ConnectionCallback) throws(UVError) {
        try listen(backlog: backlog, .closure(callback))
    }

    /// ``listen(backlog:_:)`` with a C function: `function(server, status, context)`
    /// runs for each connection.
    public func listen(
        backlog: Int32, function: @escaping StreamEventFunction, context: UnsafeMutableRawPointer?
    ) throws(UVError) {
        try listen(backlog: backlog, .function(function, context))
    }

    private func listen(
        backlog: Int32, _ callback: Callback<ConnectionCallback, StreamEventFunction>
    ) throws(UVError) {
        try checkUsable()
        guard backlog >= 0 else { throw .invalidArgument }
        // A reading stream's watcher serves its reads: libuv would share it with the
        // listener, and a later readStop would silently stop accepting.
        guard phase != .connecting, phase != .failed, !reading else { throw .invalidArgument }
        try check(uv_listen(stream, backlog, Stream.connectionTrampoline))
        receiver = .connections(callback)
        phase = .listening
        readable = false
        writable = false
    }

    /// Accepts a waiting connection into `client`, an unused stream of the same kind on
    /// the same loop. Throws `UV_EAGAIN` when nothing is waiting.
    public func accept(into client: Stream) throws(UVError) {
        try checkUsable()
        try client.checkUsable()
        // A handle received over an IPC pipe, else a connection on a listening stream.
        let expectedKind = pendingHandleKind ?? (phase == .listening ? kind : nil)
        guard let expectedKind, client.kind == expectedKind, client.loop === loop,
              client.phase == .idle, client !== self
        else { throw .invalidArgument }
        // libuv loses the connection if the client already has a socket: refuse first.
        var fd: uv_os_fd_t = -1
        guard uv_fileno(client.handle, &fd) == UV_EBADF.rawValue else { throw .invalidArgument }
        try check(uv_accept(stream, client.stream))
        client.didConnect()
    }

    private static let connectionTrampoline: uv_connection_cb = { server, status in
        guard let object = Stream.from(server) else { return }
        guard case .connections(let callback)? = object.receiver else { return }
        switch callback {
        case .closure(let body): body(object, status)
        case .function(let function, let context): function(opaquePointer(object), status, context)
        }
    }

    // MARK: Reading

    /// Starts reading; called while reading it only replaces the callback.
    public func readStart(_ callback: @escaping ReadCallback) throws(UVError) {
        try readStart(.closure(callback))
    }

    /// ``readStart(_:)`` with a C function: `function(stream, status, data, length,
    /// context)` receives what ``ReadCallback`` would.
    public func readStart(function: @escaping ReadFunction, context: UnsafeMutableRawPointer?) throws(UVError) {
        try readStart(.function(function, context))
    }

    func readStart(_ callback: Callback<ReadCallback, ReadFunction>) throws(UVError) {
        try checkUsable()
        if reading {
            receiver = .reads(callback)
            return
        }
        guard readable else { throw .notConnected }
        try check(uv_read_start(stream, Stream.allocTrampoline, Stream.readTrampoline))
        receiver = .reads(callback)
        reading = true
    }

    /// Stops reading, at once (also inside the read callback). Safe to repeat.
    public func readStop() throws(UVError) {
        try checkUsable()
        stopReading()
    }

    private func stopReading() {
        guard reading else { return }
        reading = false
        uv_read_stop(stream)
    }

    private static let allocTrampoline: uv_alloc_cb = { handle, _, buffer in
        guard let handle, let buffer else { return }
        let loop = Loop.from(handle.pointee.loop)
        buffer.pointee = uv_buf_t(
            base: loop.readBuffers.base.assumingMemoryBound(to: CChar.self), len: loop.readBuffers.size)
    }

    private static let readTrampoline: uv_read_cb = { raw, nread, _ in
        guard let object = Stream.from(raw) else { return }
        object.didRead(nread)
    }

    private func didRead(_ nread: Int) {
        if nread > 0 {
            deliverRead(0, UnsafeRawBufferPointer(start: loop.readBuffers.base, count: nread))
            return
        }
        // nread == 0 is libuv's "nothing this time" (EAGAIN): not end of input.
        guard nread < 0 else { return }
        stopReading()
        readable = false
        if nread != Int(UV_EOF.rawValue) {
            // A read error breaks the connection in both directions.
            writable = false
        }
        deliverRead(Int32(truncatingIfNeeded: nread), UnsafeRawBufferPointer(start: nil, count: 0))
    }

    private func deliverRead(_ status: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard case .reads(let callback)? = receiver else { return }
        switch callback {
        case .closure(let body):
            body(self, status, bytes)
        case .function(let function, let context):
            function(opaquePointer(self), status, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count, context)
        }
    }

    // MARK: Connecting (the kind-specific connect calls start it)

    /// Records a pending connect; `start` calls libuv with the connect request.
    /// A `failure` known before libuv is called is reported from the loop, as libuv
    /// reports its own connect errors.
    func beginConnect(
        _ completion: RequestCompletion,
        failure: Int32? = nil,
        start: (UnsafeMutablePointer<uv_connect_t>) -> Int32
    ) throws(UVError) {
        try checkUsable()
        switch phase {
        case .connecting: throw .alreadyInProgress
        case .open, .listening: throw .alreadyConnected
        case .failed: throw .invalidArgument
        case .idle: break
        }
        let block = connectBlock ?? .request(with: ConnectState(completion: .none))
        connectBlock = block
        if failure != nil {
            scheduleDeferredWork()
        } else {
            try check(start(block.request))
        }
        block.header = ConnectState(completion: completion, deferredStatus: failure)
        phase = .connecting
        readable = true
        writable = true
    }

    static let connectTrampoline: uv_connect_cb = { request, status in
        guard let object = Stream.from(request?.pointee.handle) else { return }
        object.didFinishConnect(status)
    }

    private func didFinishConnect(_ status: Int32) {
        let completion = connectBlock?.header.completion ?? .none
        connectBlock?.header.completion = .none
        if status == 0 {
            phase = .open
        } else {
            phase = .failed
            stopReading()
            readable = false
            writable = false
        }
        completion(self, status: status)
        if status != 0, !isClosing { observer?.streamConnectFailed(self, status: status) }
        if status != 0 {
            // Writes and a shutdown queued behind a failed connect are cancelled.
            writes.fail(UV_ECANCELED.rawValue)
            deliverFinishedWrites()
            finishShutdown(UV_ECANCELED.rawValue)
            if !isClosing { reportQueueChange() }
        } else if !isClosing {
            // Zero-byte writes made while connecting finish now, in order.
            deliverFinishedWrites()
            flushWrites()
        }
    }

    // MARK: Writing

    /// Writes `buffers` in order after every earlier write. The caller may reuse the
    /// buffers when this returns: with nothing queued the bytes go to the socket at
    /// once and only what it did not take is copied. `completion` reports once, from
    /// the loop, in submission order; I/O errors arrive there.
    /// With `sendHandle` (an open TCP or pipe stream, on an IPC pipe only) the handle
    /// travels with the first byte. What is sent is a duplicate of its descriptor,
    /// made here: the caller may close `sendHandle` as soon as this returns.
    public func write(
        _ buffers: UnsafeBufferPointer<uv_buf_t>, sendHandle: Stream? = nil, completion: RequestCompletion
    ) throws(UVError) {
        _ = try write(buffers, sendHandle: sendHandle, completion: completion, finishingAtOnce: false)
    }

    /// Writes `buffers` like ``write(_:sendHandle:completion:)-(UnsafeBufferPointer<uv_buf_t>,_,_)``,
    /// except that a write the socket takes whole inside the call (connected, nothing
    /// queued) is finished when this returns: `true`, and `completion` is dropped without
    /// being called. Otherwise `false`, and `completion` reports from the loop as with
    /// `write`. For callers whose per-write report costs more than the write (the Python
    /// face): they learn at once which writes need no report.
    public func writeNow(
        _ buffers: UnsafeBufferPointer<uv_buf_t>, completion: RequestCompletion
    ) throws(UVError) -> Bool {
        try write(buffers, sendHandle: nil, completion: completion, finishingAtOnce: true)
    }

    func write(
        _ buffers: UnsafeBufferPointer<uv_buf_t>, sendHandle: Stream?, completion: RequestCompletion,
        finishingAtOnce: Bool
    ) throws(UVError) -> Bool {
        try checkUsable()
        guard writable else { throw .brokenPipe }
        if let sendHandle { try checkSendable(sendHandle) }
        var total = 0
        for buffer in buffers {
            let (sum, overflow) = total.addingReportingOverflow(buffer.len)
            guard !overflow, buffer.len >= 0, buffer.base != nil || buffer.len == 0 else {
                throw .invalidArgument
            }
            total = sum
        }
        if sendHandle != nil, total == 0 { throw .invalidArgument }
        var carrier: Stream?
        if let sendHandle { carrier = try duplicateForSending(sendHandle) }
        var sent = 0
        let direct = phase == .open && writes.isDrained && sendHandle == nil
        if direct, total > 0, let base = buffers.baseAddress {
            let result = uv_try_write(stream, base, UInt32(clamping: buffers.count))
            if result >= 0 {
                sent = Int(result)
            } else if result != UV_EAGAIN.rawValue {
                writable = false
                writes.accept(count: total, alreadyWritten: 0, completion: completion)
                writes.fail(result)
                scheduleDeferredWork()
                return false
            }
        }
        // The common case, everything written at once, has nothing to copy.
        if sent < total {
            guard copyUnsent(buffers, skipping: sent) else {
                carrier?.closeOnLoopThread(nil)
                throw .outOfMemory
            }
        }
        let finished = finishingAtOnce && direct && sent == total
        writes.accept(
            count: total, alreadyWritten: sent, sendHandle: carrier, completion: finished ? .none : completion)
        if updateWriteBlocked() { scheduleDeferredWork() }
        // While connecting, even a zero-byte write waits for the connect's outcome.
        if phase == .open {
            if writes.hasFinishedRequest { scheduleDeferredWork() }
            flushWrites()
        }
        return finished
    }

    private func checkSendable(_ handle: Stream) throws(UVError) {
        guard isIPC, handle.kind == .tcp || handle.kind == .pipe, handle.loop === loop else {
            throw .invalidArgument
        }
        if handle.isClosing { throw .closed }
        var fd: uv_os_fd_t = -1
        try check(uv_fileno(handle.handle, &fd))
    }

    /// What travels for `handle`: a stream of its kind over a duplicate of its
    /// descriptor, which the write queue closes once the write is done with it. libuv
    /// reads the descriptor when it sends, which may be long after the write call; by
    /// then the caller may have closed `handle`, and sending its closed descriptor
    /// would fail the write and break the pipe.
    private func duplicateForSending(_ handle: Stream) throws(UVError) -> Stream {
        var fd: uv_os_fd_t = -1
        try check(uv_fileno(handle.handle, &fd))
        let duplicate = try check(clibuv_duplicate(fd))
        let carrier: Stream
        do throws(UVError) {
            carrier = handle.kind == .tcp ? try TCP(loop: loop) : try Pipe(loop: loop)
            carrier.isInternal = true
        } catch {
            clibuv_close(duplicate)
            throw error
        }
        do throws(UVError) {
            if let tcp = carrier as? TCP { try tcp.open(duplicate) } else if let pipe = carrier as? Pipe { try pipe.open(duplicate) }
        } catch {
            clibuv_close(duplicate)
            carrier.closeOnLoopThread(nil)
            throw error
        }
        return carrier
    }

    /// Writes one buffer; see the `uv_buf_t` form of `write`, `write(_:sendHandle:completion:)`.
    public func write(_ bytes: UnsafeRawBufferPointer, completion: RequestCompletion) throws(UVError) {
        var buffer = uv_buf_t(
            base: UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: CChar.self)),
            len: bytes.count)
        try withUnsafePointer(to: &buffer) { (pointer) throws(UVError) in
            try write(UnsafeBufferPointer(start: pointer, count: 1), completion: completion)
        }
    }

    /// Writes what the socket takes now without queueing; `UV_EAGAIN` if nothing can
    /// be written now or writes are queued (it never reorders data).
    public func tryWrite(_ buffers: UnsafeBufferPointer<uv_buf_t>) throws(UVError) -> Int {
        try checkUsable()
        guard writable else { throw .brokenPipe }
        guard phase == .open, writes.isDrained else { throw .tryAgain }
        var count = 0
        var total = 0
        for buffer in buffers {
            guard buffer.len >= 0, buffer.base != nil || buffer.len == 0 else { throw .invalidArgument }
            // uv_try_write reports an int: never offer it more than Int32.max bytes.
            guard buffer.len <= Int(Int32.max) - total else { break }
            total += buffer.len
            count += 1
        }
        if count == 0, let first = buffers.first, first.len > 0 {
            // A first buffer beyond Int32.max: offer its first Int32.max bytes.
            var capped = uv_buf_t(base: first.base, len: Int(Int32.max))
            return Int(try check(uv_try_write(stream, &capped, 1)))
        }
        guard count > 0, let base = buffers.baseAddress else { return 0 }
        return Int(try check(uv_try_write(stream, base, UInt32(count))))
    }

    /// Copies the bytes of `buffers` after the first `skip` into the pending queue.
    private func copyUnsent(_ buffers: UnsafeBufferPointer<uv_buf_t>, skipping skip: Int) -> Bool {
        var skip = skip
        for buffer in buffers where buffer.len > 0 {
            if skip >= buffer.len {
                skip -= buffer.len
                continue
            }
            let bytes = UnsafeRawBufferPointer(start: buffer.base, count: buffer.len)
            guard writes.pending.append(UnsafeRawBufferPointer(rebasing: bytes[skip...])) else {
                return false
            }
            skip = 0
        }
        return true
    }

    /// Submits the pending bytes as one libuv write if none is in flight; starts a
    /// waiting shutdown once nothing is left to submit.
    private func flushWrites() {
        if !writes.isWriting, !writes.pending.isEmpty, writes.failure == 0 {
            let result: Int32
            if let (bytes, sendHandle) = writes.beginBatch() {
                let block = writeBlock ?? .request(with: ())
                writeBlock = block
                var buffer = uv_buf_t(
                    base: UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: CChar.self)),
                    len: bytes.count)
                result = uv_write2(
                    block.request, stream, &buffer, 1, sendHandle?.stream, Stream.writeTrampoline)
            } else {
                result = UV_ENOMEM.rawValue
            }
            if result < 0 {
                writes.endBatch(status: result)
                writable = false
                scheduleDeferredWork()
            }
        }
        // libuv would shut down behind a write still in flight but report the shutdown
        // before that write: wait until the queue is fully drained instead.
        if case .waiting = shutdownState, writes.isDrained {
            startShutdown()
        }
    }

    private static let writeTrampoline: uv_write_cb = { request, status in
        guard let object = Stream.from(request?.pointee.handle) else { return }
        object.didFinishWrite(status)
    }

    private func didFinishWrite(_ status: Int32) {
        writes.endBatch(status: status)
        if status != 0 {
            writable = false
        }
        deliverFinishedWrites()
        if !isClosing {
            flushWrites()
            reportQueueChange()
        }
    }

    /// Reports every request at the head of the queue that has finished, in order.
    /// Callbacks may write, close or release: the queue is consistent before each.
    private func deliverFinishedWrites() {
        while let (completion, status) = writes.popFinished() {
            completion(self, status: status)
        }
    }

    // MARK: Shutdown

    /// Shuts the write side down once every queued write is sent; the stream stops
    /// being writable at once. `UV_ENOTCONN` if it is not writable.
    public func shutdown(completion: RequestCompletion) throws(UVError) {
        try checkUsable()
        // One shutdown per stream: libuv may still hold an earlier block's request.
        guard writable, shutdownBlock == nil else { throw .notConnected }
        writable = false
        shutdownBlock = .request(with: .waiting(completion))
        if phase == .open {
            flushWrites()
        }
    }

    private func startShutdown() {
        guard let block = shutdownBlock, case .waiting(let completion) = block.header else { return }
        let result = uv_shutdown(block.request, stream, Stream.shutdownTrampoline)
        if result < 0 {
            shutdownState = .finished(completion, result)
            scheduleDeferredWork()
        } else {
            shutdownState = .inProgress(completion)
        }
    }

    private static let shutdownTrampoline: uv_shutdown_cb = { request, status in
        guard let object = Stream.from(request?.pointee.handle) else { return }
        object.deliverFinishedWrites()
        object.finishShutdown(status)
    }

    /// Reports the shutdown request, if one is waiting, in progress or finished.
    private func finishShutdown(_ status: Int32) {
        let completion: RequestCompletion
        var status = status
        switch shutdownState {
        case .none, .done: return
        case .waiting(let waiting): completion = waiting
        case .inProgress(let running): completion = running
        case .finished(let finished, let result):
            completion = finished
            status = result
        }
        shutdownState = .done
        completion(self, status: status)
    }

    // MARK: Flow control

    /// Sets the write-queue watermarks (`0 <= low <= high`). Advisory: writes above the
    /// high watermark are still accepted.
    public func setWriteWatermarks(high: Int, low: Int) throws(UVError) {
        try checkUsable()
        guard low >= 0, low <= high else { throw .invalidArgument }
        highWatermark = high
        lowWatermark = low
        if updateWriteBlocked() { scheduleDeferredWork() }
    }

    /// Registers `callback(stream, writable)`, called from the loop once per crossing:
    /// false when the queue rises above the high watermark, true when it falls to the
    /// low one (or the stream can no longer be written). nil unregisters.
    public func onWritabilityChanged(_ callback: ((Stream, Bool) -> Void)?) throws(UVError) {
        try checkUsable()
        writabilityCallback = callback.map { .closure($0) }
    }

    /// ``onWritabilityChanged(_:)`` with a C function: `function(stream, writable,
    /// context)`, writable 1 or 0. nil unregisters.
    public func onWritabilityChanged(
        function: StreamEventFunction?, context: UnsafeMutableRawPointer?
    ) throws(UVError) {
        try checkUsable()
        writabilityCallback = function.map { .function($0, context) }
    }

    /// Recomputes `isWriteBlocked` with hysteresis; true if it changed.
    @discardableResult
    private func updateWriteBlocked() -> Bool {
        let size = writes.size
        let crossed = isWriteBlocked
            ? size <= lowWatermark || writes.failure != 0
            : size > highWatermark
        if crossed {
            isWriteBlocked.toggle()
            unreportedCrossings += 1
        }
        return crossed
    }

    /// After the queue changed, from the loop: updates and reports writability.
    private func reportQueueChange() {
        updateWriteBlocked()
        reportWritability()
    }

    /// Tells the callback about a change not yet reported (always from the loop).
    private func reportWritability() {
        // Every crossing is reported, even one undone before the loop could report
        // it (a producer that saw isWriteBlocked must also hear it end).
        while unreportedCrossings > 0, !isClosing {
            unreportedCrossings -= 1
            // Crossings alternate, so the oldest unreported one ended in this state:
            let blocked = isWriteBlocked != (unreportedCrossings % 2 == 1)
            switch writabilityCallback {
            case .closure(let body)?: body(self, !blocked)
            case .function(let function, let context)?: function(opaquePointer(self), blocked ? 0 : 1, context)
            case nil: break
            }
            // The async layer's writers wait for this too (nil unless it is in use).
            observer?.streamWritabilityChanged(self, writable: !blocked)
        }
    }

    // MARK: Reporting from the loop

    private func scheduleDeferredWork() {
        guard !isDeferralScheduled else { return }
        isDeferralScheduled = true
        loop.scheduleDeferredWork(for: self)
    }

    /// Reports what finished inside a caller's own call (see `Loop.scheduleDeferredWork`).
    func runDeferredWork() {
        isDeferralScheduled = false
        if let status = connectBlock?.header.deferredStatus {
            connectBlock?.header.deferredStatus = nil
            didFinishConnect(status)
        }
        deliverFinishedWrites()
        if !isClosing {
            reportQueueChange()
        }
        if case .finished(_, let status) = shutdownState {
            finishShutdown(status)
        }
    }

    // MARK: Closing

    override func didClose() {
        // libuv has already cancelled its own requests (connect, the in-flight write,
        // a started shutdown) through the trampolines; cancel what never reached it.
        if connectBlock?.header.deferredStatus != nil {
            connectBlock?.header.deferredStatus = nil
            didFinishConnect(UV_ECANCELED.rawValue)
        }
        connectBlock?.header.completion = .none
        writes.fail(UV_ECANCELED.rawValue)
        deliverFinishedWrites()
        finishShutdown(UV_ECANCELED.rawValue)
        reading = false
        readable = false
        writable = false
        receiver = nil
        writabilityCallback = nil
    }
}
