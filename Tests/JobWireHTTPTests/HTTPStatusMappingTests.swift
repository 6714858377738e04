import JobWireProtocol
import NIOHTTP1
import Testing
@testable import JobWireHTTP

/// Every JobWire status code has its HTTP status, and the reasons HTTP has a
/// closer word for refine it (docs/HTTP.md, "Errors").
struct HTTPStatusMappingTests {
    @Test(arguments: [
        (StatusCode.invalidArgument, "", 400), (.outOfRange, "", 400), (.unauthenticated, "", 401),
        (.permissionDenied, "", 403), (.notFound, "", 404), (.notFound, Reason.expired, 410),
        (.alreadyExists, "", 409), (.failedPrecondition, Reason.illegalTransition, 409), (.aborted, "", 409),
        (.aborted, Reason.revisionMismatch, 412), (.resourceExhausted, Reason.rateLimited, 429),
        (.invalidArgument, Reason.messageTooLarge, 413), (.resourceExhausted, Reason.headersTooLarge, 431),
        (.invalidArgument, Reason.unsupportedMediaType, 415), (.deadlineExceeded, "", 504),
        (.deadlineExceeded, Reason.requestTimeout, 408), (.unavailable, "", 503), (.unimplemented, "", 501),
        (.unimplemented, Reason.methodNotAllowed, 405), (.internal, "", 500), (.dataLoss, "", 500), (.unknown, "", 500),
    ])
    func statusOfCode(code: StatusCode, reason: String, expected: Int) {
        #expect(HTTPResponse.httpStatus(of: Status(code: code, reason: reason)).code == UInt(expected))
    }

    @Test func rateLimitedAnswersRetryAfterInWholeSeconds() {
        let response = HTTPResponse.error(JobWireError(.resourceExhausted, Reason.rateLimited, "slow down", retryAfterMs: 1_200))
        #expect(response.status == .tooManyRequests)
        #expect(response.headers.first(name: "retry-after") == "2")
    }
}
