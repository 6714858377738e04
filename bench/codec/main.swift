import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

// Codec micro-benchmark: nanoseconds per encode and decode of a typical job
// (50 channels, 500 frequencies, every field set) and of a GetMetadata
// request frame. Build in release: `make bench-codec`.
//
//   jobwire-bench-codec [--iterations N] [--rounds R]
//
// Each measurement runs N iterations R times and reports the best and the
// median round: on a shared machine the best round is the closest to the
// code's own cost, the median shows what neighbours add.

func typicalJob() -> Job {
    Job(
        jobID: "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", tenant: "acme", type: "das_stream",
        labels: ["site": "haifa", "team": "fiber", "env": "production"], priority: 5,
        streamURL: "10.10.100.100", streamPort: 50051, viewType: 1,
        frequenciesList: (0..<500).map { Double($0) * 0.25 }, linesDt: 0.001,
        channelToStreamIndex: Dictionary(uniqueKeysWithValues: (0..<50).map { (UInt32($0 + 1), UInt32($0 % 4)) }),
        streamAmount: 4, frequenciesAmount: 500, channelAmount: 50,
        metadata: StreamMetadata(dx: 1.02, prr: 2000, fiberStartMeters: 120, fiberLengthMeters: 5000, swVersion: "1.4.2"),
        status: .running, progress: 42.5, currentTask: "streaming", etaSeconds: 310,
        createdAtMs: 1_761_552_000_000, updatedAtMs: 1_761_552_060_000, leaseExpiresAtMs: 1_761_552_090_000,
        result: nil, error: nil, cancelReason: "",
        logTail: ["stream started", "channel map loaded", "bandpass 0-125 Hz"], logLineCount: 3, revision: 42)
}

func now() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Keeps results alive so the optimiser cannot drop the measured work.
nonisolated(unsafe) var sink = 0

struct Measurement {
    var name: String
    var best: Double
    var median: Double
}

func measure(_ name: String, iterations: Int, rounds: Int, _ body: () throws -> Int) rethrows -> Measurement {
    for _ in 0..<max(1, iterations / 10) { sink &+= try body() }
    var perRound: [Double] = []
    for _ in 0..<rounds {
        let start = now()
        for _ in 0..<iterations { sink &+= try body() }
        perRound.append(Double(now() - start) / Double(iterations))
    }
    perRound.sort()
    return Measurement(name: name, best: perRound[0], median: perRound[perRound.count / 2])
}

var iterations = 20_000
var rounds = 7
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--iterations": iterations = arguments.next().flatMap(Int.init) ?? iterations
    case "--rounds": rounds = arguments.next().flatMap(Int.init) ?? rounds
    default:
        print("usage: jobwire-bench-codec [--iterations N] [--rounds R]")
        exit(2)
    }
}

let job = typicalJob()
let jobBytes = job.encode()
let request = GetMetadataRequest(jobID: job.jobID, logTail: 20)
let requestFrame = try FrameEncoder.encode(.call(Call(streamID: 7, method: Method.getMetadata.rawValue,
                                                      request: request.encode(), timeoutMs: 5000)))

var results: [Measurement] = []
var scratch: [UInt8] = []
scratch.reserveCapacity(64 * 1024)

results.append(measure("Job encode (\(jobBytes.count) bytes)", iterations: iterations, rounds: rounds) {
    scratch.removeAll(keepingCapacity: true)
    return job.encode(appendingTo: &scratch)
})
results.append(try measure("Job decode", iterations: iterations, rounds: rounds) {
    try Job(decoding: jobBytes).frequenciesList.count
})
results.append(try measure("Job decode + encode", iterations: iterations, rounds: rounds) {
    scratch.removeAll(keepingCapacity: true)
    return try Job(decoding: jobBytes).encode(appendingTo: &scratch)
})
results.append(try measure("GetMetadata request frame encode (\(requestFrame.count) bytes)", iterations: iterations * 5,
                           rounds: rounds) {
    scratch.removeAll(keepingCapacity: true)
    return try FrameEncoder.append(.call(Call(streamID: 7, method: Method.getMetadata.rawValue,
                                              request: request.encode(), timeoutMs: 5000)), to: &scratch)
})
results.append(try measure("GetMetadata request frame decode (framing + Frame + request)", iterations: iterations * 5,
                           rounds: rounds) {
    var decoder = FrameDecoder()
    var streamID = 0
    try requestFrame.withUnsafeBytes { raw in
        try decoder.feed(raw) { body throws(JobWireError) in
            guard case .call(let call) = try Frame(decoding: body, maxBytes: Limits.defaultMaxFrameBytes) else { return }
            streamID = Int(call.streamID) + (try GetMetadataRequest(decoding: call.request)).jobID.utf8.count
        }
    }
    return streamID
})

print("| operation | best ns/op | median ns/op |")
print("|---|---:|---:|")
for result in results {
    print("| \(result.name) | \(Int(result.best.rounded())) | \(Int(result.median.rounded())) |")
}
print("")
print("iterations=\(iterations) rounds=\(rounds); sink=\(sink % 10)")
