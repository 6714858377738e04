"""ListJobs' search (``query``) and orders (``order_by``, ``ascending``) across pages (sync and asyncio), against
the real server."""
from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

import jobwire
from jobwire import JobOrder, JobSpec, JobStatus, Reason
from helpers import Server


def listed(client: jobwire.Client, **arguments: Any) -> list[str]:
    """The ids `list_jobs` yields, every page walked."""
    return [job.job_id for job in client.list_jobs(**arguments)]


def next_millisecond() -> None:
    """Lets the wall clock move on, so that the next change gets a later time than the last one."""
    time.sleep(0.003)


def test_query_matches_type_task_label_values_and_id_prefixes(client: jobwire.Client) -> None:
    transcode = client.configure(JobSpec(type="Transcode-HD")).job
    labelled = client.configure(JobSpec(type="ingest", labels={"site": "Haifa-North"})).job
    keyed = client.configure(JobSpec(type="ingest", labels={"haifa": "yes"})).job
    tasked = client.configure(JobSpec(type="ingest")).job
    client.update(tasked.job_id, status=JobStatus.RUNNING, current_task="Encoding Audio")
    accented = client.configure(JobSpec(type="ingest", labels={"city": "Ünïcode-Straße"})).job

    assert listed(client, query="transcode") == [transcode.job_id]
    assert listed(client, query="TRANSCODE-hd") == [transcode.job_id]
    assert listed(client, query="haifa") == [labelled.job_id], "label values are searched, not label keys"
    assert listed(client, query="NORTH") == [labelled.job_id]
    assert listed(client, query="coding au") == [tasked.job_id]
    assert listed(client, query="Ünï") == [accented.job_id]
    assert listed(client, query="ingest") == [accented.job_id, tasked.job_id, keyed.job_id, labelled.job_id]
    assert listed(client, query="nothing like it") == []
    assert len(listed(client, query="")) == 5

    prefix = transcode.job_id[:8]
    assert listed(client, query=prefix) == [transcode.job_id]
    assert listed(client, query=prefix.upper()) == [transcode.job_id]
    assert listed(client, query=transcode.job_id) == [transcode.job_id]
    assert listed(client, query=transcode.job_id[9:23]) == [], "the middle of an id is not a prefix"


def test_query_combines_with_filters_pages_and_counts(client: jobwire.Client) -> None:
    jobs = [client.configure(JobSpec(type="ingest", labels={"batch": f"Night-{n}"})).job for n in range(5)]
    client.configure(JobSpec(type="other"))
    client.update(jobs[1].job_id, status=JobStatus.RUNNING)
    assert listed(client, query="night", page_size=2) == [job.job_id for job in reversed(jobs)]
    assert listed(client, query="night", statuses=[JobStatus.RUNNING]) == [jobs[1].job_id]
    assert listed(client, query="night-3", type="ingest") == [jobs[3].job_id]
    page = client.list_page(query="NIGHT", page_size=2)
    assert page.total_count == 5 and len(page.jobs) == 2 and page.next_page_token
    with pytest.raises(jobwire.InvalidArgument) as caught:
        client.list_page(query="NIGHT", page_size=2, page_token=client.list_page(page_size=2).next_page_token)
    assert caught.value.reason == Reason.INVALID_PAGE_TOKEN, "a token belongs to its query"


def test_a_query_longer_than_256_bytes_is_refused(client: jobwire.Client) -> None:
    client.configure(JobSpec(type="t"))
    assert listed(client, query="é" * 128) == []
    with pytest.raises(jobwire.InvalidArgument) as caught:
        client.list_page(query="x" * 257)
    assert caught.value.reason == Reason.FIELD_TOO_LONG


