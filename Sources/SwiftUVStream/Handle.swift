import CLibUV

/// What a handle is (`Sendable`: any thread).
public enum HandleKind: Int32, Sendable {
    /// A TCP stream (``TCP``).
    case tcp = 1
    /// A pipe stream (``Pipe``).
    case pipe = 2
    /// A terminal stream (``TTY``).
    case tty = 3
    /// A timer (``Timer``).
    case timer = 4
}

/// The async layer's hook into a handle (see `Handle.observer`, Async/AsyncState.swift).
///
/// The close callback and the writability callback are single slots that belong to
/// the handle's owner; the async layer must hear both events without taking them, so a
/// task suspended on the handle is always resumed. Internal: not API.
protocol HandleObserver: AnyObject {
    /// The handle has closed: its pending requests have completed, and its owner's
    /// close callback is about to run.
    func handleDidClose(_ handle: Handle)
    /// A stream's write queue crossed a watermark (reported right after the owner's
    /// writability callback, once per crossing).
    func streamWritabilityChanged(_ stream: Stream, writable: Bool)
    /// A stream's connect failed with `status`: the stream stopped reading without a
    /// read callback (the owner hears of it from the connect's completion).
    func streamConnectFailed(_ stream: Stream, status: Int32)
}

/// The base of every handle: a libuv handle in memory the object owns, and the
/// lifetime rule every handle follows.
///
/// Lifetime: from creation until its close callback has run, libuv may call back
/// into the object, so the object keeps itself alive for that span (a retain held in
/// the libuv handle's `data`). Owners hold their own references on top; the memory
/// is freed when both are gone, never while libuv can still call back.
///
/// Threading: every method must be called on the loop's thread while it runs.
public class Handle {
    /// The loop this handle lives on.
    public let loop: Loop
    let handle: UnsafeMutablePointer<uv_handle_t>
    /// A free slot for the owner; the library never touches it.
    public var userData: UnsafeMutableRawPointer?
    /// Hook for the async layer (Async/): nil unless the async API was used on this
    /// handle. Added so that suspended tasks hear of closing and writability without
    /// taking the owner's callback slots; it changes nothing while nil.
    var observer: HandleObserver?
    private var closeCallback: Callback<(Handle) -> Void, HandleFunction>?
    // The one-byte fields sit together after the one-byte tag of `closeCallback`
    // (and subclasses' flags right after them): every stored byte of a handle counts
    // once a server holds thousands of idle connections.
    /// What this handle is.
    public let kind: HandleKind
    private var isInitialized = false
    /// A handle the library made for itself (a duplicate travelling with a write over
    /// an IPC pipe): ``Loop/closeAllHandles(_:)`` leaves it to its owner.
    var isInternal = false
    /// Whether ``close(_:)`` has been called (the handle may still be closing).
    public private(set) var isClosing = false
    /// Whether the close callback has run.
    public private(set) var isClosed = false
    /// Set by a binding that hands the handle out with a counted reference (the C
    /// face's `uvs_release`) once its owner has given that reference back, so that a
    /// second release is ignored instead of freeing the handle early. The core never
    /// reads it.
    public var isReleasedByOwner = false

    /// Allocates zeroed memory for a libuv handle of `type`; the subclass initialises
    /// it with libuv and then calls ``didInitialize()``.
    init(loop: Loop, kind: HandleKind, type: uv_handle_type) {
        self.loop = loop
        self.kind = kind
        let size = uv_handle_size(type)
        let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        self.handle = memory.bindMemory(to: uv_handle_t.self, capacity: 1)
        LiveObjects.insert(self)
    }

    deinit {
        LiveObjects.remove(self)
        // Reached only before libuv initialised the handle or after its close callback.
        handle.deallocate()
    }

    /// Called by subclasses once libuv has initialised the handle: from here on the
    /// object is reachable from libuv and keeps itself alive until closed.
    func didInitialize() {
        isInitialized = true
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        loop.didOpenHandle()
    }

    /// The handle object behind a libuv handle pointer.
    static func from(_ handle: UnsafeMutableRawPointer) -> Handle {
        let raw = handle.assumingMemoryBound(to: uv_handle_t.self)
        return Unmanaged<Handle>.fromOpaque(UnsafeRawPointer(raw.pointee.data)).takeUnretainedValue()
    }

    /// Throws unless the handle is open and the caller is on the loop's thread.
    @inline(__always)
    func checkUsable() throws(UVError) {
        try loop.checkThread()
        if isClosing { throw .closed }
    }

