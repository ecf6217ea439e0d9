import CLibUV

/// A timer: runs a callback after a timeout, then optionally repeatedly.
///
/// Threading: one loop, one thread. Not `Sendable`: use it on its loop's thread only —
/// from the loop's callbacks, or from code isolated to its ``LoopThread``. Elsewhere,
/// while the loop runs, every call throws ``UVError/wrongThread``.
public final class Timer: Handle {
    private var callback: Callback<(Timer) -> Void, HandleFunction>?

    /// Creates a stopped timer on `loop`.
    ///
    /// Threading: on the loop's thread, like every method of a handle.
    public init(loop: Loop) throws(UVError) {
        try loop.checkUsable()
        super.init(loop: loop, kind: .timer, type: UV_TIMER)
        try check(uv_timer_init(loop.raw, timer))
        didInitialize()
    }

    var timer: UnsafeMutablePointer<uv_timer_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_timer_t.self)
    }

    /// Starts or restarts the timer: `callback` runs after `timeout` ms, then every
    /// `repeat` ms if it is above 0.
    public func start(timeout: UInt64, repeat: UInt64 = 0, _ callback: @escaping (Timer) -> Void) throws(UVError) {
        try start(timeout: timeout, repeat: `repeat`, .closure(callback))
    }

    /// ``start(timeout:repeat:_:)`` with a C function: `function(timer, context)` runs
    /// at each expiry.
    public func start(
        timeout: UInt64, repeat: UInt64 = 0, function: @escaping HandleFunction, context: UnsafeMutableRawPointer?
    ) throws(UVError) {
        try start(timeout: timeout, repeat: `repeat`, .function(function, context))
    }

    private func start(
        timeout: UInt64, repeat: UInt64, _ callback: Callback<(Timer) -> Void, HandleFunction>
    ) throws(UVError) {
        try checkUsable()
        try check(uv_timer_start(timer, Timer.trampoline, timeout, `repeat`))
        self.callback = callback
    }

    /// Stops the timer; safe to repeat.
    public func stop() throws(UVError) {
        try checkUsable()
        uv_timer_stop(timer)
    }

    /// Stops the timer and, if it repeats, restarts it with its repeat value as the
    /// timeout (libuv 1.44 leaves a one-shot timer running; its documentation and this
    /// library stop it). `UV_EINVAL` if never started.
    public func again() throws(UVError) {
        try checkUsable()
        try check(uv_timer_again(timer))
        if uv_timer_get_repeat(timer) == 0 {
            uv_timer_stop(timer)
        }
    }

    /// The repeat interval in ms (0 once closed); setting it takes effect at the next expiry.
    public var repeatInterval: UInt64 {
        isClosing ? 0 : uv_timer_get_repeat(timer)
    }

    /// Sets the repeat interval in ms (0: one-shot); it takes effect at the next expiry.
    public func setRepeatInterval(_ interval: UInt64) throws(UVError) {
        try checkUsable()
        uv_timer_set_repeat(timer, interval)
    }

    private static let trampoline: uv_timer_cb = { raw in
        guard let raw else { return }
        let object = Handle.from(UnsafeMutableRawPointer(raw))
        guard let timer = object as? Timer else { return }
        switch timer.callback {
        case .closure(let body)?: body(timer)
        case .function(let function, let context)?: function(opaquePointer(timer), context)
        case nil: break
        }
    }

    override func didClose() {
        callback = nil
    }
}
