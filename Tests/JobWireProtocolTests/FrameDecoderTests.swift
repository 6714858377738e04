import JobWireProtocol
import JobWireTestSupport
import Testing

@Suite("FrameDecoder and FrameEncoder", .ownThread)
struct FrameDecoderTests {
    /// Length-prefixes each body.
    private func stream(_ bodies: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for body in bodies {
            let length = UInt32(body.count)
            bytes += [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
            bytes += body
        }
        return bytes
    }

    /// Feeds `bytes` cut at `cuts` and returns the frames delivered.
    private func decode(_ bytes: [UInt8], cuts: [Int], maxFrameBytes: Int = 1 << 20) throws(JobWireError) -> [[UInt8]] {
        var decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
        var frames: [[UInt8]] = []
        var start = 0
        for end in cuts + [bytes.count] where end >= start {
            let chunk = Array(bytes[start..<end])
            try chunk.withUnsafeBytes { raw in Result { () throws(JobWireError) in
                try decoder.feed(raw) { frames.append(Array($0)) }
            } }.get()
            start = end
        }
        #expect(decoder.isAtFrameBoundary)
        #expect(decoder.bufferedBytes == 0)
        return frames
    }

    private func feed(_ decoder: inout FrameDecoder, _ bytes: [UInt8]) throws(JobWireError) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        try bytes.withUnsafeBytes { raw in Result { () throws(JobWireError) in
            try decoder.feed(raw) { frames.append(Array($0)) }
        } }.get()
        return frames
    }

    @Test("a small stream decodes the same for every way of cutting it in up to three pieces")
    func everySplitOfASmallStream() throws {
        let bodies: [[UInt8]] = [[1], [2, 3], Array(0..<9), [0xFF]]
        let bytes = stream(bodies)
        var patterns = 0
        for first in 0...bytes.count {
            for second in first...bytes.count {
                #expect(try decode(bytes, cuts: [first, second]) == bodies, "cuts at \(first), \(second)")
                patterns += 1
            }
        }
        #expect(try decode(bytes, cuts: Array(1..<bytes.count)) == bodies, "one byte at a time")
        #expect(patterns == (bytes.count + 1) * (bytes.count + 2) / 2)
    }

