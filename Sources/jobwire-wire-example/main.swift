import JobWireProtocol

// Prints the annotated hex dump of a Hello + GetMetadata exchange that
// docs/PROTOCOL.md embeds. Every byte comes from the real codec and
// FrameEncoder; `make wire-example` puts the output in the doc and
// `make check-docs` fails when the doc no longer matches the code.

let jobID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
let job = Job(
    jobID: jobID, tenant: "default", type: "das_stream", labels: ["site": "haifa"],
    streamURL: "10.10.100.100", streamPort: 50051, viewType: 0, frequenciesList: [0, 1.5],
    linesDt: 0.5, channelToStreamIndex: [1: 0, 2: 1], streamAmount: 2, frequenciesAmount: 2, channelAmount: 2,
    metadata: StreamMetadata(dx: 1.02, prr: 2000, fiberStartMeters: 0, fiberLengthMeters: 5000, swVersion: "1.0.0"),
    status: .running, progress: 42.5, currentTask: "streaming", createdAtMs: 1_761_552_000_000,
    updatedAtMs: 1_761_552_060_000, revision: 4)

let exchange: [(String, Frame)] = [
    ("client -> server: Hello", .hello(Hello(clientName: "jobwire-cli/0.1"))),
    ("server -> client: HelloAck", .helloAck(HelloAck(serverName: "jobwired/0.1", maxFrameBytes: UInt32(Limits.defaultMaxFrameBytes),
                                                      maxConcurrentStreams: 100, pingIntervalMs: 30_000,
                                                      tenant: "default", role: "admin"))),
    ("client -> server: Call GetMetadata on stream 1", .call(Call(
        streamID: 1, method: Method.getMetadata.rawValue,
        request: GetMetadataRequest(jobID: jobID).encode(), timeoutMs: 5_000))),
    ("server -> client: Reply on stream 1 (the Job)", .reply(Reply(streamID: 1, message: job.encode()))),
    ("server -> client: End of stream 1 with OK", .end(End(streamID: 1, status: .ok))),
]

var annotator = WireAnnotator()
for (direction, frame) in exchange {
    do {
        annotator.annotateFrame(direction: direction, frame: try FrameEncoder.encode(frame))
    } catch {
        fatalError("could not encode the example frame: \(error)")
    }
}
print(annotator.lines.joined(separator: "\n").trimmingSuffixWhitespace())

extension String {
    func trimmingSuffixWhitespace() -> String {
        var text = self
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }
}
