import JobWireWebhooks
import Testing

@Suite("Where webhooks may go")
struct WebhookTargetTests {
    @Test(arguments: [
        ("8.8.8.8", WebhookAddressPolicy.Kind.global), ("93.184.216.34", .global), ("2606:4700::1111", .global),
        ("127.0.0.1", .loopback), ("127.255.0.9", .loopback), ("::1", .loopback), ("[::1]", .loopback),
        ("10.1.2.3", .privateNetwork), ("172.16.0.1", .privateNetwork), ("172.31.255.255", .privateNetwork),
        ("172.32.0.1", .global), ("192.168.1.1", .privateNetwork), ("fd12:3456::1", .privateNetwork),
        ("169.254.1.1", .linkLocal), ("fe80::1", .linkLocal),
        ("169.254.169.254", .metadata), ("100.100.100.200", .metadata), ("fd00:ec2::254", .metadata),
        ("100.64.0.1", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace), ("100.128.0.1", .global),
        ("0.0.0.0", .unspecified), ("::", .unspecified), ("224.0.0.1", .multicast), ("ff02::1", .multicast),
        ("255.255.255.255", .reserved), ("198.18.0.1", .reserved), ("2001:db8::1", .reserved),
        ("::ffff:127.0.0.1", .loopback), ("::ffff:10.0.0.1", .privateNetwork), ("::ffff:8.8.8.8", .global),
        ("2002:0a00:0001::1", .privateNetwork), ("2002:0808:0808::1", .global), ("64:ff9b::a00:1", .reserved),
    ])
    func addressesAreClassified(address: String, kind: WebhookAddressPolicy.Kind) {
        #expect(WebhookAddressPolicy.kind(of: address) == kind, "\(address)")
    }

    @Test func namesAndNonsenseAreNotAddresses() {
        for text in ["example.com", "", "1.2.3", "1.2.3.4.5", "::g", "[127.0.0.1]"] {
            #expect(WebhookAddressPolicy.kind(of: text) == nil, "\(text)")
        }
    }

    @Test func privateAddressesNeedTheFlagAndMetadataIsNeverAllowed() throws {
        let strict = WebhookAddressPolicy()
        let relaxed = WebhookAddressPolicy(allowPrivate: true)
        for address in ["127.0.0.1", "10.0.0.1", "fe80::1", "100.64.0.1"] {
            #expect(throws: WebhookTargetError.self) { try strict.check(address: address) }
            try relaxed.check(address: address)
        }
        for address in ["169.254.169.254", "0.0.0.0", "224.0.0.1", "fd00:ec2::254"] {
            for policy in [strict, relaxed] {
                #expect(throws: WebhookTargetError.self) { try policy.check(address: address) }
            }
        }
        try strict.check(address: "8.8.8.8")
        do throws(WebhookTargetError) {
            try strict.check(address: "10.0.0.1")
        } catch {
            #expect(error.reason == .addressNotAllowed)
            #expect(error.message == "10.0.0.1 is a private address; webhooks reach public addresses only (jobwired --webhooks-allow-private allows it)")
        }
    }

    @Test func urlsAreHTTPWithAHostAndNoCredentials() throws {
        let strict = WebhookAddressPolicy()
        let relaxed = WebhookAddressPolicy(allowPrivate: true)
        let https = try WebhookURL("https://hooks.example.com/jobwire?tenant=acme", policy: strict)
        #expect((https.scheme, https.host, https.port) == ("https", "hooks.example.com", 443))
        let local = try WebhookURL("http://127.0.0.1:9000/hook", policy: relaxed)
        #expect((local.scheme, local.host, local.port) == ("http", "127.0.0.1", 9000))
        #expect(try WebhookURL("http://[::1]:9000/", policy: relaxed).host == "::1")
        let refused: [(String, WebhookAddressPolicy, WebhookTargetError.Reason)] = [
            ("ftp://example.com/", strict, .invalidURL), ("/hook", strict, .invalidURL), ("example.com", strict, .invalidURL),
            ("https://user:pass@example.com/", strict, .invalidURL), ("https://example.com/#x", strict, .invalidURL),
            ("https://example.com/" + String(repeating: "a", count: 2048), strict, .invalidURL),
            ("http://127.0.0.1:9000/hook", strict, .addressNotAllowed), ("http://[::1]/", strict, .addressNotAllowed),
            ("http://localhost:9000/", strict, .addressNotAllowed), ("http://app.localhost/", strict, .addressNotAllowed),
            ("http://169.254.169.254/latest/meta-data", relaxed, .addressNotAllowed),
        ]
        for (text, policy, reason) in refused {
            do throws(WebhookTargetError) {
                _ = try WebhookURL(text, policy: policy)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.reason == reason, "\(text): \(error)")
            }
        }
    }

    @Test("an allow-list of hosts: exact names and addresses, *.suffix for the names below it, without case; the address rules still apply")
    func allowedHosts() throws {
        let policy = WebhookAddressPolicy(allowPrivate: false, allowedHosts: ["hooks.example.com", "*.acme.io", "203.0.113.9", "127.0.0.1"])
        for text in ["https://hooks.example.com/x", "https://HOOKS.example.COM/x", "https://a.acme.io/x", "https://b.c.acme.io/x",
                     "http://203.0.113.9:8080/x"] {
            #expect(throws: Never.self, "\(text)") { _ = try WebhookURL(text, policy: policy) }
        }
        for text in ["https://example.com/x", "https://acme.io/x", "https://evilacme.io/x", "https://hooks.example.com.evil.io/x",
                     "http://203.0.113.10/x"] {
            do throws(WebhookTargetError) {
                _ = try WebhookURL(text, policy: policy)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.reason == .addressNotAllowed && error.message.contains("--webhook-allowed-hosts"), "\(text): \(error)")
            }
        }
        // Listed, but loopback: refused without --webhooks-allow-private.
        #expect(throws: WebhookTargetError.self) { _ = try WebhookURL("http://127.0.0.1:9000/", policy: policy) }
    }
}
