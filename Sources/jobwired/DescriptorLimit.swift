import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Every connection is a descriptor, and the soft limit a shell or service
/// manager hands down is often 1,024 — far below `--max-connections`. The
/// soft limit may be raised up to the hard one without privileges, so
/// jobwired does that at start (as nginx and Go's runtime do) and says so
/// when even the hard limit leaves too little room.
enum DescriptorLimit {
    /// Descriptors the server needs besides connections: the listener, the
    /// store's database, WAL and shared-memory files, the signal pipe,
    /// Dispatch's event descriptors, standard streams.
    static let reserved: rlim_t = 64

    /// Raises the soft limit to the hard limit; returns the limit in force.
    @discardableResult
    static func raise(toServe maxConnections: Int, logger: Logger) -> rlim_t? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            logger.warning("cannot read the descriptor limit: \(String(cString: strerror(errno)))")
            return nil
        }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 {
                limit = raised
            } else {
                logger.warning("cannot raise the descriptor limit from \(limit.rlim_cur) to \(limit.rlim_max): \(String(cString: strerror(errno)))")
            }
        }
        let needed = rlim_t(maxConnections) + reserved
        if limit.rlim_cur < needed {
            logger.warning("""
                the descriptor limit (\(limit.rlim_cur)) is below --max-connections (\(maxConnections)) plus \(reserved) \
                for the server itself: connections beyond it are refused by the kernel until descriptors are free \
                (raise the hard limit, e.g. LimitNOFILE= in systemd or ulimit -Hn)
                """)
        }
        return limit.rlim_cur
    }
}
