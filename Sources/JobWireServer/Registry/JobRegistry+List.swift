import JobWireProtocol

extension JobRegistry {
    /// ListJobs: the tenant's jobs that match the filters and search, in the
    /// requested order, one page after the token's position (see
    /// ``PageToken``), with the exact number of matching jobs.
    ///
    /// One pass over the tenant's jobs (``TenantJobs``), never another
    /// tenant's: each job is checked against the filters on the summary
    /// readers see, counted, and offered to the page, which keeps the best
    /// `page_size + 1` positions after the token. Only the jobs shown are
    /// copied or encoded.
    public func list(_ request: ListJobsRequest, tenant: String) throws(JobWireError) -> [UInt8] {
        let fingerprint = PageToken.fingerprint(of: request, tenant: tenant)
        let after = request.pageToken.isEmpty
            ? nil
            : try PageToken(parsing: request.pageToken, expectedFingerprint: fingerprint)
        let pageSize = request.pageSize == 0 ? Limits.defaultPageSize : Int(request.pageSize)
        let filter = JobFilter(request)
        var page = PageSelection(order: request.orderBy, ascending: request.ascending,
                                 after: after.map { ($0.key, $0.sequence) }, capacity: pageSize + 1)
        try checkStore()
        return try state.withLock { (state) throws(JobWireError) -> [UInt8] in
            var total: UInt64 = 0
            let now = WallClock.nowMs()
            // Newest first is the common order: walking backwards fills the
            // page first, and every later job is refused with one comparison.
            let backwards = !request.ascending || request.orderBy != .created
            state.tenants[tenant]?.scan(statusMask: filter.statusMask, backwards: backwards) { slot in
                // Expired jobs the reaper has not reached yet are left out, as they will be once it has.
                guard slot.visibleMatches(filter, nowMs: now) else { return }
                total += 1
                page.offer(slot)
            }
            var response: [UInt8] = []
            for (_, slot) in page.selected.prefix(pageSize) {
                // A damaged job fails the page, naming itself, rather than making
                // the whole reply undecodable. Only a restored job not yet served needs the check.
                let served = try state.verified(slot.record)
                ProtobufWriter.appendLengthDelimited(WireFields.ListJobsResponse.jobs, try Self.readable(served, logTail: 0),
                                                     to: &response)
            }
            if page.selected.count > pageSize {
                let last = page.selected[pageSize - 1].position
                let token = PageToken(key: last.key, sequence: last.sequence, filterFingerprint: fingerprint)
                ProtobufWriter.appendString(WireFields.ListJobsResponse.nextPageToken, token.encoded, to: &response)
            }
            ProtobufWriter.appendVarintField(WireFields.ListJobsResponse.totalCount, total, to: &response)
            return response
        }
    }
}

/// The first `capacity` jobs in a ListJobs order after a page token's
/// position, chosen from jobs offered in any order: a sorted buffer that a
/// job enters only when it beats the worst one kept.
struct PageSelection {
    /// A job's place in the order: the order's key, then creation sequence.
    struct Position {
        var key: Int64
        var sequence: UInt64
    }

    let order: JobOrder
    let ascending: Bool
    let after: Position?
    let capacity: Int
    /// Best first.
    private(set) var selected: [(position: Position, slot: JobSlot)] = []

    init(order: JobOrder, ascending: Bool, after: (key: Int64, sequence: UInt64)?, capacity: Int) {
        self.order = order
        self.ascending = ascending
        self.after = after.map { Position(key: $0.key, sequence: $0.sequence) }
        self.capacity = capacity
        selected.reserveCapacity(capacity)
    }

    /// A matching job's position in the order, read from the summary readers
    /// see (creation order has no key beyond the sequence).
    func position(of slot: JobSlot) -> Position {
        let sequence = slot.record.sequence
        switch order {
        case .created:
            return Position(key: 0, sequence: sequence)
        case .updated:
            let updated = slot.record.isSettled ? slot.record.summary.updatedAtMs : slot.record.visible?.summary.updatedAtMs ?? 0
            return Position(key: updated, sequence: sequence)
        case .priority:
            let priority = slot.record.isSettled ? slot.record.summary.priority : slot.record.visible?.summary.priority ?? 0
            return Position(key: Int64(priority), sequence: sequence)
        }
    }

    /// Whether `lhs` comes before `rhs` in the order.
    private func precedes(_ lhs: Position, _ rhs: Position) -> Bool {
        if lhs.key != rhs.key { return ascending ? lhs.key < rhs.key : lhs.key > rhs.key }
        return ascending ? lhs.sequence < rhs.sequence : lhs.sequence > rhs.sequence
    }

    mutating func offer(_ slot: JobSlot) {
        let position = position(of: slot)
        if let after, !precedes(after, position) { return }
        if selected.count == capacity {
            guard let worst = selected.last, precedes(position, worst.position) else { return }
            selected.removeLast()
        }
        var low = 0
        var high = selected.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(selected[middle].position, position) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        selected.insert((position, slot), at: low)
    }
}
