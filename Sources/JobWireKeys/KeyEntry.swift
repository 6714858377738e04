/// One line of the keys file: a key's id, the tenant and role it grants,
/// and the SHA-256 of the key (never the key).
public struct KeyEntry: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var role: Role
    public var hash: [UInt8]
    /// When the key was made, as written (ISO 8601, UTC).
    public var created: String

    public init(id: String, tenant: String, role: Role, hash: [UInt8], created: String) {
        self.id = id
        self.tenant = tenant
        self.role = role
        self.hash = hash
        self.created = created
    }

    /// Tenant names: 1–64 of `A–Z a–z 0–9 . _ -`.
    public static func isValidTenant(_ tenant: String) -> Bool {
        let utf8 = tenant.utf8
        return (1...64).contains(utf8.count) && utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}
