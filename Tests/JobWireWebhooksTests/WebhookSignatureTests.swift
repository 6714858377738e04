import Foundation
import JobWireWebhookSignature
import Testing

@Suite("Standard Webhooks signatures")
struct WebhookSignatureTests {
    // The example of Standard Webhooks' own test suites.
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let messageID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp: Int64 = 1_614_265_330
    static let body = Data(#"{"test": 2432232314}"#.utf8)
    static let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    @Test func signsAsTheSpecificationsExample() throws {
        let secret = try WebhookSecret(encoded: Self.secret)
        #expect(WebhookSignature.sign(messageID: Self.messageID, timestamp: Self.timestamp, body: Self.body, secrets: [secret]) == Self.expected)
        #expect(secret.encoded == Self.secret)
        #expect(try WebhookSecret(encoded: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == secret, "the prefix may be left out")
    }

    @Test func verifiesWithinTheToleranceAndRefusesEverythingElse() throws {
        let secret = try WebhookSecret(encoded: Self.secret)
        func verify(id: String? = Self.messageID, timestamp: String? = String(Self.timestamp), signature: String? = Self.expected,
                    body: Data = Self.body, secret: WebhookSecret = secret, now: Int64 = Self.timestamp) throws(WebhookVerificationError) {
            try WebhookSignature.verify(messageID: id, timestamp: timestamp, signature: signature, body: body, secret: secret, now: now)
        }
        try verify()
        try verify(now: Self.timestamp + 300)
        try verify(now: Self.timestamp - 300)
        try verify(signature: "v2,AAAA " + Self.expected, now: Self.timestamp)
        let cases: [(WebhookVerificationError.Reason, () throws(WebhookVerificationError) -> Void)] = [
            (.missingHeader, { () throws(WebhookVerificationError) in try verify(id: nil) }),
            (.missingHeader, { () throws(WebhookVerificationError) in try verify(signature: nil) }),
            (.invalidTimestamp, { () throws(WebhookVerificationError) in try verify(timestamp: "yesterday") }),
            (.timestampTooOld, { () throws(WebhookVerificationError) in try verify(now: Self.timestamp + 301) }),
            (.timestampTooNew, { () throws(WebhookVerificationError) in try verify(now: Self.timestamp - 301) }),
            (.noMatchingSignature, { () throws(WebhookVerificationError) in try verify(body: Data(#"{"test": 2432232315}"#.utf8)) }),
            (.noMatchingSignature, { () throws(WebhookVerificationError) in try verify(id: "msg_other") }),
            (.noMatchingSignature, { () throws(WebhookVerificationError) in try verify(secret: WebhookSecret.generate()) }),
            (.noMatchingSignature, { () throws(WebhookVerificationError) in try verify(signature: "v1,not-base64!") }),
            (.noMatchingSignature, { () throws(WebhookVerificationError) in try verify(signature: "v2," + Self.expected.dropFirst(3)) }),
        ]
        for (reason, attempt) in cases {
            #expect(throws: WebhookVerificationError.self) { try attempt() }
            do throws(WebhookVerificationError) {
                try attempt()
            } catch {
                #expect(error.reason == reason, "\(error)")
            }
        }
    }

    @Test func duringARotationBothSecretsSignAndEitherVerifies() throws {
        let old = WebhookSecret.generate()
        let new = WebhookSecret.generate()
        #expect(old != new)
        let header = WebhookSignature.sign(messageID: "msg_1", timestamp: 100, body: Data("{}".utf8), secrets: [new, old])
        #expect(header.split(separator: " ").count == 2)
        for secret in [old, new] {
            try WebhookSignature.verify(messageID: "msg_1", timestamp: "100", signature: header, body: Data("{}".utf8), secret: secret, now: 100)
        }
    }

    @Test func secretsAreThirtyTwoRandomBytesAndBadOnesAreRefused() throws {
        let secret = WebhookSecret.generate()
        #expect(secret.encoded.hasPrefix("whsec_"))
        #expect(Data(base64Encoded: String(secret.encoded.dropFirst(6)))?.count == 32)
        #expect(try WebhookSecret(encoded: secret.encoded) == secret)
        for bad in ["whsec_", "whsec_!!!", "whsec_" + Data(count: 23).base64EncodedString(), "whsec_" + Data(count: 65).base64EncodedString()] {
            #expect(throws: WebhookVerificationError(.invalidSecret, "a webhook secret is whsec_ and the base64 of 24 to 64 bytes")) {
                try WebhookSecret(encoded: bad)
            }
        }
    }
}
