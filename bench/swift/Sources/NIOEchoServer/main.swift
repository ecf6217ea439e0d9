// NIOEchoServer <port>: a TCP echo server on SwiftNIO with one event-loop thread, written
// the way SwiftNIO's own examples write it (echo on channelRead, flush on
// channelReadComplete). Prints "READY <port>" once listening. A peer for the Swift face.
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

private final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

let args = CommandLine.arguments
let port = args.count > 1 ? Int(args[1]) ?? 0 : 0
let host = args.count > 2 ? args[2] : "127.0.0.1"

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.backlog, value: 4096)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: false)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    }

let channel = try bootstrap.bind(host: host, port: port).wait()
print("READY \(channel.localAddress?.port ?? port)")
fflush(stdout)
try channel.closeFuture.wait()
try group.syncShutdownGracefully()
