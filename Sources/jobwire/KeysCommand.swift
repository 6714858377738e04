import ArgumentParser
import Foundation
import JobWireKeys
import JobWireProtocol

/// `jobwire keys`: manages the keys file jobwired reads with `--keys`.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API keys in a keys file.",
        discussion: """
            The file holds each key's id, tenant, role and SHA-256 hash, never the key. After a change, \
            send jobwired SIGHUP (kill -HUP PID) to reload it; connections of a revoked key are closed.

            Examples:
              jobwire keys create --tenant acme --role worker --keys-file /etc/jobwire/keys
              jobwire keys list --keys-file /etc/jobwire/keys
              jobwire keys revoke 3f9a2b7c1d4e5f60 --keys-file /etc/jobwire/keys
              jobwire keys add-certificate worker-1.pem --tenant acme --role worker --keys-file /etc/jobwire/keys
            """,
        subcommands: [CreateKey.self, ListKeys.self, RevokeKey.self, AddCertificate.self])
}

struct KeysFileOption: ParsableArguments {
    @Option(help: "The keys file (created with mode 0600 when missing).")
    var keysFile: String

    func load(creating: Bool = false) throws(JobWireError) -> KeysFile {
        if creating && !FileManager.default.fileExists(atPath: keysFile) {
            return KeysFile()
        }
        return try KeysFile.load(path: keysFile)
    }
}

extension Role: ExpressibleByArgument {}

struct CreateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Make a random 256-bit key; print it (the key alone, once) and store only its hash.",
        discussion: "Roles: reader (read and watch), client (+ configure, cancel, delete), worker (+ update), admin (every tenant, stats).")

    @OptionGroup var file: KeysFileOption
    @Option(help: "The tenant the key's jobs belong to.") var tenant: String
    @Option(help: "reader, client, worker or admin.") var role: Role

    func run() async throws {
        try await runReportingErrors {
            var keys = try file.load(creating: true)
            let (key, entry) = try keys.createKey(tenant: tenant, role: role)
            try keys.save(path: file.keysFile)
            printError("created key \(entry.id) (tenant \(entry.tenant), role \(entry.role.rawValue)); store it now, it is not kept")
            print(key)
        }
    }
}

struct ListKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the keys: id, tenant, role, created.")

    @OptionGroup var file: KeysFileOption

    func run() async throws {
        try await runReportingErrors {
            for entry in try file.load().entries {
                print("\(entry.id)  \(entry.tenant)  \(entry.role.rawValue)  \(entry.created)\(entry.kind == .certificate ? "  certificate" : "")")
            }
        }
    }
}

struct RevokeKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Remove a key from the file; reload jobwired (SIGHUP) to close its connections.")

    @OptionGroup var file: KeysFileOption
    @Argument(help: "The key's id (from `jobwire keys list`).") var id: String

    func run() async throws {
        try await runReportingErrors {
            var keys = try file.load()
            try keys.revoke(id: id)
            try keys.save(path: file.keysFile)
            printError("revoked key \(id); send jobwired SIGHUP to apply it")
        }
    }
}

struct AddCertificate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-certificate",
        abstract: "Grant a TLS client certificate a tenant and role, as a key does (jobwired --tls-client-ca).",
        discussion: """
            The file keeps the certificate's SHA-256 fingerprint. A connection that presents the certificate (verified \
            against --tls-client-ca) and no key acts as that tenant and role; a key, when one is sent, decides. \
            Revoke it like a key, by the id printed here; reload jobwired (SIGHUP) after a change.
            """)

    @OptionGroup var file: KeysFileOption
    @Argument(help: "The client's certificate (PEM; the first certificate in the file).") var certificate: String
    @Option(help: "The tenant it acts for.") var tenant: String
    @Option(help: "reader, client, worker or admin.") var role: Role

    func run() async throws {
        try await runReportingErrors {
            guard let data = FileManager.default.contents(atPath: certificate),
                  let der = KeysFile.firstCertificateDER(pem: String(decoding: data, as: UTF8.self)) else {
                throw JobWireError(.invalidArgument, "CERTIFICATE_UNREADABLE", "\(certificate) holds no PEM certificate")
            }
            var keys = try file.load(creating: true)
            let entry = try keys.addCertificate(der: der, tenant: tenant, role: role)
            try keys.save(path: file.keysFile)
            print(entry.id)
            printError("certificate \(entry.id) grants tenant \(entry.tenant), role \(entry.role.rawValue); reload jobwired (SIGHUP)")
        }
    }
}