    // MARK: Closing

    /// Closes the handle. Pending requests complete with `UV_ECANCELED` (or 0 if they
    /// had finished) before `callback` runs, once, from the loop. Idempotent: a second
    /// call neither replaces nor adds a callback.
    public func close(_ callback: ((Handle) -> Void)? = nil) throws(UVError) {
        try loop.checkThread()
        closeOnLoopThread(callback)
    }

    /// ``close(_:)`` with a C function: `function(handle, context)` runs once closed
    /// (nil: nothing is told).
    public func close(function: HandleFunction?, context: UnsafeMutableRawPointer?) throws(UVError) {
        try loop.checkThread()
        beginClose(function.map { .function($0, context) })
    }

    /// ``close(_:)`` for callers that already know they are on the loop's thread.
    func closeOnLoopThread(_ callback: ((Handle) -> Void)?) {
        beginClose(callback.map { .closure($0) })
    }

    private func beginClose(_ callback: Callback<(Handle) -> Void, HandleFunction>?) {
        guard !isClosing, isInitialized else { return }
        isClosing = true
        closeCallback = callback
        uv_close(handle, Handle.closeTrampoline)
    }

    /// Subclass hook, run when libuv has closed the handle and before the owner's
    /// close callback: complete whatever is still pending and drop callbacks.
    func didClose() {}

    private static let closeTrampoline: uv_close_cb = { raw in
        guard let raw else { return }
        let object = Handle.from(UnsafeMutableRawPointer(raw))
        object.didClose()
        object.isClosed = true
        object.loop.didCloseHandle()
        if let observer = object.observer {
            object.observer = nil
            observer.handleDidClose(object)
        }
        let callback = object.closeCallback
        object.closeCallback = nil
        switch callback {
        case .closure(let body)?: body(object)
        case .function(let function, let context)?: function(opaquePointer(object), context)
        case nil: break
        }
        // libuv is done with the handle: give up the retain taken in didInitialize().
        Unmanaged.passUnretained(object).release()
    }

    // MARK: State

    /// Whether the handle is active (reading, listening, connecting, writing, a
    /// started timer); false once closing.
    public var isActive: Bool {
        !isClosing && isInitialized && uv_is_active(handle) != 0
    }

    /// Whether the handle keeps the loop alive while active; false once closing.
    public var hasReference: Bool {
        !isClosing && isInitialized && uv_has_ref(handle) != 0
    }

    /// Makes the handle keep the loop alive while active (the default).
    public func reference() throws(UVError) {
        try checkUsable()
        uv_ref(handle)
    }

    /// Makes the handle not keep the loop alive.
    public func unreference() throws(UVError) {
        try checkUsable()
        uv_unref(handle)
    }

    /// The handle's file descriptor; it stays owned by the handle.
    public func fileDescriptor() throws(UVError) -> Int32 {
        if kind == .timer { throw .invalidArgument }
        if isClosing { throw .closed }
        var fd: uv_os_fd_t = -1
        try check(uv_fileno(handle, &fd))
        return fd
    }

    // MARK: Socket buffer sizes

    /// The socket's send buffer size as it was set (Linux stores twice the requested
    /// value; the library reports half, so a value set reads back unchanged).
    public func sendBufferSize() throws(UVError) -> Int32 {
        try bufferSize(uv_send_buffer_size, setting: 0)
    }

    /// Sets the socket's send buffer size (> 0).
    public func setSendBufferSize(_ size: Int32) throws(UVError) {
        guard size > 0 else { throw .invalidArgument }
        _ = try bufferSize(uv_send_buffer_size, setting: size)
    }

    /// The socket's receive buffer size, reported like ``sendBufferSize()``.
    public func receiveBufferSize() throws(UVError) -> Int32 {
        try bufferSize(uv_recv_buffer_size, setting: 0)
    }

    /// Sets the socket's receive buffer size (> 0).
    public func setReceiveBufferSize(_ size: Int32) throws(UVError) {
        guard size > 0 else { throw .invalidArgument }
        _ = try bufferSize(uv_recv_buffer_size, setting: size)
    }

    private func bufferSize(
        _ operation: (UnsafeMutablePointer<uv_handle_t>?, UnsafeMutablePointer<Int32>?) -> Int32,
        setting value: Int32
    ) throws(UVError) -> Int32 {
        if kind == .timer { throw .invalidArgument }
        try checkUsable()
        var value = value
        try check(operation(handle, &value))
        #if os(Linux)
        return value / 2
        #else
        return value
        #endif
    }
}
