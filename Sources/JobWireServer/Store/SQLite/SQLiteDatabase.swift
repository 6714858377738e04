internal import CSQLite
import JobWireProtocol

/// A thin, typed wrapper over one SQLite connection. Every failure is a
/// ``JobWireError`` with code INTERNAL (or DATA_LOSS for damage) naming the
/// SQL and SQLite's message.
///
/// Not thread-safe: owned by one queue.
final class SQLiteDatabase {
    private let handle: OpaquePointer
    let path: String

    init(path: String, readOnly: Bool = false) throws(JobWireError) {
        var handle: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let status = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw JobWireError(.dataLoss, "STORE_OPEN_FAILED", "cannot open \(path): \(message)")
        }
        self.handle = handle
        self.path = path
        sqlite3_busy_timeout(handle, 5_000)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(JobWireError) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        if status != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(status))
            sqlite3_free(error)
            throw failure(status, sql, message)
        }
    }

    func prepare(_ sql: String) throws(JobWireError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK, let statement else {
            throw failure(status, sql, String(cString: sqlite3_errmsg(handle)))
        }
        return SQLiteStatement(statement, database: self, sql: sql)
    }

    /// The first column of the first row, as an integer (e.g. a PRAGMA).
    func integer(_ sql: String) throws(JobWireError) -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    /// Every row's first column, as text (e.g. PRAGMA integrity_check).
    func texts(_ sql: String) throws(JobWireError) -> [String] {
        let statement = try prepare(sql)
        var rows: [String] = []
        while try statement.step() { rows.append(statement.text(0)) }
        return rows
    }

    func failure(_ status: Int32, _ sql: String, _ message: String) -> JobWireError {
        let damaged = status == SQLITE_CORRUPT || status == SQLITE_NOTADB
        return JobWireError(damaged ? .dataLoss : .internal, damaged ? "STORE_DAMAGED" : "STORE_FAILED",
                            "\(path): \(message) (in \(sql.prefix(80)))")
    }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }
}

/// A connection lent to another thread for a while (start-up's row reader);
/// its owner leaves it alone until that thread is done.
struct HandedOverDatabase: @unchecked Sendable {
    let database: SQLiteDatabase
}

/// A prepared statement; reset and reused for every execution.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private unowned let database: SQLiteDatabase
    private let sql: String
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.statement = statement
        self.database = database
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(statement)
    }

    /// Binds `values` (1-based, in order) after resetting the statement.
    @discardableResult
    func bind(_ values: SQLiteValue...) -> SQLiteStatement {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .integer(let number): sqlite3_bind_int64(statement, index, number)
            case .text(let text): sqlite3_bind_text(statement, index, text, -1, Self.transient)
            case .blob(let bytes):
                _ = bytes.withUnsafeBytes { raw in
                    sqlite3_bind_blob(statement, index, raw.baseAddress, Int32(raw.count), Self.transient)
                }
            }
        }
        return self
    }

    /// Runs a statement that returns no rows.
    func run() throws(JobWireError) {
        while try step() {}
        sqlite3_reset(statement)
    }

    /// Steps once; true while there is a row.
    func step() throws(JobWireError) -> Bool {
        let status = sqlite3_step(statement)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.failure(status, sql, database.lastError)
        }
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement, column) else { return "" }
        // The length SQLite knows spares a strlen; ask for it after the text (SQLite's rule).
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// Sets `text` to the column's text unless it already holds exactly
    /// those bytes: a value repeated row after row keeps one string.
    func reuseText(_ column: Int32, _ text: inout String) {
        guard let pointer = sqlite3_column_text(statement, column) else {
            text = ""
            return
        }
        let bytes = UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column)))
        let same = text.utf8.withContiguousStorageIfAvailable { $0.elementsEqual(bytes) } ?? text.utf8.elementsEqual(bytes)
        if !same { text = String(decoding: bytes, as: UTF8.self) }
    }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

enum SQLiteValue {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}
