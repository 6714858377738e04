import Foundation
import JobWireProtocol
import JobWireTestSupport
import Testing

/// The job API over HTTP end to end, through a real HTTP client and sockets:
/// what the Python suite covers route by route, here for the Swift build
/// alone (plain `swift test`).
@Suite(.ownThread)
struct HTTPRoutesTests {
    @Test func createReplayReadAndConditionalRequests() async throws {
        let server = try HTTPTestServer()
        defer { server.stop() }
        let spec = #"{"type": "transcode", "labels": {"env": "prod"}, "stream_url": "rtsp://cam", "stream_port": 8554}"#

        let created = try await server.call("POST", "/v1/jobs", json: spec, headers: ["Idempotency-Key": "order-42"])
        #expect(created.status == 201)
        let jobID = try #require(created.json["job_id"] as? String)
        #expect(created.headers["location"] == "/v1/jobs/\(jobID)")
        #expect(created.headers["etag"] == "\"1\"")
        #expect(created.json["status"] as? String == "pending")

        let replayed = try await server.call("POST", "/v1/jobs", json: spec, headers: ["Idempotency-Key": "order-42"])
        #expect(replayed.status == 200)
        #expect(replayed.json["job_id"] as? String == jobID)

        let notModified = try await server.call("GET", "/v1/jobs/\(jobID)", headers: ["If-None-Match": "\"1\""])
        #expect(notModified.status == 304)
        #expect(notModified.body.isEmpty)

        let running = try await server.call("PATCH", "/v1/jobs/\(jobID)", json: #"{"status": "running", "progress": 25}"#,
                                            headers: ["If-Match": "\"1\""])
        #expect(running.status == 200)
        #expect(running.headers["etag"] == "\"2\"")
        #expect(running.json["progress"] as? Double == 25)

        let stale = try await server.call("PATCH", "/v1/jobs/\(jobID)", json: #"{"progress": 30}"#, headers: ["If-Match": "\"1\""])
        #expect(stale.status == 412)
        #expect(stale.reason == "REVISION_MISMATCH")

        let changed = try await server.call("GET", "/v1/jobs/\(jobID)", headers: ["If-None-Match": "\"1\""])
        #expect(changed.status == 200)
        #expect(changed.json["status"] as? String == "running")
    }

    @Test func badInputGetsItsStatusAndReason() async throws {
        let server = try HTTPTestServer { $0.maxBodyBytes = 4096 }
        defer { server.stop() }
        let cases: [(method: String, path: String, json: String?, status: Int, reason: String)] = [
            ("GET", "/v1/jobs/not-a-uuid", nil, 400, "INVALID_JOB_ID"),
            ("GET", "/v1/jobs/5c0b6bd3-7c1a-4f7e-9a57-3b0d1f4f0a11", nil, 404, "JOB_NOT_FOUND"),
            ("GET", "/v1/nothing", nil, 404, "ROUTE_NOT_FOUND"),
            ("PUT", "/v1/jobs", nil, 405, "METHOD_NOT_ALLOWED"),
            ("GET", "/v1/jobs?colour=red", nil, 400, "INVALID_PARAMETER"),
            ("GET", "/v1/jobs?status=sleeping", nil, 400, "INVALID_ENUM_VALUE"),
            ("GET", "/v1/jobs?api_key=secret", nil, 400, "API_KEY_IN_URL"),
            ("POST", "/v1/jobs", "{not json", 400, "MALFORMED_MESSAGE"),
            ("POST", "/v1/jobs", #"{"type": "t", "colour": 1}"#, 400, "FIELD_NOT_ALLOWED"),
            ("POST", "/v1/jobs", #"{"priority": 1e12}"#, 400, "VALUE_OUT_OF_RANGE"),
            ("POST", "/v1/jobs", "{\"type\": \"" + String(repeating: "x", count: 5000) + "\"}", 413, "MESSAGE_TOO_LARGE"),
            ("GET", "/v1/events?cursor=not-a-cursor", nil, 400, "INVALID_CURSOR"),
        ]
        for testCase in cases {
            let response = try await server.call(testCase.method, testCase.path, json: testCase.json)
            #expect(response.status == testCase.status, "\(testCase.method) \(testCase.path)")
            #expect(response.reason == testCase.reason, "\(testCase.method) \(testCase.path)")
        }
        // Everyone else is still served.
        #expect(try await server.call("GET", "/v1/health").status == 200)
    }

    @Test func writesAnswerOnceCommittedAndDeleteForgets() async throws {
        let server = try HTTPTestServer()
        defer { server.stop() }
        let jobID = try #require(try await server.call("POST", "/v1/jobs", json: #"{"type": "t"}"#).json["job_id"] as? String)
        let cancelled = try await server.call("POST", "/v1/jobs/\(jobID):cancel", json: #"{"reason": "user"}"#)
        #expect(cancelled.json["status"] as? String == "cancelled")
        #expect(cancelled.json["cancel_reason"] as? String == "user")
        let retried = try await server.call("POST", "/v1/jobs/\(jobID):retry")
        #expect(retried.json["status"] as? String == "pending")
        #expect(retried.json["attempt"] as? Int == 2)
        let deleted = try await server.call("DELETE", "/v1/jobs/\(jobID)")
        #expect(deleted.status == 200)
        #expect(deleted.json["deleted"] as? Bool == true)
        #expect(try await server.call("GET", "/v1/jobs/\(jobID)").status == 404)
    }
}
