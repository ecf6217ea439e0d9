import Testing
@testable import SwiftUVStream

@Suite("Live objects")
struct LiveObjectsTests {
    @Test("the address table keeps exactly what was inserted and not removed, through growth and tombstones")
    func addressTable() {
        var table = AddressTable()
        let addresses = (1...5000).map { UInt($0) << 4 }
        for address in addresses { table.insert(address) }
        for (index, address) in addresses.enumerated() where index % 2 == 0 { table.remove(address) }
        // Churn: remove and re-insert many times, as handles come and go.
        for round in 0..<20 {
            // Only addresses that are in the table (odd indexes: (address >> 4) is even).
            for address in addresses.prefix(200) where (address >> 4) % 2 == 0 {
                table.remove(address)
                table.insert(address + UInt(round + 1) << 24)
                table.remove(address + UInt(round + 1) << 24)
                table.insert(address)
            }
        }
        for (index, address) in addresses.enumerated() {
            #expect(table.contains(address) == (index % 2 == 1), "address \(address)")
        }
        #expect(!table.contains(0) && !table.contains(1))
        #expect(!table.contains(UInt(9999) << 4))
    }

    @Test("loops and handles are registered while alive, and a freed one is not")
    func registration() throws {
        var address: UnsafeRawPointer?
        do {
            let loop = try Loop()
            let timer = try Timer(loop: loop)
            address = UnsafeRawPointer(Unmanaged.passUnretained(timer).toOpaque())
            #expect(LiveObjects.contains(UnsafeRawPointer(Unmanaged.passUnretained(loop).toOpaque())))
            #expect(LiveObjects.contains(try #require(address)))
            try timer.close()
            try loop.run()
            try loop.close()
        }
        #expect(!LiveObjects.contains(try #require(address)))
    }
}
