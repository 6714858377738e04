import Dispatch
import Foundation
import JobWireProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// Closed-loop load driver for GetMetadata (issue 3's hot-path check; the full
// comparison with Redis and gRPC lives in the benchmarks issue).
//
//   jobwire-bench-load [--mode get|create|update] [--connections 64] [--depth 4] [--jobs 10000]
//                      [--seconds 10] [--data-dir DIR] [--server PATH | --port PORT]
//
// --mode create and update measure acknowledged writes; with --data-dir the
// server uses its durable SQLite store there, so every reply waits for a sync.
//
// Starts the release jobwired beside this binary on a free loopback port
// (unless --port names a running server), creates the jobs, then drives
// GetMetadata for random ids from one thread per connection, each keeping
// `depth` calls in flight. Prints throughput and latency percentiles.

enum Mode: String {
    case get, create, update
}

struct Options {
    var mode = Mode.get
    var dataDirectory: String?
    var connections = 64
    var depth = 4
    var jobs = 10_000
    var seconds = 10.0
    var port: Int?
    var server = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("jobwired").path
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let flag = arguments.next() {
        let value = arguments.next() ?? ""
        switch flag {
        case "--mode": options.mode = Mode(rawValue: value) ?? options.mode
        case "--data-dir": options.dataDirectory = value
        case "--connections": options.connections = Int(value) ?? options.connections
        case "--depth": options.depth = Int(value) ?? options.depth
        case "--jobs": options.jobs = Int(value) ?? options.jobs
        case "--seconds": options.seconds = Double(value) ?? options.seconds
        case "--port": options.port = Int(value)
        case "--server": options.server = value
        default:
            print("usage: jobwire-bench-load [--connections N] [--depth D] [--jobs J] [--seconds S] [--server PATH | --port P]")
            exit(2)
        }
    }
    return options
}

/// A blocking connection that speaks JobWire frames.
final class BenchConnection {
    let fd: Int32
    private var decoder = FrameDecoder()
    private var ready: [Frame] = []
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { throw JobWireError(.unavailable, "CONNECT", "connect failed: \(errno)") }
        try write(FrameEncoder.encode(.hello(Hello(clientName: "jobwire-bench-load"))))
        guard case .helloAck = try read() else { throw JobWireError(.unavailable, "HELLO", "no HelloAck") }
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw JobWireError(.unavailable, "SEND", "send failed: \(errno)") }
            offset += sent
        }
    }

    func read() throws -> Frame {
        while ready.isEmpty {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw JobWireError(.unavailable, "RECV", "connection closed") }
            var bodies: [[UInt8]] = []
            try buffer.withUnsafeBytes { raw in
                try decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count])) { bodies.append(Array($0)) }
            }
            for body in bodies { ready.append(try Frame(decoding: body)) }
        }
        return ready.removeFirst()
    }

    /// A unary call, waiting for its End.
    func call(_ method: JobWireProtocol.Method, _ request: some WireMessage, streamID: UInt32) throws -> [UInt8] {
        try write(FrameEncoder.encode(.call(Call(streamID: streamID, method: method.rawValue, request: request.encode()))))
        var message: [UInt8] = []
        while true {
            switch try read() {
            case .reply(let reply): message = reply.message
            case .end(let end):
                guard end.status.isOK else { throw JobWireError(end.status) }
                return message
            default: continue
            }
        }
    }
}

func nowNs() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Peak resident set of a process, from /proc (kB).
func peakRSSKilobytes(pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
    return 0
}

/// CPU seconds a process has used, from /proc (user + system).
func cpuSeconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
    return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
}

let options = parseOptions()
signal(SIGPIPE, SIG_IGN)

var serverProcess: Process?
var port = options.port ?? 0
if options.port == nil {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: options.server)
    process.arguments = ["--port", "0", "--no-http", "--log-level", "error"] + (options.dataDirectory.map { ["--data-dir", $0] } ?? [])
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    var line: [UInt8] = []
    while let byte = output.fileHandleForReading.readData(ofLength: 1).first, byte != UInt8(ascii: "\n") { line.append(byte) }
    port = Int(String(decoding: line, as: UTF8.self).split(separator: ":").last ?? "") ?? 0
    serverProcess = process
}
defer { serverProcess?.terminate() }

