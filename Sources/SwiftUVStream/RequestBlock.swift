/// A libuv request (`Element`) and the stream's state for it (`Header`) in one
/// allocation, made on a stream's first request of that kind and freed with the block.
/// A stream has at most one connect and one shutdown in flight; keeping their state
/// here rather than in `Stream` keeps the streams that never make one (a server's
/// accepted connections) smaller.
typealias RequestBlock<State, Request> = ManagedBuffer<State, Request>

extension ManagedBuffer {
    /// A block with `state` and room for one request, which libuv initialises.
    static func request(with state: Header) -> ManagedBuffer {
        create(minimumCapacity: 1) { _ in state }
    }

    /// The request's memory. It lies inside the block, which never moves: the
    /// pointer stays valid as long as the block lives (libuv keeps it while the
    /// request runs, and the stream keeps the block until it is freed).
    var request: UnsafeMutablePointer<Element> {
        withUnsafeMutablePointerToElements { $0 }
    }
}
