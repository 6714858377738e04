import Dispatch
import Logging

/// Runs ``JobRegistry/reap(now:batch:)`` every interval on a utility queue:
/// lease expiry, retention, forgetting expired jobs.
///
/// `timer` is owned by `queue`.
final class Reaper: @unchecked Sendable {
    let queue = DispatchQueue(label: "jobwire.reaper", qos: .utility)
    private var timer: DispatchSourceTimer?

    func start(registry: JobRegistry, intervalMs: Int, logger: Logger) {
        queue.sync {
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + .milliseconds(intervalMs), repeating: .milliseconds(intervalMs),
                           leeway: .milliseconds(max(1, intervalMs / 10)))
            timer.setEventHandler {
                let report = registry.reap()
                if report != JobRegistry.ReapReport() {
                    logger.debug("reaper: \(report.leasesExpired) leases expired, \(report.jobsExpired) jobs expired, \(report.tombstonesForgotten) forgotten")
                }
            }
            timer.activate()
            self.timer = timer
        }
    }

    func stop() {
        queue.sync {
            timer?.cancel()
            timer = nil
        }
    }
}
