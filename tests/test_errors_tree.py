"""The error tree drawn in ``headwater.errors``' docstring is the real class hierarchy, and
every exception Headwater defines is either drawn there or deliberately left out."""

from __future__ import annotations

import importlib
import pkgutil
import re

import headwater
import headwater.errors as errors

# Exceptions defined outside headwater.errors on purpose: they never reach a user's code
# (caught by the module's caller) or are the CLI's click exception. The docstring says so.
NOT_DRAWN = {
    "headwater.cli.app.CliError",
    "headwater.engine.isolated.ChildFailed",
    "headwater.engine.execute.runner.ExecutionLost",
    "headwater.engine.kinds.base.NotBindable",
    "headwater.types.families.base.Refused",
    "headwater.types.json_decode.Shape",
    "headwater.types.pickled.Unsupported",
}

# "    HeadwaterError" (the root) or "    │   ├── NotFoundError   description"
_CLASS_LINE = re.compile(r"^(?:    (?P<root>[A-Z]\w+)|[ │]*[├└]── (?P<name>[A-Z]\w+))")
_ALSO = re.compile(r"\(also: ([\w, ]+)[;)]")


def drawn_tree() -> dict[str, tuple[str | None, set[str]]]:
    """name -> (drawn parent, names given after ``also:``), read from the docstring."""
    doc = errors.__doc__ or ""
    block = doc.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    tree: dict[str, tuple[str | None, set[str]]] = {}
    stack: list[str] = []
    last = ""
    for line in block.splitlines():
        m = _CLASS_LINE.match(line)
        if m:
            name = m["root"] or m["name"]
            depth = (m.start("name") - 4) // 4 if m["name"] else 0  # 4 columns a level
            del stack[depth:]
            tree[name] = (stack[-1] if stack else None, set())
            stack.append(name)
            last = name
        for also in _ALSO.findall(line):
            tree[last][1].update(n.strip() for n in also.split(","))
    return tree


def all_headwater_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(headwater.__path__, "headwater."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


def test_drawn_tree_matches_the_classes() -> None:
    tree = drawn_tree()
    assert "HeadwaterError" in tree and "MissingBlob" in tree, tree  # the parser found it
    for name, (parent, also) in tree.items():
        cls = getattr(errors, name, None)
        assert isinstance(cls, type), f"{name} is drawn but not defined in headwater.errors"
        assert cls.__module__ == "headwater.errors", name
        assert issubclass(cls, errors.HeadwaterError), name
        bases = {b.__name__ for b in cls.__bases__}
        drawn = ({parent} if parent else {"Exception"}) | also
        assert bases == drawn, f"{name}: drawn under {sorted(drawn)}, its bases are {bases}"


def test_every_exception_headwater_defines_is_drawn_or_deliberately_left_out() -> None:
    drawn = set(drawn_tree())
    missing = []
    for module_name in all_headwater_modules():
        module = importlib.import_module(module_name)
        for obj in vars(module).values():
            if not (isinstance(obj, type) and issubclass(obj, BaseException)):
                continue
            if obj.__module__ != module_name or obj.__name__.startswith("_"):
                continue
            where = f"{module_name}.{obj.__name__}"
            if module_name.startswith("headwater.api."):
                assert issubclass(obj, errors.UserInputError) or obj.__name__ == "BodyTooLarge", (
                    where
                )
                continue
            if module_name == "headwater.errors":
                if obj.__name__ not in drawn:
                    missing.append(where)
            elif where not in NOT_DRAWN:
                missing.append(where)
    assert missing == [], (
        "define these in headwater.errors and draw them in its tree (or list them as "
        f"deliberately internal): {missing}"
    )


def test_errors_users_catch_are_exported_from_the_package_root() -> None:
    for name in (
        "StorageError",
        "DatabaseUnavailable",
        "StorageFull",
        "ConflictError",
        "TaskTimeoutError",
        "AuthError",
        "NotFoundError",
        "UserInputError",
    ):
        assert getattr(headwater, name) is getattr(errors, name), name
        assert name in headwater.__all__, name


def test_modules_that_raise_them_use_the_same_classes() -> None:
    from headwater.api import exposure
    from headwater.engine.register import snapshots, uploads
    from headwater.flows import _runtime
    from headwater.storage import blobs, db, faults

    assert faults.DatabaseUnavailable is errors.DatabaseUnavailable
    assert faults.StorageFull is errors.StorageFull
    assert db.Busy is errors.Busy
    assert blobs.MissingBlob is errors.MissingBlob
    assert snapshots.SnapshotConflict is errors.SnapshotConflict
    assert uploads.UploadTooLarge is errors.UploadTooLarge
    assert _runtime.FlowError is errors.FlowError
    assert exposure.HostError is errors.HostError
