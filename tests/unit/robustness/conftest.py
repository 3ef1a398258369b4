"""Tiny models train fastest on one thread; on a 2-core CI machine running two test workers,
torch's default of one thread per core makes them contend and run ten times slower."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
