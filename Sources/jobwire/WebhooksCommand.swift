import ArgumentParser
import Foundation
import JobWireClient
import JobWireCommandLine
import JobWireJSON
import JobWireProtocol

/// `jobwire webhooks`: the tenant's webhook endpoints (docs/WEBHOOKS.md).
struct Webhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and delete webhook endpoints; see and redeliver their messages.",
        discussion: """
            jobwired POSTs each change of the tenant's jobs to its endpoints, signed by the Standard Webhooks \
            scheme with the endpoint's secret. The secret (whsec_...) is printed once, by create and rotate-secret.

            Examples:
              jobwire webhooks create --url https://hooks.example.com/jobwire --events job.completed,job.failed
              jobwire webhooks list
              jobwire webhooks deliveries ep_0123456789abcdef0123456789abcdef
              jobwire webhooks redeliver msg_0123456789abcdef0123456789abcdef
              jobwire webhooks rotate-secret ep_0123456789abcdef0123456789abcdef --overlap 1h
              jobwire webhooks delete ep_0123456789abcdef0123456789abcdef
            """,
        subcommands: [CreateWebhook.self, ListWebhooks.self, DeleteWebhook.self, WebhookDeliveries.self, RedeliverWebhook.self,
                      RotateWebhookSecret.self])
}

struct CreateWebhook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Add an endpoint; print it and its secret (shown this once).",
        discussion: "Event types: \(eventTypes.joined(separator: ", ")). Without --events, every type.")

    static let eventTypes = ["job.created", "job.completed", "job.failed", "job.cancelled", "job.retried", "job.progress"]

    @OptionGroup var global: GlobalOptions
    @Option(help: "Where to POST (http or https).") var url: String
    @Option(parsing: .upToNextOption, help: "Event types, comma- or space-separated (default: every type).") var events: [String] = []
    @Option(name: .customLong("label"), help: "Only jobs with this label, KEY=VALUE (repeatable).") var labels: [String] = []
    @Flag(help: "Print as JSON (the HTTP API's shape).") var json = false

    func run() async throws {
        try await runReportingErrors {
            let events = self.events.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                .filter { !$0.isEmpty }
            let created = try await global.client().createWebhook(url: url, events: events, labels: try parseLabels(labels))
            showSecret(created, json: json,
                       note: "the secret is shown this once: give it to the receiver now (docs/WEBHOOKS.md shows how to verify)")
        }
    }
}

struct ListWebhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tenant's endpoints.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            let endpoints = try await global.client().webhooks()
            if json {
                print(JSONValue.object(["webhooks": .array(endpoints.map { WebhookJSON.endpoint($0) })]).text(pretty: true))
                return
            }
            for endpoint in endpoints {
                let state = endpoint.enabled ? (endpoint.failingSinceMs > 0 ? "failing" : "enabled") : "disabled"
                let events = endpoint.events.isEmpty ? "every event" : endpoint.events.joined(separator: ",")
                print("\(endpoint.endpointID)  \(state.padding(toLength: 8, withPad: " ", startingAt: 0))  \(endpoint.url)  \(events)")
            }
        }
    }
}

struct DeleteWebhook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an endpoint and its messages.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's id (ep_...).") var endpointID: String

    func run() async throws {
        try await runReportingErrors {
            try await global.client().deleteWebhook(endpointID)
            printError("deleted \(endpointID)")
        }
    }
}

struct WebhookDeliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "The endpoint's latest messages, newest first, with every attempt (status, latency, error).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's id (ep_...).") var endpointID: String
    @Option(help: "At most this many messages, 1 to 500.") var limit = 20
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            let deliveries = try await global.client().webhookDeliveries(endpointID, limit: limit)
            if json {
                print(JSONValue.object(["deliveries": .array(deliveries.map(WebhookJSON.delivery))]).text(pretty: true))
                return
            }
            for delivery in deliveries {
                var line = "\(delivery.messageID)  \(delivery.type.padding(toLength: 13, withPad: " ", startingAt: 0))  "
                    + "\(delivery.jobID) r\(delivery.revision)  \(delivery.state.name)"
                if delivery.state == .pending && delivery.nextAttemptAtMs > 0 {
                    line += " (next attempt \(ISO8601.string(milliseconds: delivery.nextAttemptAtMs)))"
                }
                print(line)
                for attempt in delivery.attempts {
                    let answer = attempt.httpStatus == 0 ? "no answer" : "HTTP \(attempt.httpStatus)"
                    let latency = String(format: "%.1f ms", Double(attempt.latencyMicros) / 1_000)
                    print("    #\(attempt.attempt)  \(ISO8601.string(milliseconds: attempt.atMs))  \(answer)  \(latency)"
                          + (attempt.error.isEmpty ? "" : "  \(attempt.error)"))
                }
            }
        }
    }
}

struct RedeliverWebhook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redeliver",
        abstract: "Send a delivered or given-up message again, now, with the same webhook-id.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The message's id (msg_..., from `jobwire webhooks deliveries`).") var messageID: String
    @Option(help: "Its endpoint's id (found from the message when left out).") var endpoint: String = ""
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            let delivery = try await global.client().redeliverWebhook(messageID, endpointID: endpoint)
            if json {
                print(WebhookJSON.delivery(delivery).text(pretty: true))
                return
            }
            print("\(delivery.messageID)  \(delivery.type)  \(delivery.jobID) r\(delivery.revision)  \(delivery.state.name)")
        }
    }
}

struct RotateWebhookSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secret",
        abstract: "Make a new secret (printed once); the old one signs beside it for the overlap.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The endpoint's id (ep_...).") var endpointID: String
    @Option(help: "How long the old secret keeps signing: 0 to 7d (default 24h).") var overlap: DurationArgument?
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            let rotated = try await global.client().rotateWebhookSecret(endpointID, overlap: overlap?.duration)
            showSecret(rotated, json: json, note: "the new secret is shown this once; the old one signs too until the time above")
        }
    }
}

/// An endpoint with the secret just made: as JSON, or a field a line and `note` on standard error.
func showSecret(_ response: WebhookSecretResponse, json: Bool, note: String) {
    if json {
        print(WebhookJSON.endpoint(response.endpoint, secret: response.secret).text(pretty: true))
        return
    }
    showEndpoint(response.endpoint)
    print("secret     \(response.secret)")
    printError(note)
}

/// An endpoint, a field a line.
func showEndpoint(_ endpoint: WebhookEndpoint) {
    var lines = ["endpoint   \(endpoint.endpointID)",
                 "url        \(endpoint.url)",
                 "events     \(endpoint.events.isEmpty ? "every event" : endpoint.events.joined(separator: ", "))"]
    if !endpoint.labels.isEmpty {
        lines.append("labels     " + endpoint.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
    lines.append("created    \(ISO8601.string(milliseconds: endpoint.createdAtMs))")
    if !endpoint.enabled {
        lines.append("disabled   \(ISO8601.string(milliseconds: endpoint.disabledAtMs)): \(endpoint.disabledReason)")
    } else if endpoint.failingSinceMs > 0 {
        lines.append("failing    since \(ISO8601.string(milliseconds: endpoint.failingSinceMs))")
    }
    if endpoint.previousSecretExpiresAtMs > 0 {
        lines.append("old secret signs until \(ISO8601.string(milliseconds: endpoint.previousSecretExpiresAtMs))")
    }
    print(lines.joined(separator: "\n"))
}
