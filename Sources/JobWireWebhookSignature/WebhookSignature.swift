import Crypto
import Foundation

/// The Standard Webhooks 1.0 signature: `webhook-signature` holds
/// space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per
/// secret in force (two during a rotation), beside `webhook-id` (the same on
/// every retry of a message) and `webhook-timestamp` (Unix seconds of this
/// attempt).
public enum WebhookSignature {
    /// How far a timestamp may be from the receiver's clock, as Standard Webhooks recommends.
    public static let defaultTolerance: Int64 = 5 * 60

    /// The `webhook-signature` value of a message for each of `secrets`, in their order.
    public static func sign(messageID: String, timestamp: Int64, body: some DataProtocol, secrets: [WebhookSecret]) -> String {
        secrets.map { secret in
            let code = HMAC<SHA256>.authenticationCode(for: signedContent(messageID, timestamp, body), using: secret.key)
            return "v1," + Data(code).base64EncodedString()
        }.joined(separator: " ")
    }

    /// Checks a received message as a receiver must: the headers are there,
    /// the timestamp within `tolerance` seconds of `now`, and one `v1`
    /// signature is the HMAC of the message with `secret` (compared in
    /// constant time). Other versions in the header are ignored.
    public static func verify(messageID: String?, timestamp: String?, signature: String?, body: some DataProtocol,
                              secret: WebhookSecret, now: Int64, tolerance: Int64 = defaultTolerance) throws(WebhookVerificationError) {
        guard let messageID, !messageID.isEmpty, let timestamp, let signature else {
            throw WebhookVerificationError(.missingHeader, "webhook-id, webhook-timestamp and webhook-signature are required")
        }
        guard let seconds = Int64(timestamp) else {
            throw WebhookVerificationError(.invalidTimestamp, "webhook-timestamp is not Unix seconds: \(timestamp.prefix(40))")
        }
        if seconds < now - tolerance {
            throw WebhookVerificationError(.timestampTooOld, "the message is older than \(tolerance) s")
        }
        if seconds > now + tolerance {
            throw WebhookVerificationError(.timestampTooNew, "the message is dated more than \(tolerance) s ahead")
        }
        let content = signedContent(messageID, seconds, body)
        for candidate in signature.split(separator: " ") {
            let parts = candidate.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let code = Data(base64Encoded: String(parts[1])) else { continue }
            if HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: content, using: secret.key) {
                return
            }
        }
        throw WebhookVerificationError(.noMatchingSignature, "no v1 signature matches the secret")
    }

    private static func signedContent(_ messageID: String, _ timestamp: Int64, _ body: some DataProtocol) -> Data {
        var content = Data("\(messageID).\(timestamp).".utf8)
        content.append(contentsOf: body)
        return content
    }
}

/// Why a message failed verification (or a secret did not parse).
public struct WebhookVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case missingHeader = "MISSING_HEADER"
        case invalidTimestamp = "INVALID_TIMESTAMP"
        case timestampTooOld = "TIMESTAMP_TOO_OLD"
        case timestampTooNew = "TIMESTAMP_TOO_NEW"
        case noMatchingSignature = "NO_MATCHING_SIGNATURE"
        case invalidSecret = "INVALID_SECRET"
    }

    public let reason: Reason
    public let message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
