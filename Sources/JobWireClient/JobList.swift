import JobWireProtocol

/// Every job matching a ListJobs request, newest first: pages are fetched as
/// the sequence is consumed. No job is skipped or repeated while others are
/// created or deleted between pages.
public struct JobList: AsyncSequence, Sendable {
    /// Each matching job, newest first.
    public typealias Element = Job

    let client: JobWireClient
    let request: ListJobsRequest
    let timeout: Duration?

    /// Starts listing from the first page.
    public func makeAsyncIterator() -> Iterator {
        Iterator(client: client, request: request, timeout: timeout)
    }

    /// Fetches the next page when the current one is used up.
    public struct Iterator: AsyncIteratorProtocol {
        let client: JobWireClient
        var request: ListJobsRequest
        let timeout: Duration?
        var page: [Job] = []
        var index = 0
        var finished = false

        init(client: JobWireClient, request: ListJobsRequest, timeout: Duration?) {
            self.client = client
            self.request = request
            self.timeout = timeout
        }

        /// The next job; nil after the last page.
        public mutating func next() async throws -> Job? {
            while index >= page.count {
                if finished { return nil }
                let response = try await client.listPage(request, timeout: timeout)
                page = response.jobs
                index = 0
                request.pageToken = response.nextPageToken
                finished = response.nextPageToken.isEmpty
            }
            defer { index += 1 }
            return page[index]
        }
    }
}
