#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which addresses a webhook may reach: only public ones, unless the server
/// runs with `--webhooks-allow-private` (for receivers on the same machine or
/// network, and the tests). A URL is checked when an endpoint is created,
/// and every address its host resolves to is checked again before each
/// connection, so a name that later points inside the network (DNS
/// rebinding) is refused too. Cloud metadata services are refused always:
/// nothing a job changes has reason to call them.
///
/// An operator may also name the only hosts webhooks may go to
/// (`--webhook-allowed-hosts`): an exact host, or `*.example.com` for any
/// name below `example.com`; compared without case, before any lookup. The
/// address rules still apply to what such a host resolves to.
public struct WebhookAddressPolicy: Sendable {
    public var allowPrivate: Bool
    /// nil: any host (whose addresses the rules allow).
    public var allowedHosts: [String]?

    public init(allowPrivate: Bool = false, allowedHosts: [String]? = nil) {
        self.allowPrivate = allowPrivate
        self.allowedHosts = allowedHosts.map { $0.map { $0.lowercased() } }
    }

    /// Refuses a host (as written in the URL, without IPv6 brackets) that the allow-list leaves out.
    public func check(host: String) throws(WebhookTargetError) {
        guard let allowedHosts else { return }
        let name = host.lowercased()
        let allowed = allowedHosts.contains { pattern in
            pattern.hasPrefix("*.") ? name.hasSuffix(pattern.dropFirst()) && name.count > pattern.count - 1 : name == pattern
        }
        guard allowed else {
            throw WebhookTargetError(.addressNotAllowed,
                                     "\(host.prefix(253)) is not one of the hosts webhooks may go to (jobwired --webhook-allowed-hosts)")
        }
    }

    /// What kind of address a literal is; nil when it is not an IPv4 or IPv6 literal.
    public enum Kind: String, Sendable, Equatable {
        case global = "public"
        case loopback
        case privateNetwork = "private"
        case linkLocal = "link-local"
        case sharedAddressSpace = "shared address space (carrier-grade NAT)"
        case metadata = "cloud metadata"
        case unspecified
        case multicast
        case reserved
    }

    /// Refuses an address (already resolved) that this policy does not allow, naming its kind.
    public func check(address: String) throws(WebhookTargetError) {
        guard let kind = Self.kind(of: address) else {
            throw WebhookTargetError(.invalidURL, "\(address.prefix(64)) is not an IP address")
        }
        switch kind {
        case .global:
            return
        case .loopback, .privateNetwork, .linkLocal, .sharedAddressSpace:
            if allowPrivate { return }
        case .metadata, .unspecified, .multicast, .reserved:
            break
        }
        let hint = allowPrivate || ![.loopback, .privateNetwork, .linkLocal, .sharedAddressSpace].contains(kind)
            ? "" : " (jobwired --webhooks-allow-private allows it)"
        throw WebhookTargetError(.addressNotAllowed, "\(address) is a \(kind.rawValue) address; webhooks reach public addresses only\(hint)")
    }

    /// Classifies an IPv4 or IPv6 literal (an IPv4-mapped IPv6 address as its IPv4 address).
    public static func kind(of address: String) -> Kind? {
        var ipv4 = in_addr()
        if inet_pton(AF_INET, address, &ipv4) == 1 {
            let value = UInt32(bigEndian: ipv4.s_addr)
            return kind(ipv4: value)
        }
        var ipv6 = in6_addr()
        let literal = address.hasPrefix("[") && address.hasSuffix("]") ? String(address.dropFirst().dropLast()) : address
        guard inet_pton(AF_INET6, literal, &ipv6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: ipv6) { Array($0) }
        return kind(ipv6: bytes)
    }

    static func kind(ipv4 value: UInt32) -> Kind {
        func within(_ network: UInt32, _ prefix: UInt32) -> Bool {
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            return value & mask == network & mask
        }
        if value == 0xA9FE_A9FE || value == 0x6464_64C8 { return .metadata }     // 169.254.169.254, 100.100.100.200
        if within(0x0000_0000, 8) { return .unspecified }                        // 0.0.0.0/8
        if within(0x7F00_0000, 8) { return .loopback }                           // 127.0.0.0/8
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) { return .privateNetwork }
        if within(0xA9FE_0000, 16) { return .linkLocal }                         // 169.254.0.0/16
        if within(0x6440_0000, 10) { return .sharedAddressSpace }                // 100.64.0.0/10
        if within(0xE000_0000, 4) { return .multicast }                          // 224.0.0.0/4
        // 192.0.0.0/24 (protocol assignments), 198.18.0.0/15 (benchmarking), 240.0.0.0/4 and the broadcast address.
        if within(0xC000_0000, 24) || within(0xC612_0000, 15) || within(0xF000_0000, 4) { return .reserved }
        return .global
    }

    static func kind(ipv6 bytes: [UInt8]) -> Kind {
        let isZeroPrefix = bytes[0..<10].allSatisfy { $0 == 0 }
        if isZeroPrefix, bytes[10] == 0xFF, bytes[11] == 0xFF {                  // ::ffff:a.b.c.d
            return kind(ipv4: bytes[12..<16].reduce(0) { $0 << 8 | UInt32($1) })
        }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) {
            return bytes[15] == 1 ? .loopback : .unspecified                     // ::1, ::
        }
        if bytes == [0xFD, 0x00, 0x0E, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54] { return .metadata }  // fd00:ec2::254
        if bytes[0] & 0xFE == 0xFC { return .privateNetwork }                    // fc00::/7
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return .linkLocal }       // fe80::/10
        if bytes[0] == 0xFF { return .multicast }                                // ff00::/8
        if isZeroPrefix { return .reserved }                                     // IPv4-compatible and other ::/80
        if bytes[0] == 0x20, bytes[1] == 0x02 {                                   // 6to4: 2002:a.b.c.d::/48
            let embedded = kind(ipv4: bytes[2..<6].reduce(0) { $0 << 8 | UInt32($1) })
            return embedded == .global ? .global : embedded
        }
        if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0x0D, bytes[3] == 0xB8 { return .reserved }  // 2001:db8::/32
        if bytes[0] == 0x00, bytes[1] == 0x64, bytes[2] == 0xFF, bytes[3] == 0x9B { return .reserved }  // 64:ff9b::/96 NAT64
        return .global
    }
}

/// Why a webhook URL or address is refused.
public struct WebhookTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case invalidURL = "INVALID_WEBHOOK_URL"
        case addressNotAllowed = "WEBHOOK_ADDRESS_NOT_ALLOWED"
    }

    public let reason: Reason
    public let message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
