"""A lineage chain for the Lineage tab's tests: each run of ``next_prime`` consumes the latest
``prime`` version and produces the next one (version N+1 from version N)."""

from __future__ import annotations

from typing import Annotated

from headwater import Artifact, ModelCard, task, workflow

Prime = Artifact(name="prime")


def _after(n: int) -> int:
    k = n + 1
    while any(k % d == 0 for d in range(2, int(k**0.5) + 1)):
        k += 1
    return k


@task
def first_prime() -> Annotated[int, Prime]:
    return Prime.create_from(2, ModelCard("# prime\n\nvalue: 2\n"))


@workflow
def start_primes() -> int:
    return first_prime()


@task
def find_next_prime(previous: int) -> Annotated[int, Prime]:
    value = _after(previous)
    return Prime.create_from(value, ModelCard(f"# prime\n\nvalue: {value}\n"))


@workflow
def next_prime(previous: int = Prime.query()) -> int:
    return find_next_prime(previous=previous)
