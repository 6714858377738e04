import JobWireProtocol
import JobWireSync
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A store's answer to one change, waiting to be applied: what becomes
/// visible under the registry's lock, and the reply to run after it.
struct StoreAnswer: Sendable {
    let result: Result<Void, JobWireError>
    /// Runs under the lock when the store accepted the change.
    let accepted: @Sendable (inout RegistryState) -> Void
    /// Runs after the lock is released, with `result`.
    let completion: @Sendable (Result<Void, JobWireError>) -> Void

    /// The part under the lock: the change becomes visible, or, on a failure,
    /// every reply still waiting for an acceptance fails too.
    func apply(to state: inout RegistryState) {
        switch result {
        case .success: accepted(&state)
        case .failure(let error): state.failWaiters(error)
        }
    }
}

/// A reply to run once the registry's lock is released.
struct DeferredReply: Sendable {
    let completion: @Sendable (Result<Void, JobWireError>) -> Void
    let result: Result<Void, JobWireError>
}

extension JobRegistry {
    /// Refuses every call once the store has stopped after a failed commit:
    /// the registry then holds changes the store does not, and only a restart
    /// (from what was committed) makes the two agree again.
    func checkStore() throws(JobWireError) {
        if let reason = store.stoppedBecause { throw reason }
    }

    /// Runs the replies a locked section queued in
    /// ``RegistryState/afterUnlock`` (``RegistryState/takeAfterUnlock()``),
    /// once the lock is released: a write's completion (its reply) may call
    /// back into the registry, and must neither deadlock on the lock nor hold
    /// it while a front end works. Every locked section that may queue one
    /// ends this way.
    func runAfterUnlock(_ replies: [DeferredReply]) {
        for reply in replies {
            reply.completion(reply.result)
        }
    }

    /// Applies store answers in one critical section, then runs their replies
    /// (and any other the section queued) outside it.
    func settle(_ answers: some Collection<StoreAnswer>) {
        let queued = state.withLock { state in
            for answer in answers { answer.apply(to: &state) }
            return state.takeAfterUnlock()
        }
        for answer in answers {
            answer.completion(answer.result)
        }
        runAfterUnlock(queued)
    }

    /// Hands `change` to the store. Once the store accepts it, readers see
    /// it and `accepted` runs under the registry's lock (the revision becomes
    /// visible, watch events go out); then `completion` runs, outside the
    /// lock. A change the store fails is never seen by anyone, and the store
    /// stops (``checkStore()``).
    ///
    /// `acceptance` names the job's slot and the revision the change makes:
    /// a completion from the store's thread then only marks the revision
    /// accepted in the slot, without the lock, unless the registry asked for
    /// the lock (``JobSlot/requireLock()``: watchers, waiting replies, a
    /// delete). Without it, `accepted` always runs under the lock.
    ///
    /// The store may complete before `persist` returns (the memory store) or
    /// later, from its own queue (SQLite); either way it completes changes in
    /// the order it received them, which is the order of the lock, so every
    /// watcher gets its job's events in revision order.
    ///
    /// Called under the lock (`state` is the locked state), in a section that
    /// ends with ``runAfterUnlock(_:)``.
    func persist(_ change: StoredChange, in state: inout RegistryState,
                 acceptance: (slot: JobSlot, revision: UInt64)? = nil,
                 accepted: @escaping @Sendable (inout RegistryState) -> Void,
                 completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        let call = InlineCompletion.begin()
        // `self` is held strongly until the store answers: a weak reference
        // would move the registry's reference count to a side table, where
        // every retain of it anywhere takes the slow path.
        store.persist(change) { result in
            let answer = StoreAnswer(result: result, accepted: accepted, completion: completion)
            // Completed inside `store.persist`, under the lock: handled below.
            guard !InlineCompletion.keep(answer, for: call) else { return }
            if case .success = result, let acceptance, !acceptance.slot.markAccepted(acceptance.revision) {
                completion(result)
                return
            }
            if let group = CompletionGroup.current {
                group.add(self, answer)
            } else {
                self.settle([answer])
            }
        }
        if let answer = InlineCompletion.end(call) {
            answer.apply(to: &state)
            state.afterUnlock.append(DeferredReply(completion: answer.completion, result: answer.result))
        }
    }
}

/// Tells a store's completion that ran inside `persist` on the same thread
/// (the caller still holds the registry's lock, so the answer must be applied
/// there) from one that runs later or elsewhere (which takes the lock
/// itself), without allocating per change: each `persist` call gets a number,
/// and the thread remembers which call it is in.
enum InlineCompletion {
    /// The numbered `persist` call the thread is in, and an answer kept for it.
    private final class ThreadState {
        var call: UInt64 = 0
        var kept: StoreAnswer?
    }

    private static let calls = Atomic<UInt64>(0)

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, { pointer in pointer.map { Unmanaged<ThreadState>.fromOpaque($0).release() } })
        return key
    }()

    private static var threadState: ThreadState {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<ThreadState>.fromOpaque(pointer).takeUnretainedValue()
        }
        let state = ThreadState()
        pthread_setspecific(key, Unmanaged.passRetained(state).toOpaque())
        return state
    }

    /// Numbers a `persist` call on this thread.
    static func begin() -> UInt64 {
        let call = calls.wrappingAdd(1, ordering: .relaxed).newValue
        let state = threadState
        state.call = call
        state.kept = nil
        return call
    }

    /// From a completion: true (and the answer kept) when it runs inside `persist` call `call` on its thread.
    static func keep(_ answer: StoreAnswer, for call: UInt64) -> Bool {
        guard let pointer = pthread_getspecific(key) else { return false }
        let state = Unmanaged<ThreadState>.fromOpaque(pointer).takeUnretainedValue()
        guard state.call == call else { return false }
        state.kept = answer
        return true
    }

    /// After the store's `persist` returned: the answer if its completion already ran.
    static func end(_ call: UInt64) -> StoreAnswer? {
        let state = threadState
        defer {
            state.call = 0
            state.kept = nil
        }
        return state.call == call ? state.kept : nil
    }
}
