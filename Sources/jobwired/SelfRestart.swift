import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Runs jobwired afresh in this same process (same pid, same arguments) once
/// a postgres node's store has stopped: the new image waits for the database
/// and the writer lock, loads what was committed and serves again, so an
/// outage of PostgreSQL heals without a supervisor (docs/OPERATIONS.md).
///
/// It keeps the ports the node had, even when they were picked with port 0,
/// so clients reconnect where they were.
struct SelfRestart: Sendable {
    let boundPort: Int
    let httpPort: Int?

    /// Replaces the process image; returns only when that failed (logged).
    func execute(logger: Logger) {
        var arguments = CommandLine.arguments
        // Options given twice take the last value.
        arguments += ["--port", String(boundPort)]
        if let httpPort { arguments += ["--http-port", String(httpPort)] }
        Self.closeDescriptorsOnExec()
        var pointers = arguments.map { strdup($0) }
        pointers.append(nil)
        execv("/proc/self/exe", pointers)
        logger.critical("cannot restart jobwired: \(String(cString: strerror(errno)))")
        pointers.forEach { free($0) }
    }

    /// Marks every descriptor above stderr close-on-exec (sockets, epoll and
    /// event descriptors, the database's connections), so that the new image
    /// starts with nothing of the old one's but the standard streams.
    private static func closeDescriptorsOnExec() {
        guard let directory = opendir("/proc/self/fd") else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let descriptor = Int32(name), descriptor > 2 else { continue }
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
    }
}
