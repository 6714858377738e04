import JobWireClient
import JobWireProtocol

// Reads one job's status from a jobwired on the default port: the smallest
// real use of the client library, so the build links what an app links.
let arguments = CommandLine.arguments
if arguments.count != 2 {
    print("usage: embedding JOB_ID")
} else {
    let client = JobWireClient(configuration: .init(host: "127.0.0.1", port: 7420))
    do {
        let job = try await client.metadata(for: arguments[1])
        print("\(job.jobID) \(job.status.name) \(job.progress)")
    } catch {
        print("error: \(error)")
    }
    await client.close()
}
