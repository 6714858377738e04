import Foundation
import JobWireClient
import JobWireJSON
import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `jobwire watch --all`: a WatchJobs stream as JSON lines, plain lines, or a
/// table redrawn in place (like `top`) with the counts by status on top.
struct WatchAll {
    let json: Bool
    let terminal: Bool
    let maxEvents: Int?

    /// A table redraw at most this often, whatever the rate of changes.
    private static let redrawInterval: Duration = .milliseconds(200)

    func run(_ watch: JobsWatch) async throws {
        var view = JobsView()
        var count = 0
        var lastDraw = ContinuousClock.now - Self.redrawInterval
        for try await event in watch {
            view.apply(event)
            count += 1
            if json {
                print(MessageJSON.jobsEvent(event).text())
            } else if terminal {
                // Snapshot pages draw once the snapshot is whole.
                if view.isSynced && ContinuousClock.now - lastDraw >= Self.redrawInterval {
                    draw(view)
                    lastDraw = .now
                }
            } else {
                print(line(event))
            }
            fflush(nil)
            if let maxEvents, count >= maxEvents { break }
        }
        if terminal { draw(view) }
    }

    private func line(_ event: JobsEvent) -> String {
        guard !event.jobs.isEmpty else {
            return event.jobID.isEmpty ? event.type.name : "\(event.type.name) \(event.jobID)"
        }
        return event.jobs.map { job in
            "\(event.type.name) \(job.jobID) \(job.status.name) \(String(format: "%.1f", job.progress))%"
                + (job.currentTask.isEmpty ? "" : " \(job.currentTask)")
        }.joined(separator: "\n")
    }

    /// Clears the screen and draws the counts and as many jobs as fit, most recently changed first.
    private func draw(_ view: JobsView) {
        var size = winsize()
        let rows = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_row > 4 ? Int(size.ws_row) : 24
        let counts = view.countsByStatus.sorted { $0.key.rawValue < $1.key.rawValue }
        var lines = ["\(view.jobs.count) jobs" + (counts.isEmpty ? "" : ": ")
                     + counts.map { "\($0.key.name) \($0.value)" }.joined(separator: "  ")
                     + (view.isSynced ? "" : "  (catching up…)"), ""]
        lines.append(row("JOB ID", "STATUS", "PROGRESS", "TYPE", "TASK"))
        let jobs = view.jobs.values.sorted { ($0.updatedAtMs, $0.jobID) > ($1.updatedAtMs, $1.jobID) }
        for job in jobs.prefix(rows - lines.count - 1) {
            lines.append(row(job.jobID, job.status.name, String(format: "%5.1f%%", job.progress), job.type, job.currentTask))
        }
        print("\u{1B}[H\u{1B}[2J" + lines.joined(separator: "\n"))
    }

    private func row(_ id: String, _ status: String, _ progress: String, _ type: String, _ task: String) -> String {
        [id.padding(toLength: 36, withPad: " ", startingAt: 0), status.padding(toLength: 10, withPad: " ", startingAt: 0),
         progress.padding(toLength: 8, withPad: " ", startingAt: 0), String(type.prefix(20)).padding(toLength: 20, withPad: " ", startingAt: 0),
         String(task.prefix(30))].joined(separator: " ")
    }
}
