import JobWireProtocol

extension Connection {
    /// The webhook methods: decoded here, handed to the job service's webhook administration. Lists and lookups
    /// answer at once; changes, and reads of the store (deliveries), answer through the inbox like writes.
    func dispatchWebhook(_ method: Method, _ call: Call, caller: Caller, startedAtNs: UInt64) throws(JobWireError) {
        let streamID = call.streamID
        let webhooks = try context.service.webhooks()
        let tenant = caller.tenant
        switch method {
        case .listWebhooks:
            _ = try ListWebhooksRequest(decoding: call.request, maxBytes: maxFrameBytes)
            reply(streamID, method, startedAtNs, ListWebhooksResponse(endpoints: webhooks.list(tenant: tenant)).encode())
        case .getWebhook:
            let request = try GetWebhookRequest(decoding: call.request, maxBytes: maxFrameBytes)
            reply(streamID, method, startedAtNs, try webhooks.endpoint(request.endpointID, tenant: tenant).encode())
        case .createWebhook:
            let request = try CreateWebhookRequest(decoding: call.request, maxBytes: maxFrameBytes)
            try write(call, method, startedAtNs) { completion throws(JobWireError) in
                try webhooks.create(request, tenant: tenant) { completion($0.map { $0.encode() }) }
            }
        case .deleteWebhook:
            let request = try DeleteWebhookRequest(decoding: call.request, maxBytes: maxFrameBytes)
            try write(call, method, startedAtNs) { completion throws(JobWireError) in
                try webhooks.delete(request.endpointID, tenant: tenant) { completion($0.map { DeleteWebhookResponse().encode() }) }
            }
        case .rotateWebhookSecret:
            let request = try RotateWebhookSecretRequest(decoding: call.request, maxBytes: maxFrameBytes)
            try write(call, method, startedAtNs) { completion throws(JobWireError) in
                try webhooks.rotateSecret(request, tenant: tenant) { completion($0.map { $0.encode() }) }
            }
        case .listWebhookDeliveries:
            let request = try ListWebhookDeliveriesRequest(decoding: call.request, maxBytes: maxFrameBytes)
            try write(call, method, startedAtNs) { completion throws(JobWireError) in
                try webhooks.deliveries(request, tenant: tenant) { completion($0.map { ListWebhookDeliveriesResponse(deliveries: $0).encode() }) }
            }
        case .redeliverWebhook:
            let request = try RedeliverWebhookRequest(decoding: call.request, maxBytes: maxFrameBytes)
            try write(call, method, startedAtNs) { completion throws(JobWireError) in
                try webhooks.redeliver(request, tenant: tenant) { completion($0.map { $0.encode() }) }
            }
        default:
            throw JobWireError(.internal, Reason.internal, "\(method.shortName) is not a webhook method")
        }
    }
}
