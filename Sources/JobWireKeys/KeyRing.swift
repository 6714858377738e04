/// The keys a server accepts, indexed by id for the handshake.
public struct KeyRing: Sendable {
    private let byID: [String: KeyEntry]
    /// Compared against when a presented key names no known id, so an unknown
    /// id costs the same hashing and comparing as a wrong secret.
    private static let decoyHash = [UInt8](repeating: 0, count: 32)

    public init(_ file: KeysFile) {
        byID = Dictionary(file.entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var count: Int { byID.count }

    /// The entry of `presented` when it is a valid key, else nil. The
    /// presented key's hash is compared with the stored one in constant time.
    public func authenticate(_ presented: String) -> KeyEntry? {
        let digest = APIKey.hash(presented)
        let entry = APIKey.id(of: presented).flatMap { byID[$0] }
        let matches = APIKey.constantTimeEqual(digest, entry?.hash ?? Self.decoyHash)
        return matches && entry?.kind == .key ? entry : nil
    }

    /// The entry granted to the client certificate with this SHA-256 fingerprint, else nil.
    public func authenticate(certificateFingerprint fingerprint: [UInt8]) -> KeyEntry? {
        guard fingerprint.count == 32, let entry = byID[APIKey.hex(Array(fingerprint.prefix(8)))], entry.kind == .certificate,
              APIKey.constantTimeEqual(fingerprint, entry.hash) else { return nil }
        return entry
    }

    /// The current entry for `id`, to check a connection's key after a reload.
    public func entry(id: String) -> KeyEntry? {
        byID[id]
    }
}
