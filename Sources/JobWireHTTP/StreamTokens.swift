import JobWireServer
import JobWireSync

/// Short-lived, read-only tokens that open event streams from a browser.
///
/// `EventSource` cannot send headers, and a long-lived API key in a URL ends
/// up in access logs, proxy logs, browser history and `Referer` headers. So
/// an authenticated call (`POST /v1/stream-tokens`) mints a random token that
/// stands for its key's tenant with the reader role, opens event streams and
/// nothing else, and expires (10 minutes by default; an open stream goes on).
final class StreamTokens: Sendable {
    struct Grant: Sendable {
        /// What the token stands for: the key's tenant, read-only.
        let principal: Principal
        /// The key's own principal, checked against the current keys on every use.
        let minter: Principal
        let expiresAtMs: Int64
    }

    private let grants = Locked<[String: Grant]>([:])
    let ttlMs: Int64
    /// Most tokens alive at once; minting past it is RESOURCE_EXHAUSTED.
    static let maxTokens = 100_000

    init(ttlMs: Int64) {
        self.ttlMs = ttlMs
    }

    /// A new token for `principal`, read-only on its own tenant.
    func mint(for principal: Principal, nowMs: Int64) -> (token: String, grant: Grant)? {
        var generator = SystemRandomNumberGenerator()
        let token = "jwst_" + (0..<4).map { _ in
            let word = generator.next() as UInt64
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
        let reader = Principal(keyID: principal.keyID, tenant: principal.tenant, role: min(principal.role, .reader))
        let grant = Grant(principal: reader, minter: principal, expiresAtMs: nowMs + ttlMs)
        let stored = grants.withLock { grants -> Bool in
            if grants.count >= Self.maxTokens {
                grants = grants.filter { $0.value.expiresAtMs > nowMs }
                guard grants.count < Self.maxTokens else { return false }
            }
            grants[token] = grant
            return true
        }
        return stored ? (token, grant) : nil
    }

    /// The grant of a live token.
    func grant(for token: String, nowMs: Int64) -> Grant? {
        grants.withLock { grants in
            guard let grant = grants[token] else { return nil }
            guard grant.expiresAtMs > nowMs else {
                grants[token] = nil
                return nil
            }
            return grant
        }
    }
}
