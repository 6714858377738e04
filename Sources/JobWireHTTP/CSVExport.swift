import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// `GET /v1/jobs` with `Accept: text/csv`: every job the filters match, as
/// CSV, read page by page while the socket has room (never the whole export
/// in memory). The pages are ListJobs' own, so an export sees each job once
/// even while jobs change; admitted once, as one call.
final class CSVExport: StreamingBody {
    let status = HTTPResponseStatus.ok
    let headers: HTTPHeaders = {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/csv; charset=utf-8")
        headers.add(name: "content-disposition", value: "attachment; filename=\"jobs.csv\"")
        return headers
    }()
    private let api: HTTPAPI
    private let caller: Caller
    private var list: ListJobsRequest
    private var writer: (any StreamWriter)?
    private var done = false
    /// The first page, read before the head is written.
    private var first: ListJobsResponse?

    init(list: ListJobsRequest, caller: Caller, api: HTTPAPI) throws(JobWireError) {
        self.api = api
        self.caller = caller
        self.list = list
        if self.list.pageSize == 0 { self.list.pageSize = UInt32(Limits.maxPageSize) }
        // The first page is read now, so a bad filter or page token is still an error response.
        first = try api.service.listJobs(self.list, caller: caller).decoded()
    }

    func start(_ writer: any StreamWriter) {
        self.writer = writer
        writer.write(ByteBuffer(string: JobCSV.header))
        produce()
    }

    func resume() {
        produce()
    }

    private func produce() {
        guard let writer else { return }
        while !done, writer.isWritable {
            let page: ListJobsResponse
            if let first {
                page = first
                self.first = nil
            } else {
                do throws(JobWireError) {
                    page = try api.service.listJobs(list, caller: caller).decoded()
                } catch {
                    // The head is out and a CSV has no room for an error: the client sees a truncated transfer.
                    done = true
                    writer.abort(code: error.code, reason: error.reason)
                    return
                }
            }
            var buffer = ByteBuffer()
            for job in page.jobs { buffer.writeString(JobCSV.row(job)) }
            writer.write(buffer)
            writer.flush()
            guard !page.nextPageToken.isEmpty else {
                done = true
                writer.finish(code: .ok, reason: "")
                return
            }
            list.pageToken = page.nextPageToken
        }
    }

    /// A drain lets the export finish (a request in progress, within the drain
    /// timeout); a revoked key cuts it short, so the client sees a truncated
    /// transfer, never a short success.
    func stop(ending status: Status?) {
        guard let status else {
            done = true
            return
        }
        guard status.reason != Reason.serverShuttingDown, !done else { return }
        done = true
        writer?.abort(code: status.code, reason: status.reason)
    }
}
