import Dispatch
import Foundation
import JobWirePostgres
import JobWireProtocol
import JobWireServer

// Start-up cost of the durable store (issue 5): writes N jobs into a fresh
// SQLite store through SQLiteJobStore (the same path the server uses, batched
// as group commit batches them), then measures how long a JobRegistry takes
// to load them — the server's start-up work — and the data directory's size.
//
//   jobwire-bench-store [--jobs 1000000] [--data-dir DIR] [--keep]   (--keep leaves the store;
//   --load-only times start-up from a kept one; --varied gives the jobs a mix of
//   statuses, types, sites and tasks, for bench/list_vs_sqlite.py;
//   --database-url URL does all of it on the postgres store in that empty database instead)

var jobs = 1_000_000
var directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-bench-store-\(UUID().uuidString)").path
var keep = false
var loadOnly = false
var varied = false
var databaseURL: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    switch flag {
    case "--jobs": jobs = Int(arguments.next() ?? "") ?? jobs
    case "--data-dir": directory = arguments.next() ?? directory
    case "--keep": keep = true
    case "--load-only": loadOnly = true
    case "--varied": varied = true
    case "--database-url": databaseURL = arguments.next()
    default:
        print("usage: jobwire-bench-store [--jobs N] [--data-dir DIR | --database-url URL] [--keep] [--load-only] [--varied]")
        exit(2)
    }
}

