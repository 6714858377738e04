import Crypto
import Foundation

/// An endpoint's signing secret, as Standard Webhooks writes it: `whsec_`
/// and the base64 of the key bytes. jobwired makes them (32 random bytes)
/// and shows each once; a receiver keeps it and verifies with it.
public struct WebhookSecret: Sendable, Equatable {
    public static let prefix = "whsec_"
    /// Standard Webhooks' bounds on the key: 24 to 64 bytes.
    public static let keyBytes = 24...64

    /// The key's bytes (SymmetricKey is not Sendable; one is made per use).
    private let bytes: [UInt8]

    /// The HMAC key.
    public var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// A new random secret of 32 bytes.
    public static func generate() -> WebhookSecret {
        WebhookSecret(bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Reads `whsec_…`; the prefix may be left out, as Standard Webhooks' libraries allow.
    public init(encoded: String) throws(WebhookVerificationError) {
        let base64 = encoded.hasPrefix(Self.prefix) ? String(encoded.dropFirst(Self.prefix.count)) : encoded
        guard let bytes = Data(base64Encoded: base64), Self.keyBytes.contains(bytes.count) else {
            throw WebhookVerificationError(.invalidSecret, "a webhook secret is whsec_ and the base64 of 24 to 64 bytes")
        }
        self.bytes = Array(bytes)
    }

    /// `whsec_` and the base64 of the key.
    public var encoded: String {
        Self.prefix + Data(bytes).base64EncodedString()
    }
}
