import Dispatch

/// A small pool of serial queues, one per core, that connection queues target.
///
/// Each pool queue owns one read buffer. A connection's own serial queue
/// targets exactly one pool queue, and a serial target queue runs one of its
/// sub-queues' blocks at a time, so every connection on it can read into the
/// same buffer without locking: the buffer is only touched during a read turn
/// and the decoder copies what it must keep.
final class IOQueuePool: Sendable {
    final class IOQueue: @unchecked Sendable {
        let queue: DispatchQueue
        /// Only used from blocks running (directly or through a sub-queue) on `queue`.
        let readBuffer: UnsafeMutableRawBufferPointer

        init(label: String, bufferBytes: Int) {
            queue = DispatchQueue(label: label, qos: .userInitiated)
            readBuffer = .allocate(byteCount: bufferBytes, alignment: 16)
        }

        deinit {
            readBuffer.deallocate()
        }
    }

    let queues: [IOQueue]

    init(count: Int, bufferBytes: Int = 64 * 1024) {
        queues = (0..<max(1, count)).map { IOQueue(label: "jobwire.io.\($0)", bufferBytes: bufferBytes) }
    }

    func queue(for connectionID: UInt64) -> IOQueue {
        queues[Int(connectionID % UInt64(queues.count))]
    }
}
