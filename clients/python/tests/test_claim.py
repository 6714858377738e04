"""Worker pools: workers claim PENDING jobs with a conditional update and exactly one claimer wins (sync and
asyncio), against the real server."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import jobwire
from jobwire import JobOrder, JobResult, JobSpec, JobStatus, Reason
from conftest import Keyring
from helpers import UNKNOWN_ID, Server

Outcome = jobwire.Job | jobwire.JobWireError


def race(claimers: list[jobwire.Client], job: jobwire.Job, pool: ThreadPoolExecutor) -> list[Outcome]:
    """Every claimer claims `job` at the revision it was created with, released together."""
    barrier = threading.Barrier(len(claimers))

    def claim(claimer: jobwire.Client) -> Outcome:
        barrier.wait()
        try:
            return claimer.claim(job.job_id, revision=job.revision, lease=30)
        except jobwire.JobWireError as failure:
            return failure

    return list(pool.map(claim, claimers))


def assert_one_winner(outcomes: list[Outcome], job: jobwire.Job) -> jobwire.Job:
    won = [outcome for outcome in outcomes if isinstance(outcome, jobwire.Job)]
    lost = [outcome for outcome in outcomes if isinstance(outcome, jobwire.JobWireError)]
    assert len(won) == 1 and len(lost) == len(outcomes) - 1, outcomes
    for failure in lost:
        assert type(failure) is jobwire.Aborted and failure.reason == Reason.REVISION_MISMATCH, failure
    winner = won[0]
    assert winner.status is JobStatus.RUNNING and winner.revision == job.revision + 1
    assert winner.lease_expires_at_ms == winner.updated_at_ms + 30_000
    return winner


def test_exactly_one_of_two_claimers_wins(server: Server) -> None:
    creator = server.client()
    claimers = [server.client(), server.client()]
    for claimer in claimers:
        claimer.connect()  # the race is between two calls, not two handshakes
    with ThreadPoolExecutor(len(claimers)) as pool:
        for _ in range(10):
            job = creator.configure(JobSpec(type="pool")).job
            winner = assert_one_winner(race(claimers, job, pool), job)
            assert creator.get_metadata(job.job_id) == winner


def test_a_claim_fails_once_the_job_moved_on(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="pool")).job
    touched = client.update(job.job_id, log_lines=["looked at"])
    with pytest.raises(jobwire.Aborted) as stale:
        client.claim(job.job_id, revision=job.revision)
    assert stale.value.reason == Reason.REVISION_MISMATCH
    assert client.claim_worker(job.job_id, revision=job.revision) is None
    assert client.get_metadata(job.job_id) == touched

    leased = client.configure(JobSpec(type="pool"), lease=30).job
    cancelling = client.cancel(leased.job_id)
    with pytest.raises(jobwire.FailedPrecondition) as illegal:
        client.claim(leased.job_id, revision=cancelling.revision)
    assert illegal.value.reason == Reason.ILLEGAL_TRANSITION
    assert client.claim_worker(leased.job_id, revision=cancelling.revision) is None

    cancelled = client.cancel(job.job_id)
    with pytest.raises(jobwire.FailedPrecondition) as terminal:
        client.claim(job.job_id, revision=cancelled.revision)
    assert terminal.value.reason == Reason.JOB_TERMINAL
    assert client.claim_worker(job.job_id, revision=cancelled.revision) is None

    with pytest.raises(jobwire.NotFound):
        client.claim_worker(UNKNOWN_ID, revision=1)  # not a lost race: raised
    with pytest.raises(ValueError):
        client.claim(job.job_id, revision=0)  # 0 would make the update unconditional
    with pytest.raises(ValueError):
        client.claim_worker(job.job_id, revision=0)


def test_claim_worker_claims_in_one_write_and_runs_the_job(client: jobwire.Client, server: Server) -> None:
    job = client.configure(JobSpec(type="pool")).job
    worker = client.claim_worker(job.job_id, revision=job.revision, lease=30)
    assert worker is not None
    assert worker.job.status is JobStatus.RUNNING and worker.job.revision == job.revision + 1, "one write"
    assert server.client().claim_worker(job.job_id, revision=job.revision) is None, "another worker was first"
    with worker as entered:
        assert entered is worker and worker.job.revision == job.revision + 1, "entering does not start it again"
        worker.progress(50.0, task="encoding")
        worker.set_result("done")
    done = client.get_metadata(job.job_id)
    assert done.status is JobStatus.COMPLETED and done.result == JobResult("text/plain; charset=utf-8", b"done")

    cancelled = client.configure(JobSpec(type="pool")).job
    worker = client.claim_worker(cancelled.job_id, revision=cancelled.revision, lease=30)
    assert worker is not None
    assert client.cancel(cancelled.job_id).status is JobStatus.CANCELLING
    with worker:
        assert worker.cancel_event.wait(3), "the claimed worker watches its job"
        worker.check_cancelled()
    assert client.get_metadata(cancelled.job_id).status is JobStatus.CANCELLED


def test_a_failed_claimed_job_is_retried_and_claimed_again(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="pool")).job
    worker = client.claim_worker(job.job_id, revision=job.revision, lease=30)
    assert worker is not None
    with pytest.raises(RuntimeError):
        with worker:
            raise RuntimeError("boom")
    retried = client.retry(job.job_id)
    assert retried.previous_attempts[0].error is not None and retried.previous_attempts[0].error.message == "boom"
    again = client.claim_worker(job.job_id, revision=retried.revision, lease=30)
    assert again is not None and again.job.attempt == 2
    with again:
        pass
    assert client.get_metadata(job.job_id).status is JobStatus.COMPLETED


def test_a_pool_of_workers_runs_every_job_exactly_once(server: Server) -> None:
    creator = server.client()
    ids = [creator.configure(JobSpec(type="pool", priority=n % 3)).job.job_id for n in range(8)]
    done: dict[str, list[str]] = {"first": [], "second": []}

    def work(name: str) -> None:
        client = server.client()
        while True:
            for found in client.list_jobs(statuses=[JobStatus.PENDING], type="pool", order_by=JobOrder.PRIORITY):
                worker = client.claim_worker(found.job_id, revision=found.revision, lease=30)
                if worker is None:
                    continue  # the other worker was first
                with worker:
                    worker.progress(50.0, task=name)
                    worker.set_result({"worker": name})
                done[name].append(found.job_id)
                break
            else:
                return  # nothing left to claim

    with ThreadPoolExecutor(len(done)) as pool:
        for finished in [pool.submit(work, name) for name in done]:
            finished.result(timeout=30)
    assert sorted(done["first"] + done["second"]) == sorted(ids), "every job once, none twice"
    for name, claimed in done.items():
        for job_id in claimed:
            job = creator.get_metadata(job_id)
            assert job.status is JobStatus.COMPLETED and job.current_task == name
            assert job.result == JobResult("application/json", f'{{"worker":"{name}"}}'.encode())


def test_a_claim_needs_a_worker_key(keyed_server: Server, keyring: Keyring) -> None:
    client_role = keyed_server.client(keyring["acme-client"])
    job = client_role.configure(JobSpec(type="pool")).job
    with pytest.raises(jobwire.PermissionDenied):
        client_role.claim(job.job_id, revision=job.revision)
    with pytest.raises(jobwire.PermissionDenied):
        client_role.claim_worker(job.job_id, revision=job.revision)
    worker = keyed_server.client(keyring["acme-worker"])
    assert worker.claim(job.job_id, revision=job.revision).status is JobStatus.RUNNING


def test_claims_on_the_async_client(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as creator, server.aclient() as one, server.aclient() as two:
            await asyncio.gather(one.connect(), two.connect())
            for _ in range(5):
                job = (await creator.configure(JobSpec(type="pool"))).job
                outcomes = await asyncio.gather(one.claim(job.job_id, revision=job.revision, lease=30),
                                                two.claim(job.job_id, revision=job.revision, lease=30),
                                                return_exceptions=True)
                claims = [o for o in outcomes if isinstance(o, (jobwire.Job, jobwire.JobWireError))]
                assert len(claims) == len(outcomes), outcomes
                assert_one_winner(claims, job)
            job = (await creator.configure(JobSpec(type="pool"))).job
            workers = await asyncio.gather(one.claim_worker(job.job_id, revision=job.revision),
                                           two.claim_worker(job.job_id, revision=job.revision))
            [worker] = [worker for worker in workers if worker is not None]
            assert worker.job.revision == job.revision + 1
            async with worker as entered:
                assert entered is worker
                await worker.progress(10.0)
            assert (await creator.get_metadata(job.job_id)).status is JobStatus.COMPLETED
            with pytest.raises(jobwire.Aborted):
                await one.claim(job.job_id, revision=job.revision)

    asyncio.run(asyncio.wait_for(main(), 30))
