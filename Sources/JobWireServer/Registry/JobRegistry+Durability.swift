import JobWireProtocol
import JobWireSync

extension JobRegistry {
    /// Refuses every call once the store has stopped after a failed commit:
    /// the registry then holds changes the store does not, and only a restart
    /// (from what was committed) makes the two agree again.
    func checkStore() throws(JobWireError) {
        if let reason = store.stoppedBecause { throw reason }
    }

    /// Runs the completions a locked section queued in
    /// ``RegistryState/afterUnlock`` (``RegistryState/takeAfterUnlock()``),
    /// once the lock is released: a write's completion (its reply) may call
    /// back into the registry, and must neither deadlock on the lock nor hold
    /// it while a front end works. Every locked section that may queue one
    /// ends this way.
    func runAfterUnlock(_ completions: [@Sendable () -> Void]) {
        for completion in completions {
            completion()
        }
    }

    /// Hands `change` to the store. Once the store accepts it, `accepted`
    /// runs under the registry's lock (readers and watchers then see the
    /// change: the revision becomes visible, watch events go out); then
    /// `completion` runs, outside the lock. A change the store fails is
    /// never seen by anyone, and the store stops (``checkStore()``).
    ///
    /// The store may complete before `persist` returns (the memory store) or
    /// later, from its own queue (SQLite); either way it completes changes in
    /// the order it received them, which is the order of the lock, so every
    /// watcher gets its job's events in revision order.
    ///
    /// Called under the lock (`state` is the locked state), in a section that
    /// ends with ``runAfterUnlock(_:)``.
    func persist(_ change: StoredChange, in state: inout RegistryState,
                 accepted: @escaping @Sendable (inout RegistryState) -> Void,
                 completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        let handoff = CommitHandoff()
        store.persist(change) { [weak self] result in
            // Completed inside `store.persist`, under the lock: handled below.
            guard handoff.completesLater(with: result) else { return }
            guard let self else {
                completion(result)
                return
            }
            self.runAfterUnlock(self.state.withLock { state in
                Self.settle(result, in: &state, accepted: accepted, completion: completion)
                return state.takeAfterUnlock()
            })
        }
        if let result = handoff.inlineResult() {
            Self.settle(result, in: &state, accepted: accepted, completion: completion)
        }
    }
}

extension JobRegistry {
    /// What follows the store's answer, under the lock.
    fileprivate static func settle(_ result: Result<Void, JobWireError>, in state: inout RegistryState,
                                   accepted: (inout RegistryState) -> Void,
                                   completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        switch result {
        case .success: accepted(&state)
        case .failure(let error): state.failWaiters(error)
        }
        state.afterUnlock.append { completion(result) }
    }
}

/// Tells whether a store called its completion before `persist` returned
/// (the caller still holds the registry's lock) or later (the completion
/// must take the lock itself).
private final class CommitHandoff: Sendable {
    private enum Phase {
        case persisting
        case completedInline(Result<Void, JobWireError>)
        case returned
    }

    private let phase = Locked(Phase.persisting)

    /// From the completion: false (and the result kept) while `persist` has not returned.
    func completesLater(with result: Result<Void, JobWireError>) -> Bool {
        phase.withLock { phase in
            guard case .persisting = phase else { return true }
            phase = .completedInline(result)
            return false
        }
    }

    /// After `persist` returned: the result if the completion already ran.
    func inlineResult() -> Result<Void, JobWireError>? {
        phase.withLock { phase in
            defer { phase = .returned }
            if case .completedInline(let result) = phase { return result }
            return nil
        }
    }
}
