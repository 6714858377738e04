import Foundation
import JobWireProtocol

/// The keys file: one key per line, `id tenant role sha256-hex created`,
/// and `… certificate` for a client certificate's line (its SHA-256
/// fingerprint in place of a key's hash); `#` comments and blank lines ignored. Written by `jobwire keys`, read by
/// `jobwired --keys` at start and on SIGHUP.
///
/// Errors are ``JobWireError``s with code FAILED_PRECONDITION and reason
/// `KEYS_FILE_INVALID` (or NOT_FOUND / `KEYS_FILE_NOT_FOUND`), naming the line.
public struct KeysFile: Sendable, Equatable {
    public private(set) var entries: [KeyEntry]

    public static let header = """
        # JobWire API keys. Managed with `jobwire keys`; jobwired reloads this file on SIGHUP.
        # One key per line: id, tenant, role, SHA-256 of the key (hex), created (UTC). Never the key itself.
        # A client certificate's line ends with `certificate`: its SHA-256 fingerprint in place of the hash.

        """

    public init(entries: [KeyEntry] = []) {
        self.entries = entries
    }

    public init(parsing text: String, path: String = "keys file") throws(JobWireError) {
        var entries: [KeyEntry] = []
        var seen: Set<String> = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            func invalid(_ why: String) -> JobWireError {
                JobWireError(.failedPrecondition, "KEYS_FILE_INVALID", "\(path) line \(index + 1): \(why)")
            }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count == 5 || (fields.count == 6 && fields[5] == KeyEntry.Kind.certificate.rawValue) else {
                throw invalid("expected 5 fields (id tenant role sha256 created), and `certificate` for a certificate, found \(fields.count)")
            }
            guard fields[0].utf8.count == APIKey.idHexDigits, APIKey.bytes(fromHex: fields[0]) != nil else {
                throw invalid("the key id must be \(APIKey.idHexDigits) lowercase hex digits")
            }
            guard KeyEntry.isValidTenant(fields[1]) else { throw invalid("tenant \"\(fields[1])\" must be 1-64 of A-Z a-z 0-9 . _ -") }
            guard let role = Role(rawValue: fields[2]) else {
                throw invalid("role \"\(fields[2])\" is not one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let hash = APIKey.bytes(fromHex: fields[3]), hash.count == 32 else {
                throw invalid("the hash must be 64 lowercase hex digits (SHA-256)")
            }
            guard seen.insert(fields[0]).inserted else { throw invalid("key id \(fields[0]) appears twice") }
            let kind: KeyEntry.Kind = fields.count == 6 ? .certificate : .key
            if kind == .certificate && APIKey.hex(Array(hash.prefix(8))) != fields[0] {
                throw invalid("a certificate's id must be the first 16 hex digits of its fingerprint")
            }
            entries.append(KeyEntry(id: fields[0], tenant: fields[1], role: role, hash: hash, created: fields[4], kind: kind))
        }
        self.entries = entries
    }

    /// Reads and parses `path`.
    public static func load(path: String) throws(JobWireError) -> KeysFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JobWireError(.notFound, "KEYS_FILE_NOT_FOUND", "cannot read the keys file \(path)")
        }
        return try KeysFile(parsing: String(decoding: data, as: UTF8.self), path: path)
    }

    /// What a server loads: the file at `path`, refused with
    /// FAILED_PRECONDITION / `KEYS_FILE_UNSAFE` when ``permissionProblem(path:)`` finds one.
    public static func loadForServing(path: String) throws(JobWireError) -> KeysFile {
        if let problem = permissionProblem(path: path) {
            throw JobWireError(.failedPrecondition, "KEYS_FILE_UNSAFE", problem)
        }
        return try load(path: path)
    }

    /// Why `path` is unsafe to hold keys, or nil: the file must not be
    /// readable or writable by group or others (hashes still let an attacker
    /// test guesses offline, and a writable file lets anyone add a key).
    public static func permissionProblem(path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue else {
            return "cannot read the permissions of \(path)"
        }
        guard mode & 0o077 == 0 else {
            return "\(path) is accessible by group or others (mode \(String(mode, radix: 8))); run: chmod 600 \(path)"
        }
        return nil
    }

    public var text: String {
        Self.header + entries.map { entry in
            "\(entry.id) \(entry.tenant) \(entry.role.rawValue) \(APIKey.hex(entry.hash)) \(entry.created)"
                + (entry.kind == .certificate ? " certificate\n" : "\n")
        }.joined()
    }

    /// Writes the file atomically (a temporary file renamed over it), mode 0600.
    public func save(path: String) throws(JobWireError) {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw JobWireError(.failedPrecondition, "KEYS_FILE_UNWRITABLE", "cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw JobWireError(.failedPrecondition, "KEYS_FILE_UNWRITABLE", "cannot replace \(path): \(reason)")
        }
    }

    /// Makes a key for `tenant` with `role`, adds its entry and returns the key
    /// (the only time it exists outside the caller's hands).
    public mutating func createKey(tenant: String, role: Role, now: Date = Date()) throws(JobWireError) -> (key: String, entry: KeyEntry) {
        guard KeyEntry.isValidTenant(tenant) else {
            throw JobWireError(.invalidArgument, "INVALID_TENANT", "tenant \"\(tenant)\" must be 1-64 of A-Z a-z 0-9 . _ -")
        }
        var generated = APIKey.generate()
        while entries.contains(where: { $0.id == generated.id }) { generated = APIKey.generate() }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let entry = KeyEntry(id: generated.id, tenant: tenant, role: role, hash: APIKey.hash(generated.key),
                             created: formatter.string(from: now))
        entries.append(entry)
        return (generated.key, entry)
    }

    /// Grants the client certificate whose DER encoding is `der` the tenant and role, as a key would (over TLS with
    /// `--tls-client-ca`, a connection that presents it and no key is that tenant and role).
    public mutating func addCertificate(der: [UInt8], tenant: String, role: Role, now: Date = Date()) throws(JobWireError) -> KeyEntry {
        guard KeyEntry.isValidTenant(tenant) else {
            throw JobWireError(.invalidArgument, "INVALID_TENANT", "tenant \"\(tenant)\" must be 1-64 of A-Z a-z 0-9 . _ -")
        }
        let fingerprint = APIKey.sha256(der)
        let id = APIKey.hex(Array(fingerprint.prefix(8)))
        guard !entries.contains(where: { $0.id == id }) else {
            throw JobWireError(.alreadyExists, "CERTIFICATE_EXISTS", "the certificate \(id) is in the keys file already")
        }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let entry = KeyEntry(id: id, tenant: tenant, role: role, hash: fingerprint, created: formatter.string(from: now),
                             kind: .certificate)
        entries.append(entry)
        return entry
    }

    /// The DER bytes of the first certificate of a PEM file's text.
    public static func firstCertificateDER(pem: String) -> [UInt8]? {
        guard let begin = pem.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = pem.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<pem.endIndex) else { return nil }
        let body = pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(body)).map { Array($0) }
    }

    /// Removes the key `id`; throws NOT_FOUND when there is none.
    public mutating func revoke(id: String) throws(JobWireError) {
        guard let index = entries.firstIndex(where: { $0.id == id }) else {
            throw JobWireError(.notFound, "KEY_NOT_FOUND", "no key with id \(id)")
        }
        entries.remove(at: index)
    }
}
