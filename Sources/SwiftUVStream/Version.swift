import CLibUV

/// The library's version (constants: any thread).
public enum Version {
    /// The major version: incompatible API changes.
    public static let major = 0
    /// The minor version: compatible additions.
    public static let minor = 1
    /// The patch version: fixes.
    public static let patch = 0
    /// (major << 16) | (minor << 8) | patch
    public static let packed = UInt32(major << 16 | minor << 8 | patch)
    /// "major.minor.patch" in static storage.
    public static let string: StaticString = "0.1.0"
    /// libuv's version string, in static storage.
    public static var libUVString: UnsafePointer<CChar> { uv_version_string() }
}

extension Version {
    /// ``string`` as a C string in static storage.
    public static var cString: UnsafePointer<CChar> { staticCString(string) }
}
