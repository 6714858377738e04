import JobWireJSON
import JobWireProtocol
import JobWireWebhooks
import Testing

@Suite("Retries, event types and message bodies")
struct WebhookScheduleTests {
    @Test func retriesFollowTheStandardScheduleWithinTheirJitter() {
        let schedule = WebhookRetrySchedule.standard
        #expect(schedule.attempts == 8)
        #expect(schedule.delayMs(beforeAttempt: 1, unit: 0.9) == 0, "the first delivery is at once")
        #expect(schedule.delayMs(beforeAttempt: 2, unit: 0.5) == 5_000)
        #expect(schedule.delayMs(beforeAttempt: 2, unit: 0) == 4_000)
        #expect(schedule.delayMs(beforeAttempt: 2, unit: 1) == 6_000)
        #expect(schedule.delayMs(beforeAttempt: 3, unit: 0.5) == 300_000)
        #expect(schedule.delayMs(beforeAttempt: 8, unit: 0.5) == 36_000_000)
        #expect(schedule.delayMs(beforeAttempt: 9, unit: 0.5) == nil)
        #expect(schedule.delayMs(beforeAttempt: 0, unit: 0.5) == nil)
        let total = (1...8).compactMap { schedule.delayMs(beforeAttempt: $0, unit: 0.5) }.reduce(0, +)
        #expect(total == 99_305_000, "about 27.6 hours from the first attempt to the last")
        for _ in 0..<100 {
            let delay = schedule.delayMs(beforeAttempt: 4) ?? -1
            #expect((1_440_000...2_160_000).contains(delay))
        }
    }

    @Test func eachChangeIsTheEventItMeans() {
        var job = Job(jobID: "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", status: .pending)
        job.attempt = 1
        #expect(WebhookEventType.of(job, previous: nil) == .created)
        var running = job
        running.status = .running
        #expect(WebhookEventType.of(running, previous: job) == .progress)
        var moved = running
        moved.progress = 40
        #expect(WebhookEventType.of(moved, previous: running) == .progress)
        var logged = moved
        logged.logLineCount = 3
        logged.priority = 9
        #expect(WebhookEventType.of(logged, previous: moved) == nil, "log lines and priority are not events")
        for (status, type) in [(JobStatus.completed, WebhookEventType.completed), (.failed, .failed), (.cancelled, .cancelled)] {
            var ended = moved
            ended.status = status
            #expect(WebhookEventType.of(ended, previous: moved) == type)
        }
        var retried = job
        retried.attempt = 2
        #expect(WebhookEventType.of(retried, previous: { var failed = moved; failed.status = .failed; return failed }()) == .retried)
    }

    @Test func theBodyEmbedsTheJobsJSONAsItIs() {
        let job = Array(#"{"job_id":"3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b","status":"completed"}"#.utf8)
        let body = WebhookPayload.body(type: .completed, changedAtMs: 1_764_700_000_123, jobJSON: job)
        #expect(String(decoding: body, as: UTF8.self)
                == #"{"type":"job.completed","timestamp":"2025-12-02T18:26:40.123Z","data":{"job_id":"3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b","status":"completed"}}"#)
    }
}
