/// One line of the keys file: a key's id, the tenant and role it grants,
/// and the SHA-256 of the key (never the key); or, for a client certificate,
/// the SHA-256 of the certificate (its fingerprint), its first 8 bytes the id.
public struct KeyEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// An API key (`jwk_…`), presented in Hello or an HTTP header.
        case key
        /// A TLS client certificate, verified by `--tls-client-ca` and presented in the handshake.
        case certificate
    }

    public var id: String
    public var tenant: String
    public var role: Role
    public var hash: [UInt8]
    /// When the key was made, as written (ISO 8601, UTC).
    public var created: String
    public var kind: Kind

    public init(id: String, tenant: String, role: Role, hash: [UInt8], created: String, kind: Kind = .key) {
        self.id = id
        self.tenant = tenant
        self.role = role
        self.hash = hash
        self.created = created
        self.kind = kind
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
