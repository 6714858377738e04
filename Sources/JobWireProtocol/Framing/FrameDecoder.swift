/// Splits a byte stream into frame bodies: a 4-byte big-endian length N,
/// then N bytes.
///
/// Bytes may arrive split anywhere and many frames may arrive at once. A
/// frame that lies whole inside the fed bytes is handed out in place, with
/// no copy; only a frame split across reads is gathered in an internal
/// buffer, which never holds more than one frame (at most `maxFrameBytes`).
/// A length of 0 or above `maxFrameBytes` is refused as soon as its four
/// bytes are read, before any of the body is buffered; after an error the
/// decoder stays failed, since the stream can no longer be trusted to be
/// in sync.
///
/// A value type owned by one connection; not shared across threads.
public struct FrameDecoder: Sendable {
    public static let headerBytes = 4
    /// The first reservation for a split frame; also the buffer kept between frames.
    public static let initialReserveBytes = 64 * 1024

    /// Checked against each length prefix as it arrives; a connection lowers it
    /// to the size negotiated in the handshake.
    public var maxFrameBytes: Int

    private enum State: Sendable {
        case header(value: UInt32, have: Int)
        case body(length: Int)
        case failed(JobWireError)
    }

    private var state: State = .header(value: 0, have: 0)
    /// The part of a split frame's body received so far.
    private var partial: [UInt8] = []

    public init(maxFrameBytes: Int = Limits.defaultMaxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Bytes held for an incomplete frame (header bytes included).
    public var bufferedBytes: Int {
        switch state {
        case .header(_, let have): have
        case .body: Self.headerBytes + partial.count
        case .failed: 0
        }
    }

    /// Memory reserved for the partial frame: grows with the bytes received,
    /// at most about twice as many (plus ``initialReserveBytes``).
    public var reservedBytes: Int { partial.capacity }

    /// True when no partial frame is pending: the stream may end here cleanly.
    public var isAtFrameBoundary: Bool {
        if case .header(_, 0) = state { return true }
        return false
    }

    /// Feeds received bytes; calls `onFrame` with each complete frame body in
    /// order. The body pointer is valid only during the call.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer,
        onFrame: (UnsafeRawBufferPointer) throws(JobWireError) -> Void
    ) throws(JobWireError) {
        _ = try feed(bytes, stoppingWhen: { false }, onFrame: onFrame)
    }

    /// Like ``feed(_:onFrame:)``, but asks `shouldStop` after each frame and,
    /// when it says so, returns at once: the result is how many of `bytes`
    /// were taken (all of them unless it stopped). The caller keeps the rest
    /// and feeds it again later, so a server can stop handling a peer's
    /// pipelined requests while their replies wait to be written.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer,
        stoppingWhen shouldStop: () -> Bool,
        onFrame: (UnsafeRawBufferPointer) throws(JobWireError) -> Void
    ) throws(JobWireError) -> Int {
        var cursor = 0
        let count = bytes.count
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .header(var value, var have):
                if cursor == count {
                    return cursor
                }
                while have < Self.headerBytes && cursor < count {
                    value = value << 8 | UInt32(bytes[cursor])
                    have += 1
                    cursor += 1
                }
                guard have == Self.headerBytes else {
                    state = .header(value: value, have: have)
                    return cursor
                }
                try startBody(length: value)
            case .body(let length):
                let available = count - cursor
                if partial.isEmpty && available >= length {
                    // Whole frame in this read: hand it out in place.
                    state = .header(value: 0, have: 0)
                    let start = cursor
                    cursor += length
                    try onFrame(UnsafeRawBufferPointer(rebasing: bytes[start..<cursor]))
                    if shouldStop() { return cursor }
                    continue
                }
                if available == 0 {
                    return cursor
                }
                if partial.isEmpty {
                    // What has arrived, not what the prefix promises: a peer that
                    // promises 4 MiB and sends ten bytes must not cost 4 MiB. The
                    // buffer then grows geometrically with the bytes received.
                    partial.reserveCapacity(min(length, max(available, Self.initialReserveBytes)))
                }
                let take = min(length - partial.count, available)
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[cursor..<(cursor + take)]))
                cursor += take
                guard partial.count == length else { return cursor }
                state = .header(value: 0, have: 0)
                let frame = partial
                releasePartial()
                try frame.withTypedUnsafeBytes(onFrame)
                if shouldStop() { return cursor }
            }
        }
    }

    private mutating func startBody(length: UInt32) throws(JobWireError) {
        let error: JobWireError
        if length == 0 {
            error = JobWireError(.invalidArgument, Reason.emptyFrame, "a frame's length prefix is 0")
        } else if Int(length) > maxFrameBytes {
            error = JobWireError(.resourceExhausted, Reason.frameTooLarge,
                                 "frame of \(length) bytes exceeds the limit of \(maxFrameBytes)")
        } else {
            state = .body(length: Int(length))
            return
        }
        state = .failed(error)
        throw error
    }

    /// Keeps a small buffer for the next split frame; gives a large one back.
    private mutating func releasePartial() {
        if partial.capacity > Self.initialReserveBytes {
            partial = []
        } else {
            partial.removeAll(keepingCapacity: true)
        }
    }
}
