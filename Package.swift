// swift-tools-version:6.0
// The development build: `swift build` and `swift test`. The release library
// (static Swift runtime, SONAME, versioned symbols) comes from CMakeLists.txt.
import PackageDescription

let package = Package(
    name: "swiftuvstream",
    products: [
        // The Swift API: `import SwiftUVStream`.
        .library(name: "SwiftUVStream", targets: ["SwiftUVStream"]),
        // The C API of include/swiftuvstream.h as libswiftuvstream.so.
        .library(name: "swiftuvstream", type: .dynamic, targets: ["swiftuvstream"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        // include/swiftuvstream.h as a Clang module, so the C face can implement it.
        .systemLibrary(name: "CSwiftUVStream", path: "include"),
        .target(name: "SwiftUVStream", dependencies: ["CLibUV"]),
        .target(name: "swiftuvstream", dependencies: ["SwiftUVStream", "CSwiftUVStream", "CLibUV"]),
        // An async echo server and client on the Swift API: `swiftuvstream-echo server|client`.
        .executableTarget(name: "swiftuvstream-echo", dependencies: ["SwiftUVStream"]),
        .testTarget(name: "SwiftUVStreamTests", dependencies: ["SwiftUVStream", "CLibUV"]),
    ]
)
