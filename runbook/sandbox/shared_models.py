"""Imported before moto: every botocore session in the sandbox reads AWS's data files once.

moto asks botocore which regions each service has by making a new session each time (at
import, once per service it loads, and again as accounts' backends are made), and every new
session reads botocore's endpoint data (1.2 MB of JSON) afresh: about 1 s of CPU on each
start of the sandbox (and each test process) before it could answer. Here sessions share one
loader per data path, which keeps what it has read. What is read is never changed.
"""

from __future__ import annotations

import functools

import botocore.loaders
import botocore.session

if not hasattr(botocore.session.create_loader, "cache_info"):  # once per process
    botocore.session.create_loader = functools.lru_cache(maxsize=None)(  # type: ignore[assignment]
        botocore.loaders.create_loader
    )
