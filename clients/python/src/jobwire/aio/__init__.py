"""The JobWire client on asyncio: ``jobwire.aio.Client`` has the API of ``jobwire.Client`` with ``async`` methods.

::

    import jobwire.aio

    async with jobwire.aio.Client("127.0.0.1", 7420) as client:
        job = (await client.configure(jobwire.JobSpec(type="transcode"))).job
        async for event in client.watch(job.job_id):
            print(event.kind.name, event.revision)
"""
from .client import Client
from .worker import Worker

__all__ = ["Client", "Worker"]
