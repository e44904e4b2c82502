"""How many CPUs this process may use, and how many threads one embedding call should take."""

from __future__ import annotations

import os
from pathlib import Path


def usable_cpus() -> int:
    """CPUs this process may really use: its affinity mask, capped by a cgroup v2 CPU quota
    (a container limited to 2 CPUs still shows the host's cores in the mask)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            count = min(count, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, count)


def _explicit_threads() -> int | None:
    explicit = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(explicit) if explicit.isdigit() and int(explicit) > 0 else None


def embedding_threads() -> int:
    """Threads one embedding call uses: OMP_NUM_THREADS when set, else every usable CPU but one
    (why: `ingest.torch_embedder._configure_torch_threads`)."""
    return _explicit_threads() or max(1, usable_cpus() - 1)


def lone_query_threads() -> int:
    """Threads for a question embedded while no other answer is in flight: every usable CPU,
    since nothing else wants them then; OMP_NUM_THREADS when set (the user's word holds)."""
    return _explicit_threads() or usable_cpus()
