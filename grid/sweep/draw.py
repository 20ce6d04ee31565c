"""双随机: the stratified random draw of subjects and of officers, repeatable from its seed."""

from __future__ import annotations

import hashlib
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

import msgspec

from grid.subjects import Subject

T = TypeVar("T")


def inputs_digest(inputs: object) -> str:
    """SHA-256 of the inputs in a canonical JSON form: an auditor compares it before repeating a draw."""
    return hashlib.sha256(msgspec.json.encode(inputs, order="sorted")).hexdigest()


def draw_subjects(
    subjects: Iterable[Subject], shares: Mapping[int, float], rng: random.Random
) -> list[Subject]:
    """Per risk level, ⌈share × n⌉ subjects drawn without replacement, from a list sorted by id so that
    only the seed decides the draw."""
    strata: dict[int, list[Subject]] = defaultdict(list)
    for subject in sorted(subjects, key=lambda s: s.id):
        strata[subject.risk].append(subject)
    drawn: list[Subject] = []
    for risk in sorted(strata):
        stratum = strata[risk]
        drawn += rng.sample(stratum, min(len(stratum), math.ceil(shares.get(risk, 0.0) * len(stratum))))
    return drawn


def shuffled(items: Sequence[T], rng: random.Random) -> list[T]:
    out = list(items)
    rng.shuffle(out)
    return out
