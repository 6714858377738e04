import Testing
@testable import JobWireJSON
import JobWireProtocol

/// A result is embedded as JSON only when it is JSON every reader accepts
/// (Foundation's parser is more lenient than RFC 8259).
struct StrictJSONTests {
    @Test(arguments: [#"{"a":1}"#, "[1, 2.5e-3, -0, true, false, null]", #""\u00e9\n""#, " 7 ", "{}", "[]", #"{"a":{"b":[{}]}}"#])
    func acceptsJSON(_ text: String) {
        #expect(StrictJSON.isValid(Array(text.utf8)))
    }

    @Test(arguments: ["[1,]", #"{"a":1,}"#, "01", "1.", ".5", "+1", "NaN", "'a'", #"{"a" 1}"#, "[1] [2]", "", #""\x""#, "tru"])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(!StrictJSON.isValid(Array(text.utf8)))
    }

    @Test func lenientJSONResultIsAStringNotRawJSON() {
        var job = Job(jobID: "00000000-0000-4000-8000-000000000001")
        job.result = JobResult(contentType: "application/json", data: Array("[1,]".utf8))
        let text = JobJSON.value(job).text()
        #expect(text.contains(#""result":{"content_type":"application/json","data":"[1,]"}"#))
    }
}
