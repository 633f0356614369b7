"""``FlowSpec``, ``@step`` and ``Parameter``: a FlowSpec class is one Headwater workflow.

When a subclass is defined its step graph is read and checked, and a ``WorkflowDef`` named after
the class is built (``MyFlow._headwater_workflow``): its inputs are the flow's Parameters and its
body runs the steps, each one recorded as a node whose outputs are the ``self.x`` values it set.
The execution's outputs are every artifact at ``end`` (parameters included).
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar

from headwater.definitions.entity import WorkflowDef
from headwater.errors import DefinitionError, UserInputError
from headwater.flows._graph import FlowGraph, build_graph

F = TypeVar("F", bound=Callable[..., Any])

_NO_VALUE: Any = inspect.Parameter.empty
_RESERVED = {"next", "input", "index", "merge_artifacts", "foreach_stack", "name"}


def step(fn: F) -> F:
    """Mark a method of a FlowSpec as a step. A step ends with ``self.next(...)``."""
    if not callable(fn):
        raise DefinitionError(
            f"@step decorates a method, got {fn!r}; put @step on a `def` in the FlowSpec class"
        )
    fn._headwater_step = True  # type: ignore[attr-defined]
    return fn


class Parameter:
    """A flow parameter: ``alpha = Parameter("alpha", default=0.5, help="learning rate")``.

    Read it as ``self.alpha`` in any step. Its type is ``type`` when given (values convert to
    it), else inferred from the default: a number default accepts any number unchanged (an int
    stays an int, a float is never truncated), bool and str defaults take that type; without
    a default and a type it is a string.
    """

    def __init__(
        self,
        name: str,
        default: Any = None,
        type: Any = None,
        help: str | None = None,
        required: bool = False,
        **kwargs: Any,
    ) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise DefinitionError(
                f"Parameter name {name!r} must be a Python identifier (letters, digits, '_')"
            )
        self.name = name
        self.default = default
        self.type = type
        self.help = help or ""
        self.required = bool(required)
        self.options = kwargs

    @property
    def declared_type(self) -> Any:
        """The workflow input's type."""
        if self.type is not None:
            return self.type
        d = self.default
        if d is None or callable(d):
            return str
        if isinstance(d, bool):
            return bool
        if isinstance(d, int | float):
            return int | float
        if isinstance(d, str):
            return str
        return Any

    @property
    def inferred(self) -> bool:
        return self.type is None

    def convert(self, value: Any, where: str) -> Any:
        """A value from the command line or an event, converted by this parameter's rules."""
        return convert_value(value, self.declared_type, self.inferred, where)

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, default={self.default!r})"


def convert_value(value: Any, tp: Any, inferred: bool, where: str) -> Any:
    """Convert a CLI string or JSON payload value to a parameter's type (error names ``where``)."""

    def fail() -> UserInputError:
        name = getattr(tp, "__name__", None) or str(tp)
        return UserInputError(f"{where}: {value!r} cannot be converted to {name}")

    if tp is Any:
        return value
    if tp == int | float:
        if isinstance(value, bool):
            raise fail()
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                try:
                    return float(value)
                except ValueError:
                    raise fail() from None
        raise fail()
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "y", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "n", "off"):
            return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise fail()
    if tp is str:
        if isinstance(value, str):
            return value
        if inferred and isinstance(value, int | float | bool):
            raise fail()
        return str(value) if isinstance(value, int | float) else _raise(fail())
    if tp is int:
        if isinstance(value, bool):
            raise fail()
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                raise fail() from None
        raise fail()
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise fail() from None
        raise fail()
    if callable(tp) and isinstance(value, str):
        try:
            return tp(value)
        except Exception:
            raise fail() from None
    return value


def _raise(exc: Exception) -> Any:
    raise exc


class FlowWorkflowDef(WorkflowDef):
    """The workflow a FlowSpec class compiles into."""

    flow_class: type[FlowSpec]


