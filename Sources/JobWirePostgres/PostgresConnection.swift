internal import CLibPQ
import Foundation
import JobWireProtocol

/// One parameter of a statement, sent in PostgreSQL's binary format.
enum PostgresValue {
    case int8(Int64)
    case text(String)
    case bytea([UInt8])
    case bool(Bool)

    fileprivate var oid: UInt32 {
        switch self {
        case .int8: 20
        case .text: 25
        case .bytea: 17
        case .bool: 16
        }
    }

    fileprivate var bytes: [UInt8] {
        switch self {
        case .int8(let value): withUnsafeBytes(of: value.bigEndian) { Array($0) }
        case .text(let value): Array(value.utf8)
        case .bytea(let value): value
        case .bool(let value): [value ? 1 : 0]
        }
    }
}

/// The rows one statement returned, in binary format: read by row and column.
///
/// Owns libpq's result and clears it on deinit. Not thread-safe.
final class PostgresRows {
    private let result: OpaquePointer

    fileprivate init(_ result: OpaquePointer) {
        self.result = result
    }

    deinit {
        PQclear(result)
    }

    var count: Int { Int(PQntuples(result)) }
    /// An int8, int4, int2 or bool column.
    func int64(_ row: Int, _ column: Int) -> Int64 {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard let pointer = PQgetvalue(result, Int32(row), Int32(column)) else { return 0 }
        var value: Int64 = 0
        for index in 0..<min(length, 8) {
            value = (value << 8) | Int64(UInt8(bitPattern: pointer[index]))
        }
        // Sign-extend the shorter integer types.
        if length > 0 && length < 8 {
            let shift = Int64(64 - 8 * length)
            value = (value << shift) >> shift
        }
        return value
    }

    func text(_ row: Int, _ column: Int) -> String {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard length > 0, let pointer = PQgetvalue(result, Int32(row), Int32(column)) else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    func bytes(_ row: Int, _ column: Int) -> [UInt8] {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard length > 0, let pointer = PQgetvalue(result, Int32(row), Int32(column)) else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}

/// One row of a binary COPY: each field's bytes, read as the column's type. Valid only inside the callback.
struct PostgresCopyRow {
    private let bytes: UnsafeRawBufferPointer
    /// Each field's start and length (-1 for NULL).
    private var fields: [(start: Int, length: Int)] = []

    fileprivate init(_ bytes: UnsafeRawBufferPointer) throws(JobWireError) {
        self.bytes = bytes
        guard bytes.count >= 2 else { throw Self.damaged }
        let count = Int(Self.int16(bytes, at: 0))
        fields.reserveCapacity(max(count, 0))
        var offset = 2
        for _ in 0..<max(count, 0) {
            guard offset + 4 <= bytes.count else { throw Self.damaged }
            let length = Int(Self.int32(bytes, at: offset))
            offset += 4
            guard length <= bytes.count - offset else { throw Self.damaged }
            fields.append((offset, length))
            offset += max(length, 0)
        }
    }

    private static let damaged = JobWireError(.dataLoss, Reason.storeDamaged, "a row of a binary COPY does not parse")

    var count: Int { fields.count }

    func int64(_ field: Int) -> Int64 {
        let (start, length) = fields[field]
        var value: Int64 = 0
        for index in 0..<max(0, min(length, 8)) { value = (value << 8) | Int64(bytes[start + index]) }
        return value
    }

    func text(_ field: Int) -> String {
        let (start, length) = fields[field]
        guard length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]), as: UTF8.self)
    }

    func bytes(_ field: Int) -> [UInt8] {
        let (start, length) = fields[field]
        guard length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]))
    }

    static func int16(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int16 {
        Int16(bitPattern: UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]))
    }

    static func int32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int32 {
        Int32(bitPattern: UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3]))
    }
}

/// One libpq connection, used synchronously by whoever owns it (a store's
/// queue, a lock's waiting thread). Statements are prepared once by name and
/// run with binary parameters and results.
///
/// A failure of the connection itself is UNAVAILABLE / STORE_UNAVAILABLE; a
/// statement PostgreSQL refused is INTERNAL / STORE_FAILED with its message
/// and SQLSTATE. The URL never appears in an error (it may hold a password).
///
/// Not thread-safe: owned by one queue or thread.
final class PostgresConnection {
    private let connection: OpaquePointer
    /// Names every prepared statement; one connection's names never repeat.
    private var prepared = 0

