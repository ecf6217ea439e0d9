// swift-tools-version:5.9
// The Swift-side servers of the benchmark suite (bench/): SwiftNIO on one event-loop
// thread, and (later) the Swift face of libswiftuvstream. A package of its own so that
// the library's Package.swift does not depend on swift-nio.
//
//   swift build -c release --package-path bench/swift --scratch-path bench/swift/.build
import PackageDescription

let package = Package(
    name: "swiftuvstream-bench",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .executableTarget(
            name: "NIOEchoServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/NIOEchoServer"
        ),
    ]
)
