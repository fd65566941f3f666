"""The model families BreastUSAI knows: the built-in five, plus any a plug-in or a test registers.

Built-in families are imported on first use (their modules are light: options and names; each
imports torch only when it trains or runs), so asking what families exist costs milliseconds.
"""

from __future__ import annotations

import importlib

from ..errors import UsageError
from .family import CLASSIFIER, SEGMENTATION, ModelFamily

#: module holding ``FAMILY`` for each built-in family, in the order the CLI lists them
BUILT_IN = (
    "BreastUSAITraining.segmentation.family",
    "BreastUSAITraining.classification.family",
    "BreastUSAITraining.mupnet.family",
    "BreastUSAITraining.dlum.family",
    "BreastUSAITraining.radiomics.family",
)

_FAMILIES: dict[str, ModelFamily] = {}
_loaded = False


def register_family(family: ModelFamily) -> ModelFamily:
    """Add (or replace) a family; returns it. Its ``name`` and ``task`` must be new or its own."""
    if not family.name or not family.task or family.role not in (SEGMENTATION, CLASSIFIER):
        raise ValueError(f"{type(family).__name__}: a family needs a name, a task and role {SEGMENTATION} or {CLASSIFIER}")
    _load_built_in()
    for other in _FAMILIES.values():
        if other.task == family.task and other.name != family.name:
            raise ValueError(f"task {family.task!r} is already the {other.name!r} family's")
    _FAMILIES[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Remove a family (tests that register a toy family clean up with this)."""
    _FAMILIES.pop(name, None)


def _load_built_in() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILT_IN:
        family = importlib.import_module(module).FAMILY
        _FAMILIES.setdefault(family.name, family)


def families(role: str | None = None) -> list[ModelFamily]:
    """Every registered family (of ``role`` when given), built-in ones first."""
    _load_built_in()
    return [f for f in _FAMILIES.values() if role is None or f.role == role]


def family_named(name: str) -> ModelFamily:
    _load_built_in()
    if name not in _FAMILIES:
        raise UsageError(f"unknown model family {name!r}; known: {', '.join(_FAMILIES)}")
    return _FAMILIES[name]


def family_for_task(task: str, source: object = None) -> ModelFamily:
    """The family whose bundles record ``task`` (UsageError naming ``source`` when none)."""
    for family in families():
        if family.task == task:
            return family
    where = f"{source}: " if source is not None else ""
    raise UsageError(f"{where}no model family runs {task!r} models (known: {', '.join(f.task for f in families())})")


def task_words(task: str) -> str:
    """A task in words ("MUP-Net prototype classifier"); the task itself when no family has it."""
    try:
        return family_for_task(task).words or task
    except UsageError:
        return task
