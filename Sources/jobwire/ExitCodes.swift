import ArgumentParser
import Foundation
import JobWireProtocol

/// The CLI's exit statuses (documented in `jobwire --help` and docs/OPERATIONS.md).
enum CLIExit {
    /// `watch`: the job ended FAILED.
    static let jobFailed: Int32 = 2
    /// `watch`: the job ended CANCELLED.
    static let jobCancelled: Int32 = 3
    /// A call failed: 10 + its gRPC code (NOT_FOUND 15, INVALID_ARGUMENT 13, UNAVAILABLE 24, …).
    static func forCode(_ code: StatusCode) -> Int32 { 10 + code.rawValue }

    static let help = """
        Exit status: 0 success; 1 unexpected failure; 2 and 3 when a watched job ends FAILED or CANCELLED; \
        10 + the gRPC code when a call fails (13 INVALID_ARGUMENT, 14 DEADLINE_EXCEEDED, 15 NOT_FOUND, \
        16 ALREADY_EXISTS, 18 RESOURCE_EXHAUSTED, 19 FAILED_PRECONDITION, 24 UNAVAILABLE, 26 UNAUTHENTICATED); \
        64 invalid usage.
        """
}

/// Runs a command body, turning failures into `error: CODE (REASON): message`
/// on stderr and the documented exit status.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as JobWireError {
        printError("error: \(error.code.name) (\(error.reason)): \(error.message)")
        throw ExitCode(CLIExit.forCode(error.code))
    } catch let error as CLIError {
        printError("error: \(error.message)")
        throw ExitCode(error.exitCode)
    }
}

/// A failure of the CLI itself (an unreadable file); a spec it refuses is a
/// `JobWireError` with the code and reason the server would give.
struct CLIError: Error {
    var message: String
    var exitCode: Int32 = 1
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
