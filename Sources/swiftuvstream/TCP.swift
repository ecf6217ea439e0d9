import CSwiftUVStream
import SwiftUVStream

// Section 6 of swiftuvstream.h: TCP.

@c @implementation
public func uvs_tcp_new(_ loop: OpaquePointer?, _ family: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return invalidArgument }
    out.pointee = nil
    guard let loop = object(loop, as: Loop.self) else { return invalidArgument }
    return status { () throws(UVError) in
        out.pointee = ownedPointer(try TCP(loop: loop, family: family))
    }
}

@c @implementation
public func uvs_tcp_open(_ tcp: OpaquePointer?, _ fd: Int32) -> Int32 {
    guard let tcp = object(tcp, as: TCP.self) else { return invalidArgument }
    return status { () throws(UVError) in try tcp.open(fd) }
}

@c @implementation
public func uvs_tcp_bind(_ tcp: OpaquePointer?, _ ip: UnsafePointer<CChar>?, _ port: Int32, _ flags: UInt32) -> Int32 {
    guard let tcp = object(tcp, as: TCP.self), let ip, flags & ~UInt32(UVS_TCP_IPV6ONLY) == 0 else {
        return invalidArgument
    }
    return status { () throws(UVError) in
        try tcp.bind(host: String(cString: ip), port: Int(port), ipv6Only: flags != 0)
    }
}

@c @implementation
public func uvs_tcp_connect(
    _ tcp: OpaquePointer?, _ ip: UnsafePointer<CChar>?, _ port: Int32,
    _ cb: uvs_connect_cb?, _ userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let tcp = object(tcp, as: TCP.self), let ip else { return invalidArgument }
    return status { () throws(UVError) in
        try tcp.connect(to: String(cString: ip), port: Int(port), completion: .function(cb, userData))
    }
}

@c @implementation
public func uvs_tcp_nodelay(_ tcp: OpaquePointer?, _ enable: Int32) -> Int32 {
    guard let tcp = object(tcp, as: TCP.self) else { return invalidArgument }
    return status { () throws(UVError) in try tcp.setNoDelay(enable != 0) }
}

@c @implementation
public func uvs_tcp_keepalive(_ tcp: OpaquePointer?, _ enable: Int32, _ delay: UInt32) -> Int32 {
    guard let tcp = object(tcp, as: TCP.self) else { return invalidArgument }
    return status { () throws(UVError) in try tcp.setKeepAlive(enable != 0, delay: delay) }
}

@c @implementation
public func uvs_tcp_simultaneous_accepts(_ tcp: OpaquePointer?, _ enable: Int32) -> Int32 {
    guard let tcp = object(tcp, as: TCP.self) else { return invalidArgument }
    return status { () throws(UVError) in try tcp.setSimultaneousAccepts(enable != 0) }
}

@c @implementation
public func uvs_tcp_sockname(
    _ tcp: OpaquePointer?, _ ip: UnsafeMutablePointer<CChar>?, _ ipSize: Int,
    _ port: UnsafeMutablePointer<Int32>?, _ family: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guard let tcp = object(tcp, as: TCP.self) else { return invalidArgument }
    return copyAddress(into: ip, size: ipSize, port: port, family: family) { () throws(UVError) in
        try tcp.socketName()
    }
}

@c @implementation
public func uvs_tcp_peername(
    _ tcp: OpaquePointer?, _ ip: UnsafeMutablePointer<CChar>?, _ ipSize: Int,
    _ port: UnsafeMutablePointer<Int32>?, _ family: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guard let tcp = object(tcp, as: TCP.self) else { return invalidArgument }
    return copyAddress(into: ip, size: ipSize, port: port, family: family) { () throws(UVError) in
        try tcp.peerName()
    }
}

/// Writes the address `read` returns into the caller's buffers.
private func copyAddress(
    into ip: UnsafeMutablePointer<CChar>?, size: Int,
    port: UnsafeMutablePointer<Int32>?, family: UnsafeMutablePointer<Int32>?,
    _ read: () throws(UVError) -> SocketAddress
) -> Int32 {
    guard let ip else { return invalidArgument }
    return status { () throws(UVError) in
        let address = try read()
        try copyCString(Array(address.host.utf8), into: ip, size: size)
        port?.pointee = Int32(address.port)
        family?.pointee = address.family
    }
}
