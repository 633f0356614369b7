"""Headwater's exceptions.

Every error a user can cause says what is wrong and how to fix it. Every exception class
Headwater raises on purpose is defined here (modules deeper down import it from here, so
this module imports nothing of Headwater's and stays cheap to import). The tree, which
``tests/test_errors_tree.py`` holds against the real classes (``also:`` names a second base)::

    HeadwaterError
    ├── DefinitionError          a task, workflow or artifact declared wrongly (raised at import)
    ├── UserInputError           bad input at the edge; nothing was stored
    │   ├── NotFoundError        unknown workflow, artifact, version, execution or event
    │   ├── ConflictError        contradicts what is stored (an event resent with other
    │   │                        content, cancelling an execution that has already ended)
    │   ├── TypeMismatchError    a value of the wrong type crossed a boundary
    │   ├── MissingInputError    a required input was not given
    │   ├── NoMatchError         an artifact query matched no version
    │   ├── PartitionError       an undeclared partition key, or one left unbound
    │   ├── UploadTooLarge       uploaded code is over the snapshot size limit
    │   ├── FlowError            a FlowSpec flow went wrong (a step without self.next(), ...)
    │   └── HostError            ``headwater up --host`` off loopback without API auth
    │                            (also: ValueError)
    ├── ExecutionFailedError     ``Execution.wait(raise_on_failure=True)`` on a failed execution
    ├── TaskTimeoutError         a task ran past its ``timeout``
    ├── MapItemError             an item of ``headwater.map`` failed (after its retries)
    ├── SnapshotError            a registered code snapshot cannot be loaded
    │   └── SnapshotConflict     its module is already imported here from other code
    ├── AuthError                the server refused the API token (401) or its role/project (403)
    └── StorageError             the metadata database or blob store is unusable
        ├── DatabaseUnavailable  unreachable, restarting, locked: the same call can work later
        ├── StorageFull          no space left for the database or the blob store
        ├── Busy                 ``Database.transaction_now``: another writer holds the lock
        └── MissingBlob          no blob under a key the metadata refers to
                                 (also: NotFoundError; a 404 over HTTP)

Not drawn: the HTTP layer's own refusals (``headwater.api.errors.ApiError`` and its
subclasses, all ``UserInputError``; ``Conflict`` is also a ``ConflictError``), which stay in
the API package and become 4xx answers there; the CLI's ``CliError`` (a click exception that
prints a message and exits non-zero); and private exceptions that never leave the module
that raises them (their names start with ``_`` or they are caught by the caller).
"""

from __future__ import annotations


class HeadwaterError(Exception):
    """Base class of every error Headwater raises on purpose."""


class DefinitionError(HeadwaterError):
    """A task, workflow, artifact or launch plan was declared wrongly."""


class UserInputError(HeadwaterError):
    """Input refused at the edge. Refusing it changed nothing stored."""


class NotFoundError(UserInputError):
    """An entity named by the user does not exist."""


class ConflictError(UserInputError):
    """The input contradicts what is stored, e.g. an event's source and id sent again with
    another payload, an event id that several sources used, named without its source, or
    cancelling an execution that has already ended."""


class TypeMismatchError(UserInputError):
    """A value's type does not match the declared type."""


class MissingInputError(UserInputError):
    """A required input has no value and no default."""


class NoMatchError(UserInputError):
    """An artifact query matched no version."""


class PartitionError(UserInputError):
    """A partition key is not declared by the artifact, or was left without a value."""


class UploadTooLarge(UserInputError):
    """The uploaded code is over the snapshot size limit."""


class FlowError(UserInputError):
    """A flow went wrong while running (a step forgot self.next(), a join mismatch...)."""


class HostError(UserInputError, ValueError):
    """The HTTP API may listen on a non-loopback address only when auth is configured.

    Also a ``ValueError``, which it was before it joined the tree."""


class ExecutionFailedError(HeadwaterError):
    """An execution that was waited on ended in failure."""

    def __init__(self, message: str, execution_id: str = "", traceback: str = "") -> None:
        super().__init__(message)
        self.execution_id = execution_id
        self.traceback = traceback


class StorageError(HeadwaterError):
    """The metadata database or the blob store cannot be used."""


class DatabaseUnavailable(StorageError):
    """The metadata database cannot do the work now (unreachable, restarting, locked, a
    transaction conflict): the same request can succeed a little later."""


class StorageFull(StorageError):
    """No space is left for the metadata database or the blob store."""


class Busy(StorageError):
    """``Database.transaction_now``: the write would have to wait for another writer."""


class MissingBlob(NotFoundError, StorageError):
    """No blob is stored under the key (a 404 over HTTP; still a ``StorageError`` for the
    engine, which found a reference to it in the metadata)."""


class SnapshotError(HeadwaterError):
    """A registered snapshot cannot be loaded (missing, malformed, or not importable here)."""


class SnapshotConflict(SnapshotError):
    """The module is already imported in this process from different code."""


class TaskTimeoutError(HeadwaterError):
    """A task ran past its ``timeout``."""


class MapItemError(HeadwaterError):
    """An item of ``headwater.map`` failed after its retries; the message names the item,
    its node and the error."""


class AuthError(HeadwaterError):
    """The server refused the API token: missing, unknown or revoked (401), or its role or
    project does not allow this request (403)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status