/// With --varied, job `index` of a mixed population, the same for every run:
/// 80 % completed, 10 % failed, 6 % cancelled, 3 % running, 1 % pending;
/// four types; 50 sites (ten cities, five districts); a current task.
func vary(_ job: Job, _ index: Int) -> Job {
    var job = job
    let cities = ["haifa", "eilat", "acre", "tiberias", "nazareth", "ashdod", "jaffa", "dimona", "arad", "safed"]
    let districts = ["north", "south", "east", "west", "center"]
    job.type = ["das_stream", "transcode", "ai_generation", "thumbnail"][index % 4]
    job.labels = ["site": "\(cities[index % 10])-\(districts[index / 100 % 5])"]
    job.priority = Int32(index % 7) - 3
    switch index % 100 {
    case 0..<80:
        job.currentTask = "done"
    case 80..<90:
        job.status = .failed
        job.result = nil
        job.error = JobError(message: "worker stopped heartbeating", failedTask: "encoding", reason: "LEASE_EXPIRED")
        job.currentTask = "encoding"
    case 90..<96:
        job.status = .cancelled
        job.result = nil
        job.cancelReason = "user closed the tab"
        job.currentTask = "upload"
    default:
        job.status = index % 100 == 99 ? .pending : .running
        job.result = nil
        job.completedAtMs = 0
        job.expiresAtMs = 0
        job.progress = Double(index % 100)
        job.currentTask = "encoding pass \(index % 3)"
    }
    return job
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// The store under test, opened afresh (as a restarted server opens it).
@MainActor func openStore() throws -> any JobStore {
    if let databaseURL { return try PostgresJobStore(url: databaseURL) }
    return try SQLiteJobStore(directory: directory)
}

do {
    var store: (any JobStore)? = try openStore()
    let writeStart = DispatchTime.now()
    let group = DispatchGroup()
    let now = WallClock.nowMs()
    var sampleJobBytes = 0
    for index in 0..<(loadOnly ? 0 : jobs) {
        // A terminal streaming job as a front end leaves it: every stream field, a result, a few log lines.
        let id = String(format: "%08x-0000-4000-8000-%012x", index, index)
        let job = Job(jobID: id, tenant: "default", type: "das_stream", labels: ["site": "haifa"], streamURL: "10.10.100.100",
                      streamPort: UInt32(50_000 + index % 1000), viewType: 1, frequenciesList: [0, 12.5, 25, 37.5],
                      linesDt: 0.01, channelToStreamIndex: [1: 0, 2: 1], streamAmount: 2, frequenciesAmount: 4, channelAmount: 2,
                      metadata: StreamMetadata(dx: 1.02, prr: 2000, fiberStartMeters: 0, fiberLengthMeters: 5000, swVersion: "1.0.0"),
                      status: .completed, progress: 100, createdAtMs: now, updatedAtMs: now, completedAtMs: now,
                      expiresAtMs: now + 86_400_000, result: JobResult(contentType: "application/json", data: Array(#"{"ok":true}"#.utf8)),
                      logLineCount: 2, revision: 3)
        let final = varied ? vary(job, index) : job
        // Created (revision 1), then finished (revision 3): the two puts a real job makes at least.
        var created = final
        created.status = .pending
        created.progress = 0
        created.currentTask = ""
        created.error = nil
        created.cancelReason = ""
        created.completedAtMs = 0
        created.expiresAtMs = 0
        created.result = nil
        created.logLineCount = 0
        created.revision = 1
        for (version, lines) in [(created, [String]()), (final, ["started", "done"])] {
            let encoded = version.encode()
            sampleJobBytes = encoded.count
            let event = StoredEvent(revision: version.revision, encodedEvent: encoded, isStatusTransition: true)
            group.enter()
            store?.persist(.put(StoredJobChange(summary: JobSummary(version), encodedJob: encoded, sequence: UInt64(index + 1),
                                               requestID: "", requestFingerprint: 0, leaseTTLMs: 0, appendedLogLines: lines,
                                               appendedEvent: event))) { _ in group.leave() }
        }
        if index % 10_000 == 9_999 { group.wait() }
    }
    group.wait()
    let writeSeconds = seconds(since: writeStart)
    let commits = store?.commits ?? 0
    // The postgres store holds the writer lock: the start-up below is another node's, after this one stopped.
    store = nil
    if !loadOnly {
        // bench/run.py fills Redis with values of this size for the memory comparison.
        print("encoded job bytes \(sampleJobBytes)")
    }

    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    let bytes = files.reduce(0) { total, file in
        total + (((try? FileManager.default.attributesOfItem(atPath: directory + "/" + file))?[.size] as? Int) ?? 0)
    }

    // Start-up as the server does it: open (schema check), read every row
    // into a new registry while quick_check runs on the other core.
    let startUp = DispatchTime.now()
    let registry = try JobRegistry(configuration: RegistryConfiguration(), store: try openStore())
    let startUpSeconds = seconds(since: startUp)
    let loaded = registry.jobCount

    // Where it goes: the same reading of rows and check, with nothing built.
    let readStart = DispatchTime.now()
    var rows = 0
    if databaseURL == nil {
        _ = try SQLiteJobStore(directory: directory).load(expect: { _ in }, restore: { _ in rows += 1 })
        print(String(format: "reading %d rows beside quick_check alone: %.2f s", rows, seconds(since: readStart)))
    }

    // Housekeeping with every job resident: one reaper pass with nothing due
    // (it runs every second under the registry's lock), and deletes.
    let reapStart = DispatchTime.now()
    registry.reap()
    let reapMs = seconds(since: reapStart) * 1000
    // Random ids, so repeated --load-only runs of a kept store find jobs to delete.
    let deleteStart = DispatchTime.now()
    let deleted = DispatchGroup()
    var deletions = 0
    for _ in 0..<min(1000, loaded) {
        let index = Int.random(in: 0..<max(1, jobs))
        let request = DeleteJobRequest(jobID: String(format: "%08x-0000-4000-8000-%012x", index, index))
        deleted.enter()
        do {
            try registry.delete(request, tenant: "default") { _ in deleted.leave() }
            deletions += 1
        } catch {
            deleted.leave()
        }
    }
    let deleteUs = seconds(since: deleteStart) * 1e6 / Double(max(1, deletions))
    deleted.wait()
    print(String(format: "reaper pass with nothing due: %.1f ms; delete (registry side): %.1f µs each over %d", reapMs, deleteUs, deletions))

    print("| jobs | write s | commits | data dir MiB | bytes per job | start-up (open + check + load) s | jobs loaded |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(String(format: "| %d | %.1f | %d | %.1f | %d | %.2f | %d |", jobs, writeSeconds, commits,
                 Double(bytes) / 1_048_576, bytes / max(1, jobs), startUpSeconds, loaded))
    if !keep { try? FileManager.default.removeItem(atPath: directory) }
} catch {
    print("error: \(error)")
    exit(1)
}
