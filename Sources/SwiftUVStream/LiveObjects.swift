import Synchronization

/// The addresses of every live ``Loop`` and ``Handle``.
///
/// A language bridge hands out object addresses as opaque handles; with this set it
/// can tell one of its own from any other pointer (a stale one, a pointer to some
/// other struct) before touching it, and report an error instead of crashing.
public enum LiveObjects {
    private static let addresses = Mutex<Set<UInt>>([])

    /// Whether `pointer` is the address of a live loop or handle.
    public static func contains(_ pointer: UnsafeRawPointer) -> Bool {
        let address = UInt(bitPattern: pointer)
        return addresses.withLock { $0.contains(address) }
    }

    static func insert(_ object: AnyObject) {
        let address = address(of: object)
        _ = addresses.withLock { $0.insert(address) }
    }

    static func remove(_ object: AnyObject) {
        let address = address(of: object)
        _ = addresses.withLock { $0.remove(address) }
    }

    private static func address(of object: AnyObject) -> UInt {
        UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque())
    }
}
