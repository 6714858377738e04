import JobWireProtocol

// libFuzzer harness: `Frame(decoding:)` — protobuf-c's unpacking plus
// JobWire's validation of every frame kind — on arbitrary bytes.
//
// It must never crash or leak (AddressSanitizer watches), and whatever it
// accepts must survive a round trip: encoding the decoded frame and decoding
// that again gives the same encoding (canonical form is stable).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameMessage(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    guard let frame = try? Frame(decoding: input, maxBytes: 1 << 20) else { return 0 }
    var first: [UInt8] = []
    _ = frame.encode(appendingTo: &first)
    guard let again = try? Frame(decoding: first) else {
        preconditionFailure("a frame the decoder accepted does not decode after re-encoding")
    }
    var second: [UInt8] = []
    _ = again.encode(appendingTo: &second)
    precondition(first == second, "re-encoding a decoded frame is not stable")
    return 0
}
