import JobWireProtocol

extension JobRegistry {
    /// Refuses every call once the store has stopped after a failed commit:
    /// the registry then holds changes the store does not, and only a restart
    /// (from what was committed) makes the two agree again.
    func checkStore() throws(JobWireError) {
        if let reason = store.stoppedBecause { throw reason }
    }

    /// Hands `change` to the store, and runs `deliver` (the watch deliveries
    /// it causes) under the registry's lock once the change is durable: a
    /// watcher never receives a revision that a failed commit loses. The
    /// store completes changes in the order they were handed over, so each
    /// watcher still gets its job's events in revision order. With a store
    /// that completes inline (memory), `deliver` runs at once.
    ///
    /// Called under the lock (`state` is the locked state).
    func persist(_ change: StoredChange, of jobID: String, in state: inout RegistryState,
                 deliver: @escaping @Sendable (inout RegistryState) -> Void,
                 completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        if store.completesInline {
            deliver(&state)
            store.persist(change, completion: completion)
            return
        }
        // Nobody watches: nothing to deliver, no second trip through the lock.
        // A watch that starts before the commit finds the change in the job itself.
        guard state.watchers[jobID] != nil else {
            store.persist(change, completion: completion)
            return
        }
        store.persist(change) { [weak self] result in
            if case .success = result, let self {
                self.state.withLock { deliver(&$0) }
            }
            completion(result)
        }
    }
}
