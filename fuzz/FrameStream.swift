import JobWireProtocol

// libFuzzer harness: the frame splitter (FrameDecoder) on an arbitrary byte
// stream, fed in pieces whose sizes come from the input itself.
//
// Properties checked (a failure traps, which libFuzzer reports as a crash):
// - every frame handed out is 1...maxFrameBytes bytes long;
// - feeding the same bytes in one piece or in pieces gives the same frames
//   and the same outcome (error or not, and the same error reason);
// - nothing is handed out that the input did not contain: the frames'
//   bodies and headers never add up to more than the input.

private let maxFrameBytes = 4_096

private struct Outcome: Equatable {
    var frames: [[UInt8]] = []
    var reason: String?
}

private func run(_ input: UnsafeRawBufferPointer, pieces: [Int]) -> Outcome {
    var decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
    var outcome = Outcome()
    var cursor = 0
    var sizes = pieces.makeIterator()
    do throws(JobWireError) {
        while cursor < input.count {
            let size = min(input.count - cursor, max(1, sizes.next() ?? input.count))
            try decoder.feed(UnsafeRawBufferPointer(rebasing: input[cursor..<(cursor + size)])) { body in
                precondition(body.count >= 1 && body.count <= maxFrameBytes, "frame of \(body.count) bytes handed out")
                outcome.frames.append(Array(body))
            }
            cursor += size
        }
    } catch {
        outcome.reason = error.reason
    }
    let consumed = outcome.frames.reduce(0) { $0 + $1.count + FrameDecoder.headerBytes }
    precondition(consumed <= input.count, "frames add up to \(consumed) bytes from \(input.count)")
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameStream(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    // The first bytes choose how the rest is split: sizes 1...64.
    let splits = input.prefix(8).map { Int($0 % 64) + 1 }
    let stream = UnsafeRawBufferPointer(rebasing: input.dropFirst(min(8, count)))
    let whole = run(stream, pieces: [])
    let pieces = run(stream, pieces: splits + Array(repeating: splits.last ?? 1, count: stream.count))
    precondition(whole == pieces, "splitting the stream changed what was decoded")
    return 0
}
