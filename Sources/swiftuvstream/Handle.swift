import CSwiftUVStream
import SwiftUVStream

// Section 4 of swiftuvstream.h: what every handle can do.

@c @implementation
public func uvs_close(_ handle: OpaquePointer?, _ cb: uvs_close_cb?, _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let handle = object(handle, as: Handle.self) else { return invalidArgument }
    return status { () throws(UVError) in try handle.close(function: cb, context: userData) }
}

@c @implementation
public func uvs_release(_ handle: OpaquePointer?) {
    // A second release would give up a reference the caller no longer holds.
    guard let pointer = handle, let handle = object(pointer, as: Handle.self), !handle.isReleasedByOwner else { return }
    handle.isReleasedByOwner = true
    releaseOwnerReference(handle, pointer)
}

/// Closes `handle` if it is open and returns the owner's reference, on the loop's
/// thread (moved there by a post if the loop runs on another one).
private func releaseOwnerReference(_ handle: Handle, _ pointer: OpaquePointer) {
    if !handle.isClosing {
        do {
            try handle.close()
        } catch {
            // Called off the loop's thread while it runs: close and release there.
            if (try? handle.loop.post(function: releaseOnLoopThread, context: UnsafeMutableRawPointer(pointer))) != nil {
                return
            }
        }
    }
    Unmanaged<Handle>.fromOpaque(UnsafeRawPointer(pointer)).release()
}

/// `releaseOwnerReference` moved to the loop's thread: `context` carries the owner's
/// reference.
private let releaseOnLoopThread: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, context in
    guard let pointer = context.map(OpaquePointer.init), let handle = object(pointer, as: Handle.self) else { return }
    releaseOwnerReference(handle, pointer)
}

@c @implementation
public func uvs_handle_kind(_ handle: OpaquePointer?) -> Int32 {
    object(handle, as: Handle.self)?.kind.rawValue ?? invalidArgument
}

@c @implementation
public func uvs_handle_loop(_ handle: OpaquePointer?) -> OpaquePointer? {
    object(handle, as: Handle.self).map { borrowedPointer($0.loop) }
}

@c @implementation
public func uvs_handle_set_data(_ handle: OpaquePointer?, _ data: UnsafeMutableRawPointer?) -> Int32 {
    guard let handle = object(handle, as: Handle.self) else { return invalidArgument }
    handle.userData = data
    return 0
}

@c @implementation
public func uvs_handle_data(_ handle: OpaquePointer?) -> UnsafeMutableRawPointer? {
    object(handle, as: Handle.self)?.userData
}

@c @implementation
public func uvs_is_closing(_ handle: OpaquePointer?) -> Int32 {
    flag(handle, as: Handle.self) { $0.isClosing }
}

@c @implementation
public func uvs_is_active(_ handle: OpaquePointer?) -> Int32 {
    flag(handle, as: Handle.self) { $0.isActive }
}

@c @implementation
public func uvs_ref(_ handle: OpaquePointer?) -> Int32 {
    guard let handle = object(handle, as: Handle.self) else { return invalidArgument }
    return status { () throws(UVError) in try handle.reference() }
}

@c @implementation
public func uvs_unref(_ handle: OpaquePointer?) -> Int32 {
    guard let handle = object(handle, as: Handle.self) else { return invalidArgument }
    return status { () throws(UVError) in try handle.unreference() }
}

@c @implementation
public func uvs_has_ref(_ handle: OpaquePointer?) -> Int32 {
    flag(handle, as: Handle.self) { $0.hasReference }
}

@c @implementation
public func uvs_fileno(_ handle: OpaquePointer?) -> Int32 {
    guard let handle = object(handle, as: Handle.self) else { return invalidArgument }
    return result { () throws(UVError) in try handle.fileDescriptor() }
}

@c @implementation
public func uvs_send_buffer_size(_ handle: OpaquePointer?) -> Int32 {
    guard let handle = object(handle, as: Handle.self) else { return invalidArgument }
    return result { () throws(UVError) in try handle.sendBufferSize() }
}

@c @implementation
public func uvs_set_send_buffer_size(_ handle: OpaquePointer?, _ size: Int32) -> Int32 {
    guard let handle = object(handle, as: Handle.self) else { return invalidArgument }
    return status { () throws(UVError) in try handle.setSendBufferSize(size) }
}

@c @implementation
public func uvs_receive_buffer_size(_ handle: OpaquePointer?) -> Int32 {
    guard let handle = object(handle, as: Handle.self) else { return invalidArgument }
    return result { () throws(UVError) in try handle.receiveBufferSize() }
}

@c @implementation
public func uvs_set_receive_buffer_size(_ handle: OpaquePointer?, _ size: Int32) -> Int32 {
    guard let handle = object(handle, as: Handle.self) else { return invalidArgument }
    return status { () throws(UVError) in try handle.setReceiveBufferSize(size) }
}
