import JobWireProtocol

/// ListJobs' opaque page token: the position of the last job of the page in
/// the requested order — its sort key and creation sequence — and a
/// fingerprint of the filters and order it was made for.
///
/// A page continues strictly after that position, so no job is repeated or
/// skipped while the order of the jobs does not change: under concurrent
/// creates (a newer job never lands in a later page of the default order)
/// and deletes (a deleted job simply is not there). Under the orders by last
/// change or priority, a job whose key changes while a client pages moves:
/// it is shown again or not at all (docs/PROTOCOL.md, "ListJobs").
struct PageToken: Equatable {
    /// The order's key of the last job shown (0 for the creation order, whose key is `sequence`).
    var key: Int64
    var sequence: UInt64
    var filterFingerprint: UInt64

    private static let prefix = "jw2."

    var encoded: String {
        Self.prefix + String(key, radix: 36) + "." + String(sequence, radix: 36) + "." + String(filterFingerprint, radix: 36)
    }

    init(key: Int64, sequence: UInt64, filterFingerprint: UInt64) {
        self.key = key
        self.sequence = sequence
        self.filterFingerprint = filterFingerprint
    }

    init(parsing token: String, expectedFingerprint: UInt64) throws(JobWireError) {
        let invalid = JobWireError(.invalidArgument, Reason.invalidPageToken,
                                   "the page token was not issued by this server for these filters and order")
        guard token.hasPrefix(Self.prefix) else { throw invalid }
        let parts = token.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let key = Int64(parts[0], radix: 36), let sequence = UInt64(parts[1], radix: 36),
              let fingerprint = UInt64(parts[2], radix: 36), fingerprint == expectedFingerprint else { throw invalid }
        self.key = key
        self.sequence = sequence
        filterFingerprint = fingerprint
    }

    /// A fingerprint of the filters, search and order (not the page size or token).
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
