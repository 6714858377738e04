import ArgumentParser
import JobWireCommandLine
import JobWireWebhooks

/// Webhook delivery's options (docs/WEBHOOKS.md).
struct WebhookOptions: ParsableArguments {
    @Flag(help: "Let webhook endpoints be loopback, private, link-local or shared addresses (receivers on this machine or network, and tests). Cloud metadata addresses stay refused.")
    var webhooksAllowPrivate = false

    @Option(parsing: .upToNextOption,
            help: "The only hosts webhook endpoints may name: exact names or addresses, or *.example.com for the names below example.com (default: any host; the address rules apply either way).")
    var webhookAllowedHosts: [String] = []

    @Option(help: "How long a webhook receiver has to answer.")
    var webhookTimeout = DurationArgument(milliseconds: 10_000)

    @Option(parsing: .upToNextOption,
            help: "The waits before each retry of a failed webhook message, e.g. 5s 5m 30m (default: Standard Webhooks' 5s 5m 30m 2h 5h 10h 10h, ±20 % jitter; given here, no jitter).")
    var webhookRetryDelays: [DurationArgument] = []

    @Option(help: "At most one job.progress message per job and endpoint in this time.")
    var webhookProgressInterval = DurationArgument(milliseconds: 5_000)

    @Option(help: "An endpoint whose every delivery has failed for this long is disabled.")
    var webhookDisableAfter = DurationArgument(milliseconds: 5 * 24 * 3_600_000)

    @Option(help: "How long delivered and given-up webhook messages, with their attempts, are kept.")
    var webhookDeliveryRetention = DurationArgument(milliseconds: 7 * 24 * 3_600_000)

    @Option(help: "The webhook messages a tenant may have waiting. At the bound its job changes make no job.progress messages and none for failing endpoints (counted in Stats); lifecycle messages to healthy endpoints are still made.")
    var webhookMaxPending = 100_000

    func validate() throws {
        if let empty = webhookAllowedHosts.first(where: { $0.isEmpty || $0 == "*." }) {
            throw ValidationError("--webhook-allowed-hosts: \"\(empty)\" names no host")
        }
        guard webhookMaxPending >= 1 else {
            throw ValidationError("--webhook-max-pending must be at least 1")
        }
        guard (100...300_000).contains(webhookTimeout.milliseconds) else {
            throw ValidationError("--webhook-timeout must be between 100ms and 5m")
        }
    }

    var policy: WebhookAddressPolicy {
        WebhookAddressPolicy(allowPrivate: webhooksAllowPrivate, allowedHosts: webhookAllowedHosts.isEmpty ? nil : webhookAllowedHosts)
    }

    var dispatcherSettings: WebhookDispatcher.Settings {
        var settings = WebhookDispatcher.Settings()
        settings.timeoutMs = webhookTimeout.milliseconds
        settings.disableAfterFailingMs = webhookDisableAfter.milliseconds
        settings.deliveryRetentionMs = webhookDeliveryRetention.milliseconds
        if !webhookRetryDelays.isEmpty {
            settings.schedule = WebhookRetrySchedule(delaysMs: [0] + webhookRetryDelays.map(\.milliseconds), jitter: 0)
        }
        return settings
    }
}
