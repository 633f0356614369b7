"""The step graph of a FlowSpec class, read from its source and checked when the class is defined.

Every ``@step`` method must end in ``self.next(...)`` (except ``end``), name only steps that
exist, and the flow must have ``start`` and ``end``. A mistake raises ``DefinitionError`` as the
module is imported, naming the step.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any

from headwater.errors import DefinitionError


@dataclass
class StepNode:
    name: str
    doc: str
    is_join: bool
    # Transitions found in the source: each is (targets, foreach attribute or None).
    transitions: list[tuple[list[str], str | None]] = field(default_factory=list)
    checked: bool = False  # False when the source was not available

    @property
    def targets(self) -> list[str]:
        return self.transitions[0][0] if self.transitions else []

    @property
    def foreach(self) -> str | None:
        return self.transitions[0][1] if self.transitions else None

    @property
    def kind(self) -> str:
        if self.name == "end":
            return "end"
        if self.foreach:
            return "foreach"
        if len(self.targets) > 1:
            return "split"
        return "join" if self.is_join else "linear"


def is_step(fn: Any) -> bool:
    return callable(fn) and getattr(fn, "_headwater_step", False) is True


def step_functions(cls: type) -> dict[str, Any]:
    """``@step`` methods by name, in definition order (base classes first)."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if is_step(value):
                found[name] = value
    return found


def _takes_inputs(fn: Any) -> bool:
    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(params) >= 2


def _next_calls(fn: Any) -> list[tuple[list[str], str | None, int]] | None:
    """``self.next(...)`` calls in the method's source: (targets, foreach, line); None when
    the source cannot be read (a class defined interactively)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    func = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None
    )
    if func is None:
        return None
    self_name = func.args.args[0].arg if func.args.args else "self"
    calls = []
    for node in ast.walk(func):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "next"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == self_name
        ):
            continue
        targets = []
        for arg in node.args:
            if (
                isinstance(arg, ast.Attribute)
                and isinstance(arg.value, ast.Name)
                and arg.value.id == self_name
            ):
                targets.append(arg.attr)
            else:
                targets.append("<" + ast.unparse(arg) + ">")
        foreach = None
        for kw in node.keywords:
            if kw.arg == "foreach":
                foreach = (
                    kw.value.value
                    if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
                    else "<" + ast.unparse(kw.value) + ">"
                )
        calls.append((targets, foreach, node.lineno))
    return calls


@dataclass
class FlowGraph:
    flow: str
    nodes: dict[str, StepNode]

    def __getitem__(self, name: str) -> StepNode:
        return self.nodes[name]

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def describe(self) -> str:
        """A readable listing of the steps (``python flow.py show``)."""
        lines = []
        for node in self.nodes.values():
            head = f"Step {node.name}"
            if node.is_join:
                head += " (join)"
            lines.append(head)
            if node.doc:
                lines.extend("    " + d for d in node.doc.strip().splitlines())
            if node.name == "end":
                lines.append("    => (end of flow)")
            elif node.foreach:
                lines.append(f"    => {', '.join(node.targets)} (foreach {node.foreach})")
            elif node.targets:
                lines.append(f"    => {', '.join(node.targets)}")
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def build_graph(cls: type) -> FlowGraph:
    """Read and check the step graph; raises DefinitionError naming the step at fault."""
    flow = cls.__name__
    steps = step_functions(cls)
    nodes: dict[str, StepNode] = {}
    problems: list[str] = []
    for name, fn in steps.items():
        node = StepNode(name, inspect.getdoc(fn) or "", _takes_inputs(fn))
        calls = _next_calls(fn)
        if calls is not None:
            node.checked = True
            node.transitions = [(t, f) for t, f, _ in calls]
            distinct = {(tuple(t), f) for t, f, _ in calls}
            if name == "end":
                if calls:
                    problems.append(
                        f"step 'end' calls self.next() (line {calls[0][2]}); "
                        "'end' is the last step and must not"
                    )
            elif not calls:
                problems.append(
                    f"step {name!r} never calls self.next(); end it with e.g. self.next(self.end)"
                )
            elif len(distinct) > 1:
                problems.append(
                    f"step {name!r} calls self.next() with different targets "
                    f"({'; '.join(', '.join(t) for t, _ in distinct)}); a step has one transition"
                )
            for targets, foreach, line in calls:
                if not targets:
                    problems.append(f"step {name!r} calls self.next() with no step (line {line})")
                for t in targets:
                    if t not in steps:
                        known = ", ".join(steps)
                        problems.append(
                            f"step {name!r} calls self.next() with an unknown step {t!r} "
                            f"(line {line}; steps: {known})"
                        )
                if foreach is not None and len(targets) != 1:
                    problems.append(
                        f"step {name!r}: a foreach (foreach={foreach!r}) goes to exactly one step"
                    )
        nodes[name] = node
    if "start" not in steps:
        problems.append("the flow has no 'start' step; add `@step def start(self): ...`")
    if "end" not in steps:
        problems.append("the flow has no 'end' step; add `@step def end(self): ...`")
    for node in nodes.values():
        if node.name in ("start",) and node.is_join:
            problems.append("step 'start' cannot be a join step (it takes no inputs)")
    if not problems:
        problems.extend(_check_reachability(nodes))
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise DefinitionError(
            f"flow {flow!r} is invalid for {len(problems)} "
            f"reason{'s' if len(problems) > 1 else ''}:\n{lines}"
        )
    return FlowGraph(flow, nodes)


def _check_reachability(nodes: dict[str, StepNode]) -> list[str]:
    if not all(n.checked for n in nodes.values()):
        return []
    out = []
    seen: set[str] = set()
    todo = ["start"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for t in nodes[name].targets:
            todo.append(t)
    for name, node in nodes.items():
        if name not in seen:
            out.append(f"step {name!r} is never reached from 'start'")
        elif node.is_join and not any(
            n.kind in ("split", "foreach") for n in nodes.values() if n.name in seen
        ):
            out.append(f"step {name!r} takes inputs (a join) but the flow never splits")
    return out
