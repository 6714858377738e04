import Foundation
import JobWireJSON
import JobWireProtocol
import JobWireTestSupport
import Testing

/// The one JSON shape of a job: golden files shared with the Python client,
/// the writer's escaping and numbers, times, and reading specs back.
@Suite("Job JSON", .ownThread)
struct JobJSONTests {
    static let goldenJobs = ["job_running", "job_completed", "job_failed", "job_retried"]

    /// `JOBWIRE_UPDATE_GOLDEN=1 swift test --filter JobJSONTests` rewrites the files from the code;
    /// review the diff, since the Python client is checked against them too.
    @Test("the golden jobs encode to the committed JSON, byte for byte", arguments: goldenJobs)
    func golden(name: String) throws {
        let fixtures = TestPaths.goldenFixtures
        let bytes = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("\(name).bin")))
        let job = try bytes.withUnsafeBytes { (buffer) throws(JobWireError) in try Job(decoding: buffer, maxBytes: .max) }
        let encoded = JobJSON.encode(job, pretty: true) + Array("\n".utf8)
        let file = fixtures.appendingPathComponent("\(name).json")
        if ProcessInfo.processInfo.environment["JOBWIRE_UPDATE_GOLDEN"] == "1" {
            try Data(encoded).write(to: file)
        }
        let committed = try [UInt8](Data(contentsOf: file))
        #expect(encoded == committed, "\(name).json is stale: JOBWIRE_UPDATE_GOLDEN=1 swift test --filter JobJSONTests")
        // Compact and pretty are the same JSON.
        let compact = try JSONSerialization.jsonObject(with: Data(JobJSON.encode(job))) as? NSDictionary
        let pretty = try JSONSerialization.jsonObject(with: Data(encoded)) as? NSDictionary
        #expect(compact != nil && compact == pretty)
    }

    @Test("strings escape what JSON requires and keep the rest as UTF-8")
    func stringEscaping() throws {
        let text = "quote \" backslash \\ slash / newline \n tab \t bell \u{07} nul \u{0} del \u{7F} σ ✓ 🚀"
        let encoded = JSONValue.string(text).text()
        #expect(encoded == #""quote \" backslash \\ slash / newline \n tab \t bell \u0007 nul \u0000 del "#
            + "\u{7F} σ ✓ 🚀\"")
        let parsed = try JSONSerialization.jsonObject(with: Data(encoded.utf8), options: [.fragmentsAllowed]) as? String
        #expect(parsed == text)
    }

    @Test("numbers in their shortest exact form; NaN and infinities are null")
    func numbers() {
        let values: [Double] = [0, -0.0, 1.02, 2000, 1e-7, 123_456_789.125, -2.25, 1e300, .nan, .infinity]
        #expect(JSONValue.array(values.map(JSONValue.double)).text()
            == "[0.0,-0.0,1.02,2000.0,1e-07,123456789.125,-2.25,1e+300,null,null]")
        #expect(JSONValue.array([.int(.min), .int(.max), .bool(true), .null]).text()
            == "[-9223372036854775808,9223372036854775807,true,null]")
        for value in values where value.isFinite {
            #expect(Double(JSONValue.double(value).text()) == value)
        }
    }

    @Test("pretty printing indents by two spaces and writes empty containers on one line")
    func prettyPrinting() {
        let value = JSONValue.object(["a": .array([.int(1), .object([])]), "b": .array([])])
        #expect(value.text(pretty: true) == "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}")
        #expect(value.text() == #"{"a":[1,{}],"b":[]}"#)
    }

    @Test("times are ISO 8601 UTC with milliseconds, as Foundation writes them")
    func times() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var random = SystemRandomNumberGenerator()
        let fixed: [Int64] = [1, 999, 1000, 86_399_999, 951_782_400_000, 4_107_542_399_999, 1_761_552_000_123, -1, -86_400_001]
        for milliseconds in fixed + (0..<2000).map({ _ in Int64.random(in: -2_000_000_000_000...8_000_000_000_000, using: &random) }) {
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            #expect(ISO8601.string(milliseconds: milliseconds) == expected, "\(milliseconds) ms")
        }
    }

    @Test("a job's JSON read back as a spec keeps every field a creator sets")
    func specRoundTrip() throws {
        let job = GoldenValues.jobRunning
        let spec = try JobJSON.spec(from: JobJSON.encode(job))
        let expected = Job(type: job.type, labels: job.labels, priority: job.priority, streamURL: job.streamURL,
                           streamPort: job.streamPort, viewType: job.viewType, frequenciesList: job.frequenciesList,
                           linesDt: job.linesDt, channelToStreamIndex: job.channelToStreamIndex,
                           streamAmount: job.streamAmount, frequenciesAmount: job.frequenciesAmount,
                           channelAmount: job.channelAmount, metadata: job.metadata)
        #expect(spec == expected)
    }

    @Test("a bad spec is INVALID_ARGUMENT naming the member", arguments: [
        (#"[1]"#, Reason.malformedMessage, "JSON object"),
        (#"{"type": "t""#, Reason.malformedMessage, "not valid JSON"),
        (#"{"typo": 1}"#, Reason.fieldNotAllowed, "\"typo\""),
        (#"{"type": 5}"#, Reason.malformedMessage, "type must be a string"),
        (#"{"priority": 1.5}"#, Reason.malformedMessage, "priority must be a whole number"),
        (#"{"stream_port": -1}"#, Reason.valueOutOfRange, "stream_port must be between 0 and 4294967295"),
        (#"{"labels": {"a": 1}}"#, Reason.malformedMessage, "labels must be an object of strings"),
        (#"{"frequencies_list": [1, "x"]}"#, Reason.malformedMessage, "frequencies_list must be a list of numbers"),
        (#"{"channel_to_stream_index": {"one": 0}}"#, Reason.malformedMessage, "channel_to_stream_index must map"),
        (#"{"metadata": {"dx": "far"}}"#, Reason.malformedMessage, "metadata.dx must be a number"),
    ])
    func badSpecs(json: String, reason: String, fragment: String) {
        do {
            _ = try JobJSON.spec(from: Array(json.utf8))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.code == .invalidArgument && error.reason == reason)
            #expect(error.message.contains(fragment), "\(error.message)")
        }
    }
}
