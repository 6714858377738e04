import JobWireKeys

/// Who an API key says a client is: established once per session (a binary
/// connection's Hello, an HTTP request's key) by ``JobService/authenticate(apiKey:)``.
public struct Principal: Sendable, Equatable {
    /// nil in development mode.
    public let keyID: String?
    public let tenant: String
    public let role: Role

    /// No keys file: one tenant, every role.
    public static let development = Principal(keyID: nil, tenant: "default", role: .admin)

    public init(keyID: String?, tenant: String, role: Role) {
        self.keyID = keyID
        self.tenant = tenant
        self.role = role
    }

    init(_ entry: KeyEntry) {
        self.init(keyID: entry.id, tenant: entry.tenant, role: entry.role)
    }
}

/// A principal admitted to one call (``JobService/admit(_:to:tenant:)``):
/// its role allows the method, it may act for `tenant`, and the rate limits
/// let the call through. Every operation of ``JobService`` takes one.
public struct Caller: Sendable, Equatable {
    public let principal: Principal
    /// The tenant the call acts for: the key's own, or any for an admin key.
    public let tenant: String
}