    @Test("1,000 frames of random sizes survive random splits")
    func thousandFramesRandomSplits() throws {
        var random = SeededRandom(seed: 42)
        let bodies: [[UInt8]] = (0..<1000).map { index in
            let size = index % 100 == 0 ? Int.random(in: 10_000...40_000, using: &random) : Int.random(in: 1...300, using: &random)
            return (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        let bytes = stream(bodies)
        for round in 0..<20 {
            var cuts: [Int] = []
            var position = 0
            let maxChunk = [1, 7, 64, 1500, 65_536][round % 5]
            while position < bytes.count {
                position += Int.random(in: 1...maxChunk, using: &random)
                cuts.append(min(position, bytes.count))
            }
            #expect(try decode(bytes, cuts: cuts) == bodies, "round \(round), chunks up to \(maxChunk) bytes")
        }
    }

    @Test("frames that arrive whole are handed out in place, without a copy")
    func wholeFramesAreNotCopied() throws {
        let bytes = stream([[1, 2, 3], [4, 5], [6]])
        var decoder = FrameDecoder()
        var inside = 0
        try bytes.withUnsafeBytes { raw in
            let range = UInt(bitPattern: raw.baseAddress)..<(UInt(bitPattern: raw.baseAddress) + UInt(raw.count))
            try decoder.feed(raw) { body in
                if range.contains(UInt(bitPattern: body.baseAddress)) { inside += 1 }
            }
        }
        #expect(inside == 3)
    }

    @Test("a length of 0 is refused")
    func zeroLength() {
        var decoder = FrameDecoder()
        #expect(throws: JobWireError(.invalidArgument, Reason.emptyFrame, "a frame's length prefix is 0")) {
            _ = try feed(&decoder, [0, 0, 0, 0])
        }
    }

    @Test("the maximum length is accepted and one more is refused as soon as the prefix arrives")
    func maximumLength() throws {
        let max = 1024
        var decoder = FrameDecoder(maxFrameBytes: max)
        #expect(try feed(&decoder, stream([[UInt8](repeating: 7, count: max)])).map(\.count) == [max])

        var refusing = FrameDecoder(maxFrameBytes: max)
        let prefix: [UInt8] = [0, 0, 0x04, 0x01]  // 1025
        do {
            _ = try feed(&refusing, prefix)
            Issue.record("a length above the maximum was accepted")
        } catch {
            #expect(error.code == .resourceExhausted)
            #expect(error.reason == Reason.frameTooLarge)
        }
        #expect(refusing.bufferedBytes == 0, "nothing of the body may be buffered")
        // The stream is out of sync from here on: the decoder stays failed.
        #expect(throws: JobWireError.self) { _ = try feed(&refusing, [0, 0, 0, 1, 9]) }
    }

    @Test("a huge length prefix is refused without waiting for the body")
    func hugePrefix() {
        var decoder = FrameDecoder()
        #expect(throws: JobWireError.self) { _ = try feed(&decoder, [0xFF, 0xFF, 0xFF, 0xFF]) }
    }

    @Test("truncated input delivers nothing and reports exactly what it holds")
    func truncatedInput() throws {
        var decoder = FrameDecoder()
        #expect(try feed(&decoder, [0, 0, 0, 10, 1, 2, 3]).isEmpty)
        #expect(!decoder.isAtFrameBoundary)
        #expect(decoder.bufferedBytes == 7)
        #expect(try feed(&decoder, [4, 5, 6]).isEmpty)
        #expect(try feed(&decoder, [7, 8, 9]).isEmpty)
        #expect(decoder.bufferedBytes == 13)
        // The last body byte, then half of the next header.
        #expect(try feed(&decoder, [10, 0, 0]) == [Array(1...10)])
        #expect(decoder.bufferedBytes == 2)
        #expect(!decoder.isAtFrameBoundary)
        #expect(try feed(&decoder, [0, 1, 42]) == [[42]])
        #expect(decoder.isAtFrameBoundary)
    }

    @Test("stopping after a frame says how many bytes were taken; the rest gives the remaining frames")
    func stopAfterFrame() throws {
        let bytes: [UInt8] = [0, 0, 0, 2, 1, 2, 0, 0, 0, 1, 3, 0, 0, 0, 3, 4, 5, 6]
        var decoder = FrameDecoder()
        var frames: [[UInt8]] = []
        let taken = try bytes.withUnsafeBytes { raw throws(JobWireError) in
            try decoder.feed(raw, stoppingWhen: { frames.count == 1 }) { frames.append(Array($0)) }
        }
        #expect(taken == 6 && frames == [[1, 2]])
        #expect(decoder.isAtFrameBoundary)
        #expect(try feed(&decoder, Array(bytes[taken...])) == [[3], [4, 5, 6]])
    }

    @Test("memory for a split frame follows the bytes received, not the length prefix")
    func reservationFollowsReceivedBytes() throws {
        let promised = 4_000_000
        var decoder = FrameDecoder(maxFrameBytes: promised)
        let prefix: [UInt8] = withUnsafeBytes(of: UInt32(promised).bigEndian) { Array($0) }
        #expect(try feed(&decoder, prefix + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).isEmpty)
        #expect(decoder.bufferedBytes == 14)
        #expect(decoder.reservedBytes <= FrameDecoder.initialReserveBytes * 2,
                "a peer that promised \(promised) bytes and sent 10 holds \(decoder.reservedBytes)")

        // Sending the rest in reads of 64 KiB: the frame arrives whole, and the
        // buffer never held much more than what had been received.
        var received = 10
        var frames: [[UInt8]] = []
        while received < promised {
            let chunk = [UInt8](repeating: 0x5A, count: min(65_536, promised - received))
            frames += try feed(&decoder, chunk)
            received += chunk.count
            if received < promised {
                #expect(decoder.reservedBytes <= 2 * received + FrameDecoder.initialReserveBytes)
            }
        }
        #expect(frames.count == 1)
        #expect(frames.first?.count == promised)
        #expect(frames.first?.prefix(10).elementsEqual(1...10) == true)
    }

    @Test("garbage bodies never crash Frame decoding: each is a frame or a typed error")
    func garbageBodies() {
        var random = SeededRandom(seed: 7)
        var decoded = 0
        var refused = 0
        for _ in 0..<20_000 {
            let body = (0..<Int.random(in: 1...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            do {
                _ = try Frame(decoding: body)
                decoded += 1
            } catch {
                #expect([.invalidArgument, .resourceExhausted, .unimplemented].contains(error.code))
                refused += 1
            }
        }
        #expect(decoded + refused == 20_000)
        #expect(refused > 0)
    }

    @Test("the encoder writes a big-endian length and the packed frame")
    func encoderLayout() throws {
        let frame = Frame.ping(Ping(payload: 300))
        var buffer: [UInt8] = [0xAA]
        let written = try FrameEncoder.append(frame, to: &buffer)
        let body = frame.encode()
        #expect(written == 4 + body.count)
        #expect(buffer == [0xAA, 0, 0, 0, UInt8(body.count)] + body)
        // Ping{payload: 300} is field 7 (tag 0x3a), length 3: field 1 varint 300 = ac 02.
        #expect(body == [0x3A, 0x03, 0x08, 0xAC, 0x02])
        var decoder = FrameDecoder()
        let frames = try feed(&decoder, Array(buffer.dropFirst()))
        #expect(try frames.map { try Frame(decoding: $0) } == [frame])
    }

    @Test("the encoder refuses a frame above the maximum and leaves the buffer as it was")
    func encoderRefusesLargeFrames() {
        let frame = Frame.reply(Reply(streamID: 1, message: [UInt8](repeating: 1, count: 2000)))
        var buffer: [UInt8] = [1, 2, 3]
        #expect(throws: JobWireError.self) { try FrameEncoder.append(frame, to: &buffer, maxFrameBytes: 1000) }
        #expect(buffer == [1, 2, 3])
    }
}
