import Foundation
import JobWireProtocol
import JobWireServer
import JobWireSync

/// What a postgres node serves while its database cannot be reached when it
/// starts (after a restart of PostgreSQL, say): no jobs, every call refused
/// with UNAVAILABLE / STORE_UNAVAILABLE and Health NOT_SERVING, so that load
/// balancers and clients learn at once instead of waiting on a closed port.
/// It tries the database every ``probeIntervalMs``; once it answers, the store
/// stops, and the node restarts itself from the database as after any store
/// failure (docs/OPERATIONS.md, "Several nodes on PostgreSQL").
///
/// Threading: the probe runs on a thread of its own; the rest is read from any thread under locks.
public final class PostgresOutageStore: JobStore, @unchecked Sendable {
    static let probeIntervalMs: UInt32 = 1_000
    /// The reason of the stop that says the database is back (a recovery, not a failure).
    public static let reconnected = "STORE_RECONNECTED"

    private let url: String
    private let reason: Locked<JobWireError>
    private let handler = Locked<(@Sendable (JobWireError) -> Void)?>(nil)
    private let probing = Locked(true)

    /// Starts probing `url`; `failure` is why the database could not be reached.
    public init(url: String, failure: JobWireError) {
        self.url = url
        reason = Locked(JobWireError(.unavailable, Reason.storeUnavailable,
                                     "PostgreSQL cannot be reached: \(failure.message)"))
        Thread.detachNewThread { [self] in probe() }
    }

    public var kind: String { "postgres" }
    public var state: String { "unavailable: \(reason.withLock { $0.message })" }
    public var stoppedBecause: JobWireError? { reason.withLock { $0 } }
    public var commits: Int { 0 }

    public func load(expect: (Int) -> Void,
                     restore: (StoredJob) throws(JobWireError) -> Void) throws(JobWireError) -> [StoredTombstone] { [] }

    public func loadDetails(sequence: UInt64) throws(JobWireError) -> StoredDetails {
        throw reason.withLock { $0 }
    }

    public func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        completion(.failure(reason.withLock { $0 }))
    }

    /// Runs `handler` once the database answers again (and the node should restart from it).
    public func onStop(_ handler: @escaping @Sendable (JobWireError) -> Void) {
        self.handler.withLock { $0 = handler }
    }

    /// Every second: once a connection succeeds and someone listens for it, tells them; otherwise keeps the latest
    /// failure for Health.
    private func probe() {
        while probing.withLock({ $0 }) {
            usleep(Self.probeIntervalMs * 1_000)
            do throws(JobWireError) {
                _ = try PostgresConnection(url: url, applicationName: "jobwired probe")
                guard let handler = handler.withLock({ $0 }) else { continue }
                probing.withLock { $0 = false }
                handler(JobWireError(.unavailable, Self.reconnected, "PostgreSQL answers again; the server restarts from it"))
            } catch {
                reason.withLock { $0 = JobWireError(.unavailable, Reason.storeUnavailable,
                                                    "PostgreSQL cannot be reached: \(error.message)") }
            }
        }
    }
}
