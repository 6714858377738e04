// The lock every JobWire module uses for state shared between threads.
//
// In every ordinary build `Locked` *is* `Synchronization.Mutex`. Sanitizer
// builds (`make sanitize`, compiled with `-DJOBWIRE_TSAN`) swap in a
// pthread mutex: on Linux, `Synchronization.Mutex` is built on raw futex
// system calls that ThreadSanitizer cannot see, so every access to state
// inside `withLock` is reported as a data race. TSan intercepts
// `pthread_mutex_lock`, so with this lock it reports only real races.

#if JOBWIRE_TSAN

#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex, with the subset of `Mutex`'s interface
/// JobWire uses. Only for sanitizer builds.
public final class Locked<Value: ~Copyable>: @unchecked Sendable {
    // Heap-allocated: a pthread mutex must not move once initialised.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ initialValue: consuming Value) {
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        value = initialValue
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

#else

import Synchronization

/// `Synchronization.Mutex` (see the top of this file for why the name).
public typealias Locked<Value: ~Copyable> = Mutex<Value>

#endif
