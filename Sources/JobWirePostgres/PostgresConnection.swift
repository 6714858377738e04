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
    /// Rows an UPDATE, INSERT or DELETE touched.
    var affected: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) == 1 }

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

    /// The server's major version number, e.g. 15.
    var serverMajorVersion: Int { Int(PQserverVersion(connection)) / 10_000 }

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

    @discardableResult
    func run(_ statement: Statement, _ parameters: [PostgresValue]) throws(JobWireError) -> PostgresRows {
        let result = Self.withParameters(parameters) { types, values, lengths, formats in
            PQexecPrepared(connection, statement.name, Int32(parameters.count), values, lengths, formats, 1)
        }
        return try check(result, statement.sql)
    }

    private func check(_ result: OpaquePointer?, _ sql: String) throws(JobWireError) -> PostgresRows {
        guard let result else {
            throw JobWireError(.unavailable, Reason.storeUnavailable,
                               "PostgreSQL did not answer: \(Self.message(PQerrorMessage(connection)))")
        }
        let rows = PostgresRows(result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return rows
        default:
            let message = Self.message(PQresultErrorMessage(result))
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            guard isOpen, !state.hasPrefix("08"), !state.hasPrefix("57P") else {
                throw JobWireError(.unavailable, Reason.storeUnavailable, "lost the connection to PostgreSQL: \(message)")
            }
            let statement = sql.split(separator: "\n").first.map(String.init) ?? sql
            throw JobWireError(.internal, "STORE_FAILED", "PostgreSQL refused \(statement.prefix(80)) (SQLSTATE \(state)): \(message)")
        }
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
