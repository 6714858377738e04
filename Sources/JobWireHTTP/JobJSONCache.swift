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
        var encodedJob: [UInt8]
        let revision: UInt64
        /// The JSON text, ready to write: every response shares this storage.
        let json: ByteBuffer
        /// The same text, for embedding in an event (`JSONValue.raw`).
        let jsonBytes: [UInt8]
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
        let cached = entries.withLock { $0[jobID] }
        if let cached, cached.encodedJob == encodedJob {
            return cached
        }
        let job = try Job(decoding: encodedJob)
        var entry: Entry
        if let cached, cached.revision == job.revision {
            // Made from a live event's job (re-encoded by Swift, so other bytes for the same revision):
            // the JSON stands; keep these bytes so the next read is an identity hit.
            entry = cached
            entry.encodedJob = encodedJob
        } else {
            entry = Self.make(job, encodedJob: encodedJob)
        }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[jobID] = entry
        }
        return entry
    }

    /// The JSON text of a decoded job without log lines (a live event's):
    /// the cached one when the job is at the cached revision (a job id and a
    /// revision name one state of one job), else made and cached. So a
    /// change answered to its writer, sent to its watchers and read by
    /// pollers is turned into JSON once.
    func json(of job: Job) -> [UInt8] {
        if let cached = entries.withLock({ $0[job.jobID] }), cached.revision == job.revision {
            return cached.jsonBytes
        }
        // No encoding to remember (making one costs more than the JSON): the next read of this
        // revision matches the entry by its revision and stores its own bytes then.
        let entry = Self.make(job, encodedJob: [])
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[job.jobID] = entry
        }
        return entry.jsonBytes
    }

    /// The JSON of a job that is not cached (one with a log tail, a snapshot).
    static func make(_ encodedJob: [UInt8]) throws(JobWireError) -> Entry {
        make(try Job(decoding: encodedJob), encodedJob: encodedJob)
    }

    private static func make(_ job: Job, encodedJob: [UInt8]) -> Entry {
        let value = JobJSON.value(job)
        let bytes = value.encoded()
        return Entry(encodedJob: encodedJob, revision: job.revision, json: ByteBuffer(bytes: bytes), jsonBytes: bytes, value: value)
    }
}
