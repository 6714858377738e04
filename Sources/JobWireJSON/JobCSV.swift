import Foundation
import JobWireProtocol

/// The CSV export of jobs (RFC 4180, CRLF line ends): `jobwire list --csv`
/// and `GET /v1/jobs` with `Accept: text/csv` write the same columns.
public enum JobCSV {
    public static let columns = ["job_id", "status", "type", "priority", "progress", "current_task", "stream_url",
                                 "stream_port", "created_at", "updated_at", "completed_at", "revision"]

    /// The header line, with its CRLF.
    public static var header: String { columns.joined(separator: ",") + "\r\n" }

    /// One job's line, with its CRLF.
    public static func row(_ job: Job) -> String {
        let fields = [job.jobID, job.status.name, job.type, "\(job.priority)", "\(job.progress)", job.currentTask,
                      job.streamURL, "\(job.streamPort)", ISO8601.string(milliseconds: job.createdAtMs),
                      ISO8601.string(milliseconds: job.updatedAtMs),
                      job.completedAtMs == 0 ? "" : ISO8601.string(milliseconds: job.completedAtMs), "\(job.revision)"]
        return fields.map(quote).joined(separator: ",") + "\r\n"
    }

    /// Quotes fields holding commas, quotes or line breaks, doubling the quotes.
    private static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
