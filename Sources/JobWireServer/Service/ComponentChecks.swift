import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The components detailed Health reports that belong to the job service
/// itself: the store and the disk under it. Front ends and later subsystems
/// add their own through ``JobService/addHealthCheck(_:)``.
enum ComponentChecks {
    /// Free space below this share of the file system is a WARNING.
    static let lowSpaceRatio = 0.10

    /// `store`: committing, or stopped (FAILING, with why).
    static func store(_ store: any JobStore) -> ComponentHealth {
        var component = ComponentHealth(name: "store", state: .ok, measures: [
            "commits": Double(store.commits),
            "last_commit_us": Double(store.lastCommitMicros),
        ])
        if let reason = store.stoppedBecause {
            component.state = .failing
            component.message = reason.message
        }
        return component
    }

    /// `disk`: free space where the store keeps its files. WARNING under
    /// 10 % free; FAILING when the store stopped and the file system is full
    /// (writes failed for lack of space).
    static func disk(_ store: any JobStore) -> ComponentHealth {
        guard let directory = store.dataDirectory else {
            return ComponentHealth(name: "disk", state: .ok, message: "the \(store.kind) store keeps nothing on disk")
        }
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else {
            let code = errno
            return ComponentHealth(name: "disk", state: .warning,
                                   message: "cannot read the free space of \(directory): \(String(cString: strerror(code)))")
        }
        let blockSize = Double(info.f_frsize)
        let total = Double(info.f_blocks) * blockSize
        let free = Double(info.f_bavail) * blockSize
        let ratio = total > 0 ? free / total : 0
        var component = ComponentHealth(name: "disk", state: .ok, message: directory, measures: [
            "free_bytes": free, "total_bytes": total, "free_ratio": ratio,
        ])
        if store.stoppedBecause != nil && (free < 1_048_576 || store.stoppedBecause?.message.contains("full") == true) {
            component.state = .failing
            component.message = "\(directory) is full: the store could not write"
        } else if ratio < lowSpaceRatio {
            component.state = .warning
            component.message = "\(directory) has \(Int(ratio * 100)) % free (\(Int(free / 1_048_576)) MiB)"
        }
        return component
    }
}