let seedCount = options.mode == .create ? 1 : options.jobs
print("seeding \(seedCount) jobs on 127.0.0.1:\(port) ...")
let seeder = try BenchConnection(port: port)
var ids: [String] = []
ids.reserveCapacity(options.jobs)
let job = Job(type: "das_stream", labels: ["site": "haifa"], streamURL: "10.10.100.100", streamPort: 50051, viewType: 1,
              frequenciesList: (0..<500).map { Double($0) * 0.25 }, linesDt: 0.001,
              channelToStreamIndex: Dictionary(uniqueKeysWithValues: (0..<50).map { (UInt32($0 + 1), UInt32($0 % 4)) }),
              streamAmount: 4, frequenciesAmount: 500, channelAmount: 50,
              metadata: StreamMetadata(dx: 1.02, prr: 2000, fiberStartMeters: 0, fiberLengthMeters: 5000, swVersion: "1.4.2"))
for index in 0..<seedCount {
    let reply = try seeder.call(.configure, ConfigureRequest(job: job), streamID: UInt32(index + 1))
    ids.append(try ConfigureResponse(decoding: reply).job.jobID)
}
let replyBytes = try seeder.call(.getMetadata, GetMetadataRequest(jobID: ids[0]), streamID: 1_000_000).count

let serverCPUBefore = serverProcess.map { cpuSeconds(pid: $0.processIdentifier) } ?? 0
let done = Atomic<Bool>(false)
let completed = Atomic<Int>(0)
let errors = Atomic<Int>(0)
let histograms = Mutex<[UInt64]>([])
let sharedIDs = ids
let serverPort = port
let group = DispatchGroup()
let start = nowNs()
for worker in 0..<options.connections {
    let thread = Thread {
        defer { group.leave() }
        var latencies: [UInt64] = []
        latencies.reserveCapacity(200_000)
        do {
            let connection = try BenchConnection(port: serverPort)
            var random = SystemRandomNumberGenerator()
            var sentAt: [UInt32: UInt64] = [:]
            var nextStream: UInt32 = 1
            var progress = 0.0
            func sendOne() throws {
                let id = sharedIDs[Int.random(in: 0..<sharedIDs.count, using: &random)]
                let call: Call
                switch options.mode {
                case .get:
                    call = Call(streamID: nextStream, method: Method.getMetadata.rawValue, request: GetMetadataRequest(jobID: id).encode())
                case .create:
                    call = Call(streamID: nextStream, method: Method.configure.rawValue,
                                request: ConfigureRequest(job: Job(type: "bench", labels: ["worker": "\(worker)"])).encode())
                case .update:
                    progress = progress >= 99 ? 0 : progress + 1
                    call = Call(streamID: nextStream, method: Method.updateJob.rawValue,
                                request: UpdateJobRequest(jobID: id, progress: progress).encode())
                }
                let frame = try FrameEncoder.encode(.call(call))
                sentAt[nextStream] = nowNs()
                nextStream &+= 1
                if nextStream == 0 { nextStream = 1 }
                try connection.write(frame)
            }
            for _ in 0..<options.depth { try sendOne() }
            while !sentAt.isEmpty {
                guard case .end(let end) = try connection.read() else { continue }
                if let sent = sentAt.removeValue(forKey: end.streamID) {
                    latencies.append(nowNs() - sent)
                }
                if !end.status.isOK { errors.add(1, ordering: .relaxed) }
                if !done.load(ordering: .relaxed) { try sendOne() }
            }
        } catch {
            errors.add(1, ordering: .relaxed)
            print("connection \(worker): \(error)")
        }
        completed.add(latencies.count, ordering: .relaxed)
        histograms.withLock { $0 += latencies }
    }
    group.enter()
    thread.start()
}
Thread.sleep(forTimeInterval: options.seconds)
done.store(true, ordering: .relaxed)
group.wait()
let elapsed = Double(nowNs() - start) / 1e9
let serverCPU = (serverProcess.map { cpuSeconds(pid: $0.processIdentifier) } ?? 0) - serverCPUBefore
let rss = serverProcess.map { peakRSSKilobytes(pid: $0.processIdentifier) } ?? 0

let latencies = histograms.withLock { $0 }.sorted()
func percentile(_ fraction: Double, of latencies: [UInt64]) -> Double {
    guard !latencies.isEmpty else { return 0 }
    return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]) / 1000
}
let total = completed.load(ordering: .relaxed)
print("")
print("mode \(options.mode.rawValue)\(options.dataDirectory == nil ? ", memory store" : ", sqlite store in \(options.dataDirectory ?? "")")")
print("| connections | in flight each | requests | errors | req/s | p50 µs | p99 µs | p99.9 µs | server CPU s | server peak RSS MiB | reply bytes |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
print(String(format: "| %d | %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f | %d |",
             options.connections, options.depth, total, errors.load(ordering: .relaxed), Double(total) / elapsed,
             percentile(0.5, of: latencies), percentile(0.99, of: latencies), percentile(0.999, of: latencies), serverCPU, Double(rss) / 1024, replyBytes))