def test_order_by_priority_pages_without_repeating_or_skipping(client: jobwire.Client) -> None:
    priorities = [3, -2, 10, 0, 7, 5, 1, 8]
    jobs = [client.configure(JobSpec(type="p", priority=priority)).job for priority in priorities]
    highest_first = [job.job_id for job in sorted(jobs, key=lambda job: job.priority, reverse=True)]
    assert listed(client, order_by=JobOrder.PRIORITY, page_size=3) == highest_first
    assert listed(client, order_by=JobOrder.PRIORITY, ascending=True, page_size=3) == highest_first[::-1]
    pages: list[list[int]] = []
    token = ""
    while True:
        page = client.list_page(order_by=JobOrder.PRIORITY, page_size=3, page_token=token)
        assert page.total_count == 8
        pages.append([job.priority for job in page.jobs])
        if not (token := page.next_page_token):
            break
    assert pages == [[10, 8, 7], [5, 3, 1], [0, -2]]


def test_equal_priorities_are_ordered_by_creation_across_pages(client: jobwire.Client) -> None:
    jobs = [client.configure(JobSpec(type="p", priority=n % 3)).job for n in range(11)]
    created = [job.job_id for job in jobs]
    for ascending in (False, True):
        found = list(client.list_jobs(order_by=JobOrder.PRIORITY, ascending=ascending, page_size=2))
        assert sorted(job.job_id for job in found) == sorted(created), "no job repeated or skipped"
        priorities = [job.priority for job in found]
        assert priorities == sorted(priorities, reverse=not ascending)
        for _, group in itertools.groupby(found, key=lambda job: job.priority):
            ids = [job.job_id for job in group]
            in_creation_order = [job_id for job_id in created if job_id in ids]
            assert ids in (in_creation_order, in_creation_order[::-1]), "ties go by creation"


def test_order_by_last_change(client: jobwire.Client) -> None:
    jobs = [client.configure(JobSpec(type="u")).job for _ in range(5)]
    touched: list[jobwire.Job] = []
    for index in (3, 0, 4, 1, 2):
        next_millisecond()
        touched.append(client.update(jobs[index].job_id, progress=float(index)))
    times = [job.updated_at_ms for job in touched]
    assert times == sorted(set(times)) and times[0] > jobs[-1].created_at_ms, "distinct times, in this order"
    latest_first = [job.job_id for job in reversed(touched)]
    assert listed(client, order_by=JobOrder.UPDATED, page_size=2) == latest_first
    assert listed(client, order_by=JobOrder.UPDATED, ascending=True, page_size=2) == latest_first[::-1]
    assert listed(client, order_by=JobOrder.CREATED, ascending=True, page_size=2) == [job.job_id for job in jobs]
    assert listed(client, page_size=2) == [job.job_id for job in reversed(jobs)], "newest first by default"


def test_a_page_token_belongs_to_its_order(client: jobwire.Client) -> None:
    for priority in range(3):
        client.configure(JobSpec(type="t", priority=priority))
    token = client.list_page(order_by=JobOrder.PRIORITY, page_size=1).next_page_token
    assert client.list_page(order_by=JobOrder.PRIORITY, page_size=1, page_token=token).jobs[0].priority == 1
    for order, ascending in ((JobOrder.CREATED, False), (JobOrder.UPDATED, False), (JobOrder.PRIORITY, True)):
        with pytest.raises(jobwire.InvalidArgument) as caught:
            client.list_page(order_by=order, ascending=ascending, page_size=1, page_token=token)
        assert caught.value.reason == Reason.INVALID_PAGE_TOKEN, (order, ascending)


def test_search_and_order_on_the_async_client(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            jobs = [(await client.configure(JobSpec(type="aio", labels={"site": f"Site-{p}"}, priority=p))).job
                    for p in (2, 9, 4, 7)]
            await client.configure(JobSpec(type="other", priority=100))
            found = [job async for job in client.list_jobs(query="SITE", order_by=JobOrder.PRIORITY, page_size=1)]
            assert [job.priority for job in found] == [9, 7, 4, 2]
            found = [job async for job in client.list_jobs(query="site", order_by=JobOrder.PRIORITY, ascending=True,
                                                           page_size=3)]
            assert [job.job_id for job in found] == [jobs[0].job_id, jobs[2].job_id, jobs[3].job_id, jobs[1].job_id]
            page = await client.list_page(query=jobs[1].job_id[:13], order_by=JobOrder.UPDATED)
            assert [job.job_id for job in page.jobs] == [jobs[1].job_id] and page.total_count == 1

    asyncio.run(asyncio.wait_for(main(), 30))
