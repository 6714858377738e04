import JobWireProtocol

// libFuzzer harness: every request decoder the server runs on a Call's
// `request` bytes. The first input byte picks the request type; the rest is
// the message. Properties as for frames: no crash, no leak, and an accepted
// request re-encodes to a stable canonical form.

private func roundTrip<Message: WireMessage>(_ type: Message.Type, _ bytes: UnsafeRawBufferPointer) {
    guard let message = try? Message(decoding: bytes, maxBytes: 1 << 20) else { return }
    let first = message.encode()
    guard let again = try? Message(decoding: first) else {
        preconditionFailure("an accepted \(Message.self) does not decode after re-encoding")
    }
    precondition(again.encode() == first, "re-encoding a decoded \(Message.self) is not stable")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let body = UnsafeRawBufferPointer(start: data + 1, count: count - 1)
    switch data[0] % 10 {
    case 0: roundTrip(ConfigureRequest.self, body)
    case 1: roundTrip(GetMetadataRequest.self, body)
    case 2: roundTrip(BatchGetMetadataRequest.self, body)
    case 3: roundTrip(ListJobsRequest.self, body)
    case 4: roundTrip(WatchJobRequest.self, body)
    case 5: roundTrip(CancelRequest.self, body)
    case 6: roundTrip(UpdateJobRequest.self, body)
    case 7: roundTrip(DeleteJobRequest.self, body)
    case 8: roundTrip(HealthRequest.self, body)
    default: roundTrip(StatsRequest.self, body)
    }
    return 0
}
