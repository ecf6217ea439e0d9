/// A loop's read buffer, and the spares that let a large read be handed on without a
/// copy.
///
/// Every stream of a loop reads into `current`: libuv asks for a buffer, reads, and the
/// read callback consumes the bytes before the next read, so one buffer serves them
/// all. A read that fills at least a quarter of it may instead be kept whole (`keep`): the
/// bytes become a ``ByteChunk`` that owns the buffer, and the loop reads into a spare
/// from then on. Kept buffers are remembered (at most `maxKept`), and each becomes a
/// spare again once no chunk refers to it — so a stream moving data at full speed
/// reads into, writes from and releases the same few buffers, with no allocation, no
/// copy and no page fault per read. Loop's thread only.
struct ReadBuffers {
    /// How many kept buffers are remembered for reuse; older ones are forgotten (freed
    /// with their last chunk). Bounds what an idle loop holds: `maxKept + 1` buffers.
    static let maxKept = 4

    /// The buffer the next read goes into.
    private var current: ByteStorage
    /// Its first byte.
    private(set) var base: UnsafeMutableRawPointer
    /// The size of every read buffer.
    let size: Int
    /// Buffers handed to chunks, oldest first.
    private var kept: [ByteStorage] = []

    /// Nil if memory ran out.
    init?(size: Int) {
        guard let first = ByteStorage(capacity: size) else { return nil }
        self.size = size
        current = first
        base = first.base
    }

    /// The bytes of the read just made, for a caller that keeps them: the read buffer
    /// itself if they fill at least a quarter of it (a chunk never pins more than four
    /// times its bytes; the next read goes into a spare),
    /// otherwise (or if no spare can be had) a copy. `bytes` are what the read
    /// callback was given.
    mutating func keep(_ bytes: UnsafeRawBufferPointer) -> ByteChunk {
        guard bytes.baseAddress == UnsafeRawPointer(base), bytes.count * 4 >= size, let next = spare() else {
            return ByteChunk(copying: bytes)
        }
        let chunk = ByteChunk(readBuffer: current, count: bytes.count)
        if kept.count == Self.maxKept { kept.removeFirst() }
        kept.append(current)
        current = next
        base = next.base
        return chunk
    }

    /// A kept buffer no chunk refers to any more, or a new one; nil if memory ran out.
    private mutating func spare() -> ByteStorage? {
        for index in kept.indices where isKnownUniquelyReferenced(&kept[index]) {
            return kept.remove(at: index)
        }
        return ByteStorage(capacity: size)
    }
}
