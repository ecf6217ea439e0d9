import Synchronization

/// The addresses of every live ``Loop`` and ``Handle``.
///
/// A language bridge hands out object addresses as opaque handles; with this set it
/// can tell one of its own from any other pointer (a stale one, a pointer to some
/// other struct) before touching it, and report an error instead of crashing. It is
/// asked on every C call, so it is a small open-addressing table with a cheap hash
/// rather than a `Set` (whose SipHash cost more than the lookup it guards).
public enum LiveObjects {
    private static let addresses = Mutex(AddressTable())

    /// Whether `pointer` is the address of a live loop or handle.
    public static func contains(_ pointer: UnsafeRawPointer) -> Bool {
        let address = UInt(bitPattern: pointer)
        return addresses.withLock { $0.contains(address) }
    }

    static func insert(_ object: AnyObject) {
        let address = address(of: object)
        addresses.withLock { $0.insert(address) }
    }

    static func remove(_ object: AnyObject) {
        let address = address(of: object)
        addresses.withLock { $0.remove(address) }
    }

    private static func address(of object: AnyObject) -> UInt {
        UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque())
    }
}

/// A set of non-zero, 16-byte-aligned addresses: linear probing over a power-of-two
/// table, kept at most half full (tombstones included).
struct AddressTable {
    private static let empty: UInt = 0
    private static let removed: UInt = 1
    private var slots = [UInt](repeating: 0, count: 64)
    private var occupied = 0

    private var mask: Int { slots.count - 1 }

    /// Object addresses are 16-byte aligned: drop those bits, then mix (Fibonacci hashing).
    private func home(_ address: UInt) -> Int {
        Int(truncatingIfNeeded: ((address >> 4) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    func contains(_ address: UInt) -> Bool {
        guard address > AddressTable.removed else { return false }
        var index = home(address)
        while true {
            let slot = slots[index]
            if slot == address { return true }
            if slot == AddressTable.empty { return false }
            index = (index + 1) & mask
        }
    }

    mutating func insert(_ address: UInt) {
        guard address > AddressTable.removed, !contains(address) else { return }
        if (occupied + 1) * 2 > slots.count { rehash(capacity: slots.count * 2) }
        var index = home(address)
        while slots[index] > AddressTable.removed { index = (index + 1) & mask }
        if slots[index] == AddressTable.empty { occupied += 1 }
        slots[index] = address
    }

    mutating func remove(_ address: UInt) {
        guard address > AddressTable.removed else { return }
        var index = home(address)
        while slots[index] != AddressTable.empty {
            if slots[index] == address {
                slots[index] = AddressTable.removed
                return
            }
            index = (index + 1) & mask
        }
    }

    /// Rebuilds the table without tombstones, growing it if it is more than a quarter full.
    private mutating func rehash(capacity: Int) {
        let live = slots.filter { $0 > AddressTable.removed }
        let size = live.count * 4 > capacity ? capacity : Swift.max(64, capacity / 2)
        slots = [UInt](repeating: 0, count: size)
        occupied = 0
        for address in live { insert(address) }
    }
}
