import JobWireProtocol

/// ListJobs' opaque page token: the creation sequence number of the last job
/// of the page, and a fingerprint of the filters it was made for.
///
/// Jobs are listed newest first, by a creation sequence that only grows, so
/// "the jobs older than the last one shown" is stable under concurrent
/// creates (newer jobs are never in a later page) and deletes (a deleted job
/// simply is not there): no job is skipped or repeated.
struct PageToken: Equatable {
    var beforeSequence: UInt64
    var filterFingerprint: UInt64

    private static let prefix = "jw1."

    var encoded: String {
        Self.prefix + String(beforeSequence, radix: 36) + "." + String(filterFingerprint, radix: 36)
    }

    init(beforeSequence: UInt64, filterFingerprint: UInt64) {
        self.beforeSequence = beforeSequence
        self.filterFingerprint = filterFingerprint
    }

    init(parsing token: String, expectedFingerprint: UInt64) throws(JobWireError) {
        let invalid = JobWireError(.invalidArgument, Reason.invalidPageToken,
                                   "the page token was not issued by this server for these filters")
        guard token.hasPrefix(Self.prefix) else { throw invalid }
        let parts = token.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let sequence = UInt64(parts[0], radix: 36), let fingerprint = UInt64(parts[1], radix: 36),
              fingerprint == expectedFingerprint else { throw invalid }
        beforeSequence = sequence
        filterFingerprint = fingerprint
    }

    /// A fingerprint of the filters (not the page size or token).
    static func fingerprint(of request: ListJobsRequest, tenant: String) -> UInt64 {
        var filters = request
        filters.pageSize = 0
        filters.pageToken = ""
        filters.statuses.sort { $0.rawValue < $1.rawValue }
        return FNV1a.hash(filters.encode(), seed: FNV1a.hash(Array(tenant.utf8)))
    }
}

/// 64-bit FNV-1a: a fast, stable (across runs and machines) fingerprint.
enum FNV1a {
    static func hash(_ bytes: [UInt8], seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
        var hash = seed
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