class FlowSpec:
    """Base class of a flow::

    class HelloFlow(FlowSpec):
        @step
        def start(self):
            self.greeting = "hello"
            self.next(self.end)

        @step
        def end(self):
            print(self.greeting)

    if __name__ == "__main__":
        HelloFlow()          # python hello.py run | show | deploy
    """

    _headwater_workflow: ClassVar[FlowWorkflowDef]
    _headwater_graph: ClassVar[FlowGraph]
    _headwater_settings: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._headwater_graph = build_graph(cls)
        cls._headwater_workflow = _make_workflow(cls)
        inherited_queue = cls._headwater_settings.get("queue")  # a base class's @queue
        if inherited_queue:
            cls._headwater_workflow.queue = inherited_queue

    @classmethod
    def _headwater_deploy(cls) -> Any:
        """What ``headwater register FILE --activate`` does for a flow: deploy it (its own
        project/branch, triggers and schedule)."""
        from headwater.flows._compile import deploy

        return deploy(cls)

    def __init__(self, use_cli: bool = True) -> None:
        if use_cli:
            from headwater.flows._cli import main

            sys.exit(main(type(self), sys.argv[1:]))
        _init_state(self, {}, {})

    # -- inside a step -----------------------------------------------------------------------
    def next(self, *steps: Any, foreach: str | None = None, **options: Any) -> None:
        """Go on to the next step(s): ``self.next(self.a)``, a static branch
        ``self.next(self.a, self.b)`` or a foreach ``self.next(self.a, foreach="items")``."""
        state = self.__dict__.get("_hw_step")
        name = state.name if state else "?"
        if state is None:
            raise UserInputError("self.next() is called from inside a running step")
        if state.transition is not None:
            raise UserInputError(f"step {name!r} called self.next() twice")
        if not steps:
            raise UserInputError(f"step {name!r} called self.next() without a step")
        targets = []
        for s in steps:
            target = getattr(s, "__name__", None)
            if target not in type(self)._headwater_graph:
                raise UserInputError(
                    f"step {name!r} called self.next() with {s!r}, which is not a step"
                )
            targets.append(target)
        if foreach is not None:
            if len(targets) != 1:
                raise UserInputError(f"step {name!r}: a foreach goes to exactly one step")
            if not isinstance(foreach, str) or foreach not in self.__dict__:
                raise UserInputError(
                    f"step {name!r}: foreach={foreach!r} must name an attribute set on self"
                )
        state.transition = (targets, foreach)

    @property
    def input(self) -> Any:
        """Inside a foreach: the item this branch handles."""
        state = self.__dict__.get("_hw_foreach")
        if state is None:
            raise AttributeError("self.input exists only inside a foreach")
        return state[1]

    @property
    def index(self) -> int | None:
        """Inside a foreach: the position of ``self.input`` in the list."""
        state = self.__dict__.get("_hw_foreach")
        return state[0] if state is not None else None

    def foreach_stack(self) -> list[tuple[int, Any]]:
        state = self.__dict__.get("_hw_foreach")
        return [state] if state is not None else []

    @property
    def name(self) -> str:
        return type(self).__name__

    def merge_artifacts(
        self,
        inputs: Any,
        exclude: list[str] | None = None,
        include: list[str] | None = None,
    ) -> None:
        """In a join: copy the branches' artifacts onto ``self``. Values that differ between
        branches must be set by hand first or excluded."""
        exclude_set = set(exclude or [])
        seen: dict[str, Any] = {}
        conflicts: set[str] = set()
        for inp in inputs:
            for name, value in inp._hw_artifacts.items():
                if name in exclude_set or (include is not None and name not in include):
                    continue
                if name in seen and not _same(seen[name], value):
                    conflicts.add(name)
                seen.setdefault(name, value)
        unresolved = sorted(n for n in conflicts if n not in self._hw_artifacts())
        if unresolved:
            raise UserInputError(
                f"merge_artifacts: the branches disagree on {', '.join(unresolved)}; set them "
                "on self before merging or pass exclude=[...]"
            )
        if include is not None:
            missing = [n for n in include if n not in seen]
            if missing:
                raise UserInputError(f"merge_artifacts: no branch has {', '.join(missing)}")
        for name, value in seen.items():
            if name not in conflicts and name not in self._hw_artifacts():
                setattr(self, name, value)

    # -- artifacts ---------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if name in self.__dict__.get("_hw_params", {}):
            raise UserInputError(f"{name!r} is a Parameter of the flow; it cannot be assigned")
        if name in _RESERVED:
            raise UserInputError(f"{name!r} is reserved by FlowSpec; choose another name")
        if self.__dict__.get("_hw_readonly"):
            raise UserInputError("the inputs of a join are read-only")
        self.__dict__[name] = value
        changed = self.__dict__.get("_hw_changed")
        if changed is not None and name not in changed:
            changed.append(name)

    def _hw_artifacts(self) -> dict[str, Any]:
        params = self.__dict__.get("_hw_params", {})
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_") and k not in params}


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


def _init_state(
    obj: FlowSpec,
    params: dict[str, Any],
    artifacts: dict[str, Any],
    foreach: tuple[int, Any] | None = None,
) -> None:
    d = obj.__dict__
    d["_hw_params"] = params
    d.update(params)
    d.update(artifacts)
    d["_hw_changed"] = []
    d["_hw_step"] = None
    d["_hw_foreach"] = foreach


def parameters_of(cls: type) -> dict[str, tuple[str, Parameter]]:
    """Parameters by their name: (class attribute, Parameter)."""
    out: dict[str, tuple[str, Parameter]] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Parameter):
                if value.name in out and out[value.name][0] != attr:
                    raise DefinitionError(
                        f"flow {cls.__name__!r}: two Parameters are named {value.name!r}; "
                        "give each Parameter its own name"
                    )
                out[value.name] = (attr, value)
    return out


def _make_workflow(cls: type[FlowSpec]) -> FlowWorkflowDef:
    params = parameters_of(cls)
    sig_params = []
    annotations: dict[str, Any] = {}
    for pname, (_, p) in params.items():
        if pname in cls._headwater_graph:
            raise DefinitionError(
                f"flow {cls.__name__!r}: Parameter {pname!r} has the name of a step; "
                "rename the Parameter or the step"
            )
        if p.required:
            default = _NO_VALUE
        elif callable(p.default):
            default = None  # a deploy-time default is computed when the run starts
        else:
            default = p.default
        tp = p.declared_type
        if default is None and tp is not Any:
            tp = tp | None
        sig_params.append(
            inspect.Parameter(pname, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=tp)
        )
        annotations[pname] = tp

    def run_flow(**values: Any) -> Any:
        from headwater.flows._runtime import run_flow as _run

        return _run(cls, values)

    run_flow.__signature__ = inspect.Signature(sig_params)  # type: ignore[attr-defined]
    run_flow.__annotations__ = annotations
    run_flow.__module__ = cls.__module__
    run_flow.__name__ = "_headwater_workflow"
    run_flow.__qualname__ = f"{cls.__qualname__}._headwater_workflow"
    run_flow.__doc__ = cls.__doc__
    wf = FlowWorkflowDef(run_flow, "workflow", name=cls.__name__)
    # The run's data at ``end`` are its outputs, known only when it ends.
    wf.interface = dataclasses.replace(wf.interface, outputs={}, dynamic_outputs=True)
    wf.flow_class = cls
    return wf


def iter_steps(cls: type[FlowSpec]) -> Iterator[str]:
    yield from cls._headwater_graph.nodes
