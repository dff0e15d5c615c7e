// Apus's own version, and the Xen interface version it implements (DESIGN.md: Xen's
// tools check `xen_version` for 4.17).
enum ApusVersion {
    static let string: StaticString = "0.1.0"
    static let xenInterfaceMajor = 4
    static let xenInterfaceMinor = 17
}
