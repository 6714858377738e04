import JobWireProtocol
import JobWireServer

/// What the store keeps, as the API shows it: an endpoint without its secrets, a message with its attempts.
extension WebhookService {
    static func model(_ endpoint: StoredWebhookEndpoint) -> WebhookEndpoint {
        WebhookEndpoint(endpointID: endpoint.endpointID, url: endpoint.url, events: endpoint.events, labels: endpoint.labels,
                        createdAtMs: endpoint.createdAtMs, enabled: endpoint.disabledAtMs == 0, disabledAtMs: endpoint.disabledAtMs,
                        disabledReason: endpoint.disabledReason, failingSinceMs: endpoint.failingSinceMs,
                        previousSecretExpiresAtMs: endpoint.secrets.count > 1 ? endpoint.previousSecretExpiresAtMs : 0)
    }

    static func model(_ delivery: StoredDelivery) -> WebhookDelivery {
        let message = delivery.message
        let state: DeliveryState = switch message.state {
        case .pending: .pending
        case .delivered: .delivered
        case .givenUp: .givenUp
        }
        return WebhookDelivery(
            messageID: message.messageID, endpointID: message.endpointID, type: message.type, jobID: message.jobID,
            revision: message.revision, changedAtMs: message.changedAtMs, state: state,
            nextAttemptAtMs: message.state == .pending ? message.nextAttemptAtMs : 0,
            attempts: delivery.attempts.map { attempt in
                WebhookAttempt(attempt: UInt32(clamping: attempt.attempt), atMs: attempt.atMs, httpStatus: UInt32(clamping: attempt.httpStatus),
                               latencyMicros: UInt64(clamping: attempt.latencyMicros), error: attempt.error)
            })
    }
}
