import JobWireJSON
import JobWireProtocol
import JobWireSync
import NIOCore

/// A job's JSON, made once per revision and shared by every request and
/// event stream that sends it, like the registry's cached protobuf encoding.
///
/// Keyed by job id and checked against the encoding it was made from: the
/// registry hands out the same encoding (the same buffer) until the job
/// changes, so a hit costs one comparison that is almost always an identity
/// check, and a changed job can never be answered with stale JSON.
final class JobJSONCache: Sendable {
    struct Entry: Sendable {
        let encodedJob: [UInt8]
        let revision: UInt64
        /// The JSON text, ready to write: every response shares this storage.
        let json: ByteBuffer
        let value: JSONValue
    }

    private let entries = Locked<[String: Entry]>([:])
    /// Jobs kept; past it the cache starts over (cheap, and bounded).
    private let capacity: Int

    init(capacity: Int = 65_536) {
        self.capacity = capacity
    }

    /// The JSON of a job without log lines, from its encoding.
    func entry(jobID: String, encodedJob: [UInt8]) throws(JobWireError) -> Entry {
        if let cached = entries.withLock({ $0[jobID] }), cached.encodedJob == encodedJob {
            return cached
        }
        let entry = try Self.make(encodedJob)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[jobID] = entry
        }
        return entry
    }

    /// The JSON of a job that is not cached (one with a log tail, a snapshot).
    static func make(_ encodedJob: [UInt8]) throws(JobWireError) -> Entry {
        let job = try Job(decoding: encodedJob)
        let value = JobJSON.value(job)
        return Entry(encodedJob: encodedJob, revision: job.revision, json: ByteBuffer(bytes: value.encoded()), value: value)
    }
}
