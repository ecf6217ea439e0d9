// swift-tools-version:6.0
// A separate package that depends on libswiftuvstream by path, as a user's package
// would: scripts/check-swift-package copies it to a temporary directory, points the
// dependency at the repository (through a link named `swiftuvstream`, the package
// identity used below), builds it with its own scratch path and runs it.
import PackageDescription

let package = Package(
    name: "swift-package-check",
    dependencies: [
        // The repository root. Its identity is the directory's name; the check script
        // links the repository as `swiftuvstream` so that it matches `package:` below.
        .package(path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "EchoRoundTrip",
            dependencies: [.product(name: "SwiftUVStream", package: "swiftuvstream")]
        ),
    ]
)
