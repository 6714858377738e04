import JobWireProtocol
import JobWireSync
import Synchronization

/// What each API key has done since the server started, for Usage: calls by
/// method and outcome, rate-limited calls, bytes in and out, last use.
///
/// A session looks its key's ``KeyAccount`` up once (at its handshake) and
/// records into it directly, so a call costs no lookup and no shared lock:
/// each account has its own.
final class UsageLedger: Sendable {
    private struct AccountKey: Hashable {
        var tenant: String
        var keyID: String
    }

    private let accounts: Locked<[AccountKey: KeyAccount]> = Locked([:])

    /// The account of `principal`'s key (created on first use).
    func account(for principal: Principal) -> KeyAccount {
        let key = AccountKey(tenant: principal.tenant, keyID: principal.keyID ?? KeyAccount.developmentKeyID)
        return accounts.withLock { accounts in
            if let account = accounts[key] { return account }
            let account = KeyAccount(keyID: key.keyID, role: principal.role.rawValue)
            accounts[key] = account
            return account
        }
    }

    /// Every account of `tenant`, by key id.
    func usage(tenant: String) -> [KeyUsage] {
        let matching = accounts.withLock { accounts in
            accounts.filter { $0.key.tenant == tenant }.map(\.value)
        }
        return matching.map { $0.snapshot() }.sorted { $0.keyID < $1.keyID }
    }

    /// Every key's usage, of every tenant (for `/metrics`, which sums them).
    func usage() -> [KeyUsage] {
        accounts.withLock { Array($0.values) }.map { $0.snapshot() }
    }
}

/// One API key's counters (see ``UsageLedger``).
package final class KeyAccount: Sendable {
    /// The key id reported when the server runs without keys.
    static let developmentKeyID = "development"

    private struct Calls {
        var calls: UInt64 = 0
        /// Calls that ended with an error, indexed by status code.
        var errors = [UInt64](repeating: 0, count: 17)
    }

    let keyID: String
    /// The role the key had when it was first used (a reload that changes it makes a new principal).
    let role: String
    private let calls: Locked<[Method: Calls]> = Locked([:])
    private let rateLimited = Atomic<UInt64>(0)
    private let bytesIn = Atomic<UInt64>(0)
    private let bytesOut = Atomic<UInt64>(0)
    private let lastUsedAtMs = Atomic<Int64>(0)

    init(keyID: String, role: String) {
        self.keyID = keyID
        self.role = role
    }

    /// A call of `method` ended with `code` (and `reason`).
    package func record(_ method: Method, code: StatusCode, reason: String) {
        calls.withLock { calls in
            calls[method, default: Calls()].calls += 1
            if code != .ok {
                calls[method, default: Calls()].errors[Int(code.rawValue)] += 1
            }
        }
        if reason == Reason.rateLimited {
            rateLimited.add(1, ordering: .relaxed)
        }
        lastUsedAtMs.store(WallClock.nowMs(), ordering: .relaxed)
    }

    package func received(bytes: Int) {
        bytesIn.add(UInt64(bytes), ordering: .relaxed)
    }

    package func sent(bytes: Int) {
        bytesOut.add(UInt64(bytes), ordering: .relaxed)
    }

    func snapshot() -> KeyUsage {
        let methods = calls.withLock { calls in
            Method.allCases.compactMap { method -> MethodUsage? in
                guard let counters = calls[method] else { return nil }
                let errors = counters.errors.enumerated().compactMap { code, count -> CodeCount? in
                    guard count > 0, let status = StatusCode(rawValue: Int32(code)) else { return nil }
                    return CodeCount(code: status, count: count)
                }
                return MethodUsage(method: method.rawValue, calls: counters.calls, errors: errors)
            }
        }
        return KeyUsage(keyID: keyID, role: role, methods: methods.sorted { $0.method < $1.method },
                        rateLimited: rateLimited.load(ordering: .relaxed), bytesIn: bytesIn.load(ordering: .relaxed),
                        bytesOut: bytesOut.load(ordering: .relaxed), lastUsedAtMs: lastUsedAtMs.load(ordering: .relaxed))
    }
}
