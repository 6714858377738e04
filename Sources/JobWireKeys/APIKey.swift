import Crypto
import JobWireProtocol

/// API keys: `jwk_<id>_<secret>`, where `id` is 16 hex digits that name the
/// key in the keys file and logs, and `secret` is 64 hex digits: 256 random
/// bits. The server stores only SHA-256 of the whole key.
public enum APIKey {
    static let prefix = "jwk_"
    static let idHexDigits = 16
    static let secretHexDigits = 64

    /// A new random key (from the system's CSPRNG) and its id.
    public static func generate() -> (key: String, id: String) {
        var generator = SystemRandomNumberGenerator()
        let id = hex((0..<idHexDigits / 2).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let secret = hex((0..<secretHexDigits / 2).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        return ("\(prefix)\(id)_\(secret)", id)
    }

    /// The id a key names, or nil when it is not shaped like a JobWire key.
    public static func id(of key: String) -> String? {
        let utf8 = Array(key.utf8)
        guard utf8.count == prefix.utf8.count + idHexDigits + 1 + secretHexDigits, key.hasPrefix(prefix) else { return nil }
        let idStart = prefix.utf8.count
        let idBytes = utf8[idStart..<idStart + idHexDigits]
        guard utf8[idStart + idHexDigits] == UInt8(ascii: "_"),
              idBytes.allSatisfy(isLowerHex), utf8[(idStart + idHexDigits + 1)...].allSatisfy(isLowerHex) else { return nil }
        return String(decoding: idBytes, as: UTF8.self)
    }

    /// SHA-256 of the key's UTF-8 bytes.
    public static func hash(_ key: String) -> [UInt8] {
        sha256(Array(key.utf8))
    }

    /// SHA-256 of `bytes` (a certificate's fingerprint is that of its DER encoding).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// Compares two digests in time that depends only on their length.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func bytes(fromHex text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0, utf8.allSatisfy(isLowerHex) else { return nil }
        func value(_ digit: UInt8) -> UInt8 { digit <= UInt8(ascii: "9") ? digit - UInt8(ascii: "0") : digit - UInt8(ascii: "a") + 10 }
        return stride(from: 0, to: utf8.count, by: 2).map { value(utf8[$0]) << 4 | value(utf8[$0 + 1]) }
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
