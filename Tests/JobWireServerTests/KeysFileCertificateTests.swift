import Foundation
import JobWireKeys
import JobWireProtocol
import Testing

@Suite("Client certificates in the keys file")
struct KeysFileCertificateTests {
    @Test("a certificate's line round-trips, authenticates by its fingerprint only, and never as a key")
    func certificateLines() throws {
        var file = KeysFile()
        let der: [UInt8] = Array("a certificate's DER bytes".utf8)
        let entry = try file.addCertificate(der: der, tenant: "acme", role: .worker)
        #expect(entry.kind == .certificate && entry.id.count == 16 && entry.hash == APIKey.sha256(der))
        #expect(file.text.contains("\(entry.id) acme worker \(APIKey.sha256(der).map { String(format: "%02x", $0) }.joined())"))
        #expect(file.text.hasSuffix(" certificate\n"))
        #expect(throws: JobWireError.self) { try file.addCertificate(der: der, tenant: "acme", role: .reader) }

        let parsed = try KeysFile(parsing: file.text)
        #expect(parsed == file)
        let ring = KeyRing(parsed)
        #expect(ring.authenticate(certificateFingerprint: APIKey.sha256(der))?.tenant == "acme")
        #expect(ring.authenticate(certificateFingerprint: APIKey.sha256(der + [0])) == nil)
        // The fingerprint is not a key: presenting a key-shaped string with the certificate's id never matches.
        #expect(ring.authenticate("jwk_\(entry.id)_" + String(repeating: "0", count: 64)) == nil)

        // A certificate line whose id is not its fingerprint's prefix, or with an unknown sixth field, is refused.
        let line = file.text.split(separator: "\n").last.map(String.init) ?? ""
        let wrongID = "0000000000000000" + line.dropFirst(16)
        #expect(throws: JobWireError.self) { try KeysFile(parsing: wrongID) }
        #expect(throws: JobWireError.self) { try KeysFile(parsing: line.replacingOccurrences(of: " certificate", with: " other")) }
    }

    @Test("the DER of a PEM file's first certificate")
    func pem() {
        let pem = "junk\n-----BEGIN CERTIFICATE-----\nAAEC\nAwQ=\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBQ==\n-----END CERTIFICATE-----\n"
        #expect(KeysFile.firstCertificateDER(pem: pem) == [0, 1, 2, 3, 4])
        #expect(KeysFile.firstCertificateDER(pem: "no certificate here") == nil)
    }
}
