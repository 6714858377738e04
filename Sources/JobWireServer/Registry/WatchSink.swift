/// What a watch receives from the registry.
package enum WatchDelivery: Sendable {
    /// An encoded `WatchEvent` at `revision`. `isStatusTransition` events must
    /// reach the client even when it reads slowly; `isTerminal` is the last.
    case event(revision: UInt64, encodedEvent: [UInt8], isStatusTransition: Bool, isTerminal: Bool)
    /// The watch ends with this status (e.g. the job was deleted).
    case end(JobWireProtocol.Status)
    /// WatchJobs: an encoded `JobsEvent` at change number `sequence`.
    case jobs(sequence: UInt64, encodedEvent: [UInt8])
}

import JobWireProtocol

/// The receiving end of watches: a connection. The registry calls `deliver`
/// under its own lock, in revision order; the sink must only enqueue (never
/// call back into the registry) and return.
package protocol WatchSink: AnyObject, Sendable {
    /// `watcherID` tells deliveries for a finished watch apart from those of a
    /// new watch that reuses its stream id.
    func deliver(streamID: UInt32, watcherID: UInt64, _ delivery: WatchDelivery)
}
