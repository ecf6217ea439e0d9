import CLibUV

/// An IP socket address in text form: what `sockname`/`peername` report and what
/// `bind`/`connect` take.
///
/// Threading: a value, `Sendable`: any thread.
public struct SocketAddress: Equatable, Hashable, Sendable {
    /// The numeric address, "127.0.0.1" or "::1".
    public var host: String
    /// The port, 0-65535.
    public var port: Int
    /// `AF_INET` or `AF_INET6`.
    public var family: Int32

    /// An address from its parts; `family` is `AF_INET` or `AF_INET6`.
    public init(host: String, port: Int, family: Int32) {
        self.host = host
        self.port = port
        self.family = family
    }

    /// Parses a numeric IPv4 or IPv6 address and a port into a `sockaddr` for `body`.
    static func withSockaddr<Result>(
        host: String, port: Int,
        _ body: (UnsafePointer<sockaddr>) throws(UVError) -> Result
    ) throws(UVError) -> Result {
        guard (0...65535).contains(port) else { throw .invalidArgument }
        var storage = sockaddr_storage()
        return try withUnsafeMutableBytes(of: &storage) { (raw) throws(UVError) -> Result in
            guard let base = raw.baseAddress else { throw .invalidArgument }
            let address = base.assumingMemoryBound(to: sockaddr.self)
            if uv_ip4_addr(host, Int32(port), UnsafeMutableRawPointer(address).assumingMemoryBound(to: sockaddr_in.self)) != 0 {
                let v6 = UnsafeMutableRawPointer(address).assumingMemoryBound(to: sockaddr_in6.self)
                guard uv_ip6_addr(host, Int32(port), v6) == 0 else { throw .invalidArgument }
                // With a %zone, libuv cuts the address at 39 characters (a longer valid
                // form would silently become another address) and takes a zone naming
                // no interface as none.
                if let zone = host.utf8.firstIndex(of: UInt8(ascii: "%")) {
                    let addressLength = host.utf8.distance(from: host.utf8.startIndex, to: zone)
                    guard addressLength < 40, v6.pointee.sin6_scope_id != 0 else { throw .invalidArgument }
                }
            }
            return try body(address)
        }
    }

    /// Reads an address filled in by `fill` (getsockname/getpeername style).
    static func read(
        _ fill: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<Int32>) -> Int32
    ) throws(UVError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        return try withUnsafeMutableBytes(of: &storage) { (raw) throws(UVError) -> SocketAddress in
            guard let base = raw.baseAddress else { throw .invalidArgument }
            let address = base.assumingMemoryBound(to: sockaddr.self)
            try check(fill(address, &length))
            var text = [CChar](repeating: 0, count: 64)
            let family = Int32(address.pointee.sa_family)
            let port: UInt16
            switch family {
            case AF_INET:
                let v4 = UnsafeMutableRawPointer(address).assumingMemoryBound(to: sockaddr_in.self)
                try check(uv_ip4_name(v4, &text, text.count))
                port = v4.pointee.sin_port
            case AF_INET6:
                let v6 = UnsafeMutableRawPointer(address).assumingMemoryBound(to: sockaddr_in6.self)
                try check(uv_ip6_name(v6, &text, text.count))
                port = v6.pointee.sin6_port
            default:
                throw UVError(code: UV_EAFNOSUPPORT.rawValue)
            }
            let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return SocketAddress(host: host, port: Int(UInt16(bigEndian: port)), family: family)
        }
    }
}
