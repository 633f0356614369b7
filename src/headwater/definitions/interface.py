"""A task's or workflow's typed interface, read from its signature and annotations."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, get_args, get_origin

from headwater.definitions.artifact import (
    Artifact,
    ArtifactBinding,
    ArtifactQuery,
    InputRef,
)
from headwater.errors import HeadwaterError

MISSING: Any = inspect.Parameter.empty


@dataclass(frozen=True)
class InputSpec:
    """One input: its name, type (``Any`` when unannotated) and default."""

    name: str
    type: Any
    default: Any = MISSING

    @property
    def required(self) -> bool:
        return self.default is MISSING

    @property
    def query(self) -> ArtifactQuery | None:
        """The artifact query this input defaults to, if any."""
        return self.default if isinstance(self.default, ArtifactQuery) else None


@dataclass(frozen=True)
class OutputSpec:
    """One output: its name (``o0`` for a single unnamed output), type and artifact binding."""

    name: str
    type: Any
    binding: ArtifactBinding | None = None


@dataclass(frozen=True)
class Interface:
    inputs: dict[str, InputSpec]
    outputs: dict[str, OutputSpec]
    named_tuple: type | None = None
    problems: list[str] = field(default_factory=list)
    # Outputs known only when a run ends (a FlowSpec's data at ``end``): the body returns a
    # mapping of output name -> value, each stored as ``Any``.
    dynamic_outputs: bool = False


def is_named_tuple(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields")


def split_annotated(tp: Any) -> tuple[Any, ArtifactBinding | None]:
    """``Annotated[T, A(...)]`` -> (T, binding); a bare artifact means "no partitions bound"."""
    if get_origin(tp) is not Annotated:
        return tp, None
    base, *extras = get_args(tp)
    binding = None
    for extra in extras:
        if isinstance(extra, ArtifactBinding):
            binding = extra
        elif isinstance(extra, Artifact):
            binding = ArtifactBinding(extra, dict(extra.default_partitions), None)
    return base, binding


def _hints(obj: Any, problems: list[str], what: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except HeadwaterError:
        raise  # e.g. Daily(country=...) evaluated late: its own message is the precise one
    except Exception as exc:
        problems.append(
            f"cannot resolve the type annotations of {what}: {exc}. Define the "
            "types at module level so they can be resolved by name"
        )
        return {}


def read_interface(fn: Callable[..., Any], what: str) -> Interface:
    """Inputs from the parameters, outputs from the return annotation; problems collected."""
    problems: list[str] = []
    hints = _hints(fn, problems, what)
    inputs: dict[str, InputSpec] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            problems.append(f"parameter {p.name!r} is *args/**kwargs; declare every input by name")
            continue
        tp, binding = split_annotated(hints.get(p.name, Any))
        if binding is not None:
            problems.append(
                f"input {p.name!r} is annotated with artifact "
                f"{binding.artifact.name!r}; to consume an artifact give the input "
                f"a default of {binding.artifact.name}.query(...)"
            )
        inputs[p.name] = InputSpec(p.name, tp, p.default)

    outputs: dict[str, OutputSpec] = {}
    named_tuple = None
    ret = hints.get("return", Any if "return" not in hints else None)
    if "return" in hints and ret is not type(None) and ret is not None:
        base, binding = split_annotated(ret)
        if is_named_tuple(base):
            named_tuple = base
            for name, ftp in _hints(base, problems, f"{what}'s NamedTuple").items():
                ftype, fbinding = split_annotated(ftp)
                outputs[name] = OutputSpec(name, ftype, fbinding)
        else:
            outputs["o0"] = OutputSpec("o0", base, binding)
    elif "return" not in hints:
        outputs["o0"] = OutputSpec("o0", Any, None)

    for out in outputs.values():
        if out.binding is None:
            continue
        refs = [*out.binding.partitions.values(), out.binding.time_partition]
        for ref in refs:
            if isinstance(ref, InputRef) and ref.name not in inputs:
                problems.append(
                    f"output {out.name!r} binds artifact {out.binding.artifact.name!r} to "
                    f"Inputs.{ref.name}, but there is no input {ref.name!r} "
                    f"(inputs: {', '.join(inputs) or 'none'})"
                )
    return Interface(inputs, outputs, named_tuple, problems)
