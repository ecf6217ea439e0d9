#if canImport(Glibc)
import Glibc
#endif

/// A growable run of bytes in manually managed memory: the storage behind the write
/// queue. Not copyable, so exactly one owner frees it.
struct ByteBuffer: ~Copyable {
    /// Capacity kept after the buffer drains; anything larger is given back, so one
    /// burst of writes does not pin its memory forever.
    static let retainedCapacity = 256 * 1024

    private(set) var base: UnsafeMutableRawPointer?
    private(set) var count = 0
    private var capacity = 0

    init() {}

    deinit {
        free(base)
    }

    var isEmpty: Bool { count == 0 }

    /// The bytes as a libuv-ready pointer and length (valid until the next mutation).
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    /// Appends `source`; returns false (and changes nothing) if memory ran out.
    mutating func append(_ source: UnsafeRawBufferPointer) -> Bool {
        guard let sourceBase = source.baseAddress, source.count > 0 else { return true }
        let (needed, overflow) = count.addingReportingOverflow(source.count)
        if overflow { return false }
        if needed > capacity, !grow(toAtLeast: needed) { return false }
        // grow() guarantees storage when needed > 0.
        guard let base else { return false }
        (base + count).copyMemory(from: sourceBase, byteCount: source.count)
        count = needed
        return true
    }

    /// Moves the first `count` bytes into `other`, which must be empty; the rest moves
    /// to the front. Returns false (and changes nothing) if memory ran out.
    mutating func moveFront(_ count: Int, into other: inout ByteBuffer) -> Bool {
        guard other.isEmpty, count >= 0, count <= self.count else { return false }
        if count == self.count {
            swap(&self, &other)
            return true
        }
        guard other.append(UnsafeRawBufferPointer(start: base, count: count)), let base else { return false }
        memmove(base, base + count, self.count - count)
        self.count -= count
        return true
    }

    /// Forgets the contents; releases the storage if it grew past `retainedCapacity`.
    mutating func removeAll() {
        count = 0
        if capacity > Self.retainedCapacity {
            free(base)
            base = nil
            capacity = 0
        }
    }

    private mutating func grow(toAtLeast needed: Int) -> Bool {
        var newCapacity = Swift.max(capacity, 4096)
        while newCapacity < needed {
            let (doubled, overflow) = newCapacity.multipliedReportingOverflow(by: 2)
            newCapacity = overflow ? needed : doubled
        }
        guard let memory = malloc(newCapacity) else { return false }
        if let base {
            memory.copyMemory(from: base, byteCount: count)
            free(base)
        }
        base = memory
        capacity = newCapacity
        return true
    }
}
