#if canImport(Glibc)
import Glibc
#endif

/// Bytes that came off a stream in one read: an immutable collection of bytes that owns
/// its storage, what ``ReadSequence`` and ``ReceiveSequence`` hand out.
///
/// A chunk is a value: copies share the storage, nothing can change it, and it may be
/// sent to other tasks. A large read is handed on in the very buffer the loop read it
/// into — no copy — and that buffer goes back to the loop for a later read once every
/// chunk sharing it is gone; a small read is copied into an array of its own size.
/// Keep a chunk as long as you like (it then simply stays out of the loop's reuse);
/// `Array(chunk)` makes an array.
///
/// It is a `RandomAccessCollection` of `UInt8` indexed from 0, so `chunk.count`,
/// `chunk[0]`, `String(decoding: chunk, as: UTF8.self)`, `array += chunk` and
/// `stream.write(chunk)` (which writes from its storage) all work; compare it with an
/// array literal (`chunk == [1, 2, 3]`) or `elementsEqual`.
public struct ByteChunk: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral,
    CustomStringConvertible
{
    public typealias Element = UInt8
    public typealias Index = Int
    public typealias Indices = Range<Int>

    /// A small read is copied into an array; a large one keeps the loop's read buffer
    /// it arrived in.
    private enum Storage {
        case array([UInt8])
        case readBuffer(ByteStorage, count: Int)
    }

    private let storage: Storage

    /// The first `count` bytes of a read buffer, which must not be written from now on
    /// (the read buffers reuse it only once no chunk refers to it).
    init(readBuffer: ByteStorage, count: Int) {
        storage = .readBuffer(readBuffer, count: count)
    }

    /// A chunk holding a copy of `bytes`.
    public init(copying bytes: UnsafeRawBufferPointer) {
        storage = .array(Array(bytes))
    }

    /// A chunk holding a copy of `bytes`.
    public init(_ bytes: some Sequence<UInt8>) {
        storage = .array(Array(bytes))
    }

    /// An empty chunk.
    public init() {
        storage = .array([])
    }

    /// A chunk of the bytes listed: `let chunk: ByteChunk = [0x68, 0x69]`.
    public init(arrayLiteral elements: UInt8...) {
        storage = .array(elements)
    }

    /// The number of bytes.
    public var count: Int {
        switch storage {
        case .array(let array): array.count
        case .readBuffer(_, let count): count
        }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    /// The byte at `position` (`0 ..< count`; outside it is a programming error that
    /// stops the program, as for an array).
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "ByteChunk index out of range")
        return withUnsafeBytes { $0[position] }
    }

    /// Calls `body` with the bytes (valid only during the call).
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        switch storage {
        case .array(let array):
            // Not Array.withUnsafeBytes: it does not carry a typed error through.
            let result: Swift.Result<Result, Failure> = array.withUnsafeBytes { bytes in
                do throws(Failure) { return .success(try body(bytes)) } catch { return .failure(error) }
            }
            return try result.get()
        case .readBuffer(let buffer, let count):
            defer { withExtendedLifetime(buffer) {} }
            return try body(UnsafeRawBufferPointer(start: buffer.base, count: count))
        }
    }

    /// Calls `body` with the bytes (valid only during the call); never nil: a chunk is
    /// always contiguous, so writing one goes straight from its storage.
    public func withContiguousStorageIfAvailable<Result>(
        _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result? {
        switch storage {
        case .array(let array):
            return try array.withUnsafeBufferPointer(body)
        case .readBuffer(let buffer, let count):
            defer { withExtendedLifetime(buffer) {} }
            return try body(UnsafeBufferPointer(start: buffer.base.assumingMemoryBound(to: UInt8.self), count: count))
        }
    }

    /// Whether the two chunks hold the same bytes.
    public static func == (lhs: ByteChunk, rhs: ByteChunk) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in
                guard let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return true }
                return memcmp(leftBase, rightBase, left.count) == 0
            }
        }
    }

    /// Hashes the bytes.
    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// `ByteChunk(count bytes)`, and the bytes in hex for a chunk of at most 32.
    public var description: String {
        guard count <= 32 else { return "ByteChunk(\(count) bytes)" }
        let hex = map { byte in String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16) }
        return "ByteChunk(\(count) bytes: \(hex.joined(separator: " ")))"
    }
}

/// One of a loop's read buffers (``ReadBuffers``): malloc'd bytes, written by reads
/// only while no ``ByteChunk`` refers to them, immutable while one does (hence
/// `Sendable`).
final class ByteStorage: @unchecked Sendable {
    let base: UnsafeMutableRawPointer

    /// Storage for `capacity` bytes (uninitialised); nil if memory ran out.
    init?(capacity: Int) {
        guard let base = malloc(Swift.max(capacity, 1)) else { return nil }
        self.base = base
    }

    deinit {
        free(base)
    }
}
