import Testing
@testable import SwiftUVStream

@Suite("ByteChunk and the loop's read buffers", .timeLimit(.minutes(1)))
struct ByteChunkTests {
    @Test("a chunk is a collection of its bytes: count, subscript, equality, hashing, copies")
    func collection() {
        let chunk: ByteChunk = [0x68, 0x69, 0x21]
        #expect(chunk.count == 3)
        #expect(chunk[1] == 0x69)
        #expect(Array(chunk) == [0x68, 0x69, 0x21])
        #expect(String(decoding: chunk, as: UTF8.self) == "hi!")
        #expect(chunk == ByteChunk(Array("hi!".utf8)))
        #expect(chunk != [0x68, 0x69])
        #expect(chunk != [0x68, 0x69, 0x22])
        #expect(Set([chunk, ByteChunk("hi!".utf8), ByteChunk()]).count == 2)
        #expect(ByteChunk().isEmpty && ByteChunk() == [])
        #expect(chunk.description == "ByteChunk(3 bytes: 68 69 21)")
        #expect(ByteChunk([UInt8](repeating: 7, count: 40)).description == "ByteChunk(40 bytes)")
        #expect(chunk.withContiguousStorageIfAvailable { Array($0) } == [0x68, 0x69, 0x21])
        let copied = [UInt8]("copy".utf8).withUnsafeBytes { ByteChunk(copying: $0) }
        #expect(copied == ByteChunk("copy".utf8))
    }

    @Test("a read that fills a quarter of the buffer is kept in it; smaller ones and foreign bytes are copied")
    func keepOrCopy() throws {
        var buffers = try #require(ReadBuffers(size: 64))
        let first = buffers.base
        first.initializeMemory(as: UInt8.self, repeating: 1, count: 64)
        let small = buffers.keep(UnsafeRawBufferPointer(start: first, count: 15))
        #expect(buffers.base == first, "a small read is copied: the buffer stays")
        let large = buffers.keep(UnsafeRawBufferPointer(start: first, count: 16))
        #expect(buffers.base != first, "a large read takes the buffer with it")
        // The next read overwrites the new buffer, never the kept one.
        buffers.base.initializeMemory(as: UInt8.self, repeating: 2, count: 64)
        #expect(Array(small) == [UInt8](repeating: 1, count: 15))
        #expect(Array(large) == [UInt8](repeating: 1, count: 16))
        let foreign: [UInt8] = Array(repeating: 3, count: 64)
        let copy = foreign.withUnsafeBytes { buffers.keep($0) }
        #expect(Array(copy) == foreign)
    }

    @Test("a kept buffer is reused only once no chunk refers to it")
    func reuse() throws {
        var buffers = try #require(ReadBuffers(size: 64))
        let first = buffers.base
        var held: ByteChunk? = buffers.keep(UnsafeRawBufferPointer(start: first, count: 64))
        let second = buffers.base
        var other: ByteChunk? = buffers.keep(UnsafeRawBufferPointer(start: second, count: 64))
        let third = buffers.base
        #expect(Set([first, second, third]).count == 3, "both buffers are still in chunks")
        let copyOfHeld = held
        held = nil
        other = nil
        _ = buffers.keep(UnsafeRawBufferPointer(start: third, count: 64))
        #expect(buffers.base == second, "the second buffer is free again; the first is still shared")
        #expect(copyOfHeld?.count == 64)
        _ = other
    }

    @Test("chunks kept by the consumer keep their bytes while the stream goes on reading")
    func keptChunksStayIntact() async throws {
        let readSize = 4096
        let payload = [UInt8].pattern(64 * readSize)
        let chunks = try await onLoopThread(bufferSize: readSize) { thread in
            let (client, peer) = try await asyncPair(thread)
            try await client.write(payload)
            try await client.shutdown()
            var chunks: [ByteChunk] = []
            for try await chunk in try peer.reads(highWatermark: 1 << 20, lowWatermark: 0) {
                chunks.append(chunk)
            }
            try await client.close()
            try await peer.close()
            return chunks
        }
        #expect(chunks.flatMap { $0 } == payload)
        #expect(chunks.contains { $0.count * 4 >= readSize }, "some reads were large enough to be kept, not copied")
    }
}
