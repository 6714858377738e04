internal import CJobWireProto

/// The stream's physical description (`jobwire.v1.StreamMetadata`).
public struct StreamMetadata: Sendable, Equatable, Hashable {
    /// Spatial sampling interval along the fiber, in meters.
    public var dx: Double
    /// Pulse repetition rate, in hertz.
    public var prr: Double
    public var fiberStartMeters: Double
    public var fiberLengthMeters: Double
    public var swVersion: String

    public init(dx: Double = 0, prr: Double = 0, fiberStartMeters: Double = 0, fiberLengthMeters: Double = 0,
                swVersion: String = "") {
        self.dx = dx
        self.prr = prr
        self.fiberStartMeters = fiberStartMeters
        self.fiberLengthMeters = fiberLengthMeters
        self.swVersion = swVersion
    }
}

extension StreamMetadata: CMessageCodable {
    typealias CStruct = Jobwire__V1__StreamMetadata
    static let protoName: StaticString = "StreamMetadata"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__stream_metadata__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        dx = c.dx
        prr = c.prr
        fiberStartMeters = c.fiber_start_meters
        fiberLengthMeters = c.fiber_length_meters
        swVersion = try CDecode.string(c.sw_version, "StreamMetadata.sw_version")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.dx = dx
        c.pointee.prr = prr
        c.pointee.fiber_start_meters = fiberStartMeters
        c.pointee.fiber_length_meters = fiberLengthMeters
        c.pointee.sw_version = arena.cString(swVersion)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