    /// Connects to `url` (`postgres://user:password@host:port/database?…`, or
    /// libpq's `key=value` form). `applicationName` shows in
    /// `pg_stat_activity`.
    init(url: String, applicationName: String) throws(JobWireError) {
        // Defaults first, the URL last: what the URL sets overrides them.
        let keywords = ["application_name", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "dbname"]
        let values = [applicationName, "5", "1", "5", "2", "2", "10000", url]
        let handle = Self.withCStrings(keywords) { keywordPointers in
            Self.withCStrings(values) { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 1) }
        }
        guard let handle else {
            throw JobWireError(.unavailable, Reason.storeUnavailable, "cannot connect to PostgreSQL: out of memory")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.message(PQerrorMessage(handle))
            PQfinish(handle)
            throw JobWireError(.unavailable, Reason.storeUnavailable, "cannot connect to PostgreSQL: \(message)")
        }
        connection = handle
        // PostgreSQL's notices (e.g. "relation already exists, skipping") would go to stderr unlogged.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit {
        PQfinish(connection)
    }

    /// Whether the connection still stands (after a failure it stays broken: libpq does not reconnect).
    var isOpen: Bool { PQstatus(connection) == CONNECTION_OK }

    /// Runs statements that return no rows (several, separated by semicolons, are one implicit transaction
    /// unless they manage their own).
    func execute(_ sql: String) throws(JobWireError) {
        let result = PQexec(connection, sql)
        _ = try check(result, sql)
    }

    /// Runs one statement with parameters (prepared and run once).
    @discardableResult
    func query(_ sql: String, _ parameters: [PostgresValue] = []) throws(JobWireError) -> PostgresRows {
        let result = Self.withParameters(parameters) { types, values, lengths, formats in
            PQexecParams(connection, sql, Int32(parameters.count), types, values, lengths, formats, 1)
        }
        return try check(result, sql)
    }

    /// A statement prepared once on this connection.
    struct Statement {
        fileprivate let name: String
        fileprivate let sql: String
    }

    func prepare(_ sql: String) throws(JobWireError) -> Statement {
        prepared += 1
        let statement = Statement(name: "jobwire_\(prepared)", sql: sql)
        let result = PQprepare(connection, statement.name, sql, 0, nil)
        _ = try check(result, sql)
        return statement
    }

    private func check(_ result: OpaquePointer?, _ sql: String) throws(JobWireError) -> PostgresRows {
        guard let result else { throw lost() }
        let rows = PostgresRows(result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return rows
        default:
            throw failure(of: result, sql)
        }
    }

    private func lost() -> JobWireError {
        JobWireError(.unavailable, Reason.storeUnavailable,
                     "lost the connection to PostgreSQL: \(Self.message(PQerrorMessage(connection)))")
    }

    /// The error of a failed statement: UNAVAILABLE when the connection is gone (SQLSTATE class 08, or 57P
    /// for a server shutting down), else INTERNAL / STORE_FAILED.
    private func failure(of result: OpaquePointer, _ sql: String) -> JobWireError {
        let message = Self.message(PQresultErrorMessage(result))
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        guard isOpen, !state.hasPrefix("08"), !state.hasPrefix("57P") else {
            return JobWireError(.unavailable, Reason.storeUnavailable, "lost the connection to PostgreSQL: \(message)")
        }
        let statement = sql.split(separator: "\n").first.map(String.init) ?? sql
        return JobWireError(.internal, "STORE_FAILED", "PostgreSQL refused \(statement.prefix(80)) (SQLSTATE \(state)): \(message)")
    }

    // MARK: Copying out

    /// Runs `COPY (query) TO STDOUT (FORMAT binary)` and hands each row to `body`: the fastest way to read many
    /// rows (no cursor round trips, no result sets built), for start-up.
    func copyOut(_ query: String, _ body: (PostgresCopyRow) throws(JobWireError) -> Void) throws(JobWireError) {
        let sql = "COPY (\(query)) TO STDOUT (FORMAT binary)"
        guard let started = PQexec(connection, sql) else { throw lost() }
        let status = PQresultStatus(started)
        if status != PGRES_COPY_OUT {
            defer { PQclear(started) }
            throw failure(of: started, sql)
        }
        PQclear(started)
        var header = true
        var bodyFailure: JobWireError?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(connection, &buffer, 0)
            if length == -1 { break }
            guard length >= 0, let buffer else { throw lost() }
            defer { PQfreemem(buffer) }
            // After a failure of `body` the rest is read and dropped: the connection must reach the end of the COPY.
            guard bodyFailure == nil else { continue }
            var row = UnsafeRawBufferPointer(start: buffer, count: Int(length))
            if header {
                // "PGCOPY\n\377\r\n\0", flags (4 bytes), header extension length (4 bytes) and extension.
                guard row.count >= 19 else { throw JobWireError(.dataLoss, Reason.storeDamaged, "a COPY without its header") }
                let extensionLength = Int(PostgresCopyRow.int32(row, at: 15))
                row = UnsafeRawBufferPointer(rebasing: row[(19 + extensionLength)...])
                header = false
            }
            // The trailer: a field count of -1.
            if row.count == 2 && PostgresCopyRow.int16(row, at: 0) == -1 { continue }
            do throws(JobWireError) {
                try body(try PostgresCopyRow(row))
            } catch {
                bodyFailure = error
            }
        }
        // The command's own result, then nothing more.
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            if PQresultStatus(result) != PGRES_COMMAND_OK && bodyFailure == nil { bodyFailure = failure(of: result, sql) }
        }
        if let bodyFailure { throw bodyFailure }
    }

    // MARK: Pipelined writes

    /// Statements sent since the last sync, whose results are still to be read.
    private var unsynced = 0
    /// The first statement that failed in the current pipeline; the rest are aborted by the server.
    private var pipelineFailure: JobWireError?
    /// At most this many statements wait for their results: the server's replies then always fit in the
    /// socket's buffers while the client is still sending (a deadlock otherwise, both sides blocked writing).
    private static let maxUnsynced = 256

    /// Starts sending ``write(_:_:)``'s statements without waiting for each answer (libpq's pipeline
    /// mode): a group commit of any size then costs a round trip or a few, not one per statement.
    func beginPipeline() throws(JobWireError) {
        guard PQenterPipelineMode(connection) == 1 else { throw lost() }
        unsynced = 0
        pipelineFailure = nil
    }

    /// Sends one prepared statement in the pipeline; its failure is reported by ``endPipeline()``.
    func write(_ statement: Statement, _ parameters: [PostgresValue]) throws(JobWireError) {
        let sent = Self.withParameters(parameters) { _, values, lengths, formats in
            PQsendQueryPrepared(connection, statement.name, Int32(parameters.count), values, lengths, formats, 1)
        }
        try pipelined(sent, statement.sql)
    }

    /// Sends one statement without parameters (BEGIN, COMMIT) in the pipeline.
    func write(_ sql: String) throws(JobWireError) {
        try pipelined(PQsendQueryParams(connection, sql, 0, nil, nil, nil, nil, 1), sql)
    }

    private func pipelined(_ sent: Int32, _ sql: String) throws(JobWireError) {
        guard sent == 1 else { throw lost() }
        unsynced += 1
        if unsynced >= Self.maxUnsynced { try sync() }
    }

    /// Waits for every statement sent so far and leaves pipeline mode; throws the first failure.
    func endPipeline() throws(JobWireError) {
        try sync()
        guard PQexitPipelineMode(connection) == 1 else { throw lost() }
        if let failure = pipelineFailure { throw failure }
    }

    /// Marks a sync point and reads every result up to it.
    private func sync() throws(JobWireError) {
        guard PQpipelineSync(connection) == 1 else { throw lost() }
        var nullsInARow = 0
        while true {
            guard let result = PQgetResult(connection) else {
                // One NULL ends each statement's results; two in a row mean nothing more is coming.
                nullsInARow += 1
                if nullsInARow > 1 || !isOpen { throw pipelineFailure ?? lost() }
                continue
            }
            nullsInARow = 0
            let status = PQresultStatus(result)
            defer { PQclear(result) }
            if status == PGRES_PIPELINE_SYNC { break }
            if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && pipelineFailure == nil {
                pipelineFailure = status == PGRES_PIPELINE_ABORTED ? lost() : failure(of: result, "a pipelined statement")
            }
        }
        unsynced = 0
    }

    // MARK: C strings

    private static func message(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "unknown error" }
        return String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func withCStrings<Result>(_ strings: [String],
                                             _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> Result) -> Result {
        var owned = strings.map { strdup($0) }
        defer { owned.forEach { free($0) } }
        owned.append(nil)
        let pointers = owned.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { buffer in
            body(buffer.baseAddress)
        }
    }

    private static func withParameters<Result>(
        _ parameters: [PostgresValue],
        _ body: (UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> Result
    ) -> Result {
        let types = parameters.map(\.oid)
        let encoded = parameters.map(\.bytes)
        let lengths = encoded.map { Int32($0.count) }
        let formats = [Int32](repeating: 1, count: parameters.count)
        // Each value's bytes copied once into one buffer; libpq reads `length` bytes from each pointer.
        let total = encoded.reduce(0) { $0 + $1.count }
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
        defer { buffer.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(parameters.count)
        var offset = 0
        for bytes in encoded {
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { UnsafeMutableRawPointer(buffer + offset).copyMemory(from: base, byteCount: raw.count) }
            }
            pointers.append(UnsafePointer(buffer + offset))
            offset += bytes.count
        }
        return types.withUnsafeBufferPointer { types in
            pointers.withUnsafeBufferPointer { values in
                lengths.withUnsafeBufferPointer { lengths in
                    formats.withUnsafeBufferPointer { formats in
                        body(types.baseAddress, values.baseAddress, lengths.baseAddress, formats.baseAddress)
                    }
                }
            }
        }
    }
}

/// The writer's connection lent to start-up's reading thread while the
/// store's queue waits for it: one owner at a time, so it may cross threads.
struct HandedOverConnection: @unchecked Sendable {
    let connection: PostgresConnection
}
