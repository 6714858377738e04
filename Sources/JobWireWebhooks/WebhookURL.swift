import Foundation

/// An endpoint's URL, checked when it is created: `http` or `https`, a host,
/// no user name or password (a secret in a URL ends up in logs), no
/// fragment, at most 2,048 bytes. The host must be one the policy's
/// allow-list names (when there is one); a host that is an address literal is
/// checked against the policy at once, a name after each resolution
/// (``WebhookAddressPolicy``).
public struct WebhookURL: Sendable, Equatable, CustomStringConvertible {
    public static let maxBytes = 2048

    public let text: String
    public let scheme: String
    /// The host as written, without IPv6 brackets.
    public let host: String
    public let port: Int

    public init(_ text: String, policy: WebhookAddressPolicy) throws(WebhookTargetError) {
        guard text.utf8.count <= Self.maxBytes else {
            throw WebhookTargetError(.invalidURL, "a webhook URL is at most \(Self.maxBytes) bytes")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else {
            throw WebhookTargetError(.invalidURL, "a webhook URL is an absolute http:// or https:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw WebhookTargetError(.invalidURL, "a webhook URL names a host")
        }
        guard components.user == nil, components.password == nil else {
            throw WebhookTargetError(.invalidURL, "a webhook URL carries no user name or password; the signature authenticates")
        }
        guard components.fragment == nil else {
            throw WebhookTargetError(.invalidURL, "a webhook URL has no #fragment")
        }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65_535).contains(port) else {
            throw WebhookTargetError(.invalidURL, "the port must be 1 to 65535")
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        try policy.check(host: bare)
        if WebhookAddressPolicy.kind(of: bare) != nil {
            try policy.check(address: bare)
        } else if bare.lowercased() == "localhost" || bare.lowercased().hasSuffix(".localhost") {
            // Resolves to loopback by definition (RFC 6761): refuse it here rather than after a lookup.
            try policy.check(address: "127.0.0.1")
        }
        self.text = text
        self.scheme = scheme
        self.host = bare
        self.port = port
    }

    public var description: String { text }
}
