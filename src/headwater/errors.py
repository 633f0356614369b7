"""Headwater's exceptions.

Every error a user can cause says what is wrong and how to fix it. The tree::

    HeadwaterError
    ├── DefinitionError        a task, workflow or artifact declared wrongly (raised at import)
    ├── UserInputError         bad input at the edge; nothing was stored
    │   ├── NotFoundError      unknown workflow, artifact, version, execution or event
    │   ├── ConflictError      contradicts what is stored (an event resent with other
    │   │                      content, cancelling an execution that has already ended)
    │   ├── TypeMismatchError  a value of the wrong type crossed a boundary
    │   ├── MissingInputError  a required input was not given
    │   ├── NoMatchError       an artifact query matched no version
    │   └── PartitionError     an undeclared partition key, or one left unbound
    ├── ExecutionFailedError   ``Execution.wait(raise_on_failure=True)`` on a failed execution
    ├── AuthError              the server refused the API token (401) or its role/project (403)
    └── StorageError           the metadata database or blob store is unusable
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


class ExecutionFailedError(HeadwaterError):
    """An execution that was waited on ended in failure."""

    def __init__(self, message: str, execution_id: str = "", traceback: str = "") -> None:
        super().__init__(message)
        self.execution_id = execution_id
        self.traceback = traceback


class StorageError(HeadwaterError):
    """The metadata database or the blob store cannot be used."""


class TaskTimeoutError(HeadwaterError):
    """A task ran past its ``timeout``."""


class AuthError(HeadwaterError):
    """The server refused the API token: missing, unknown or revoked (401), or its role or
    project does not allow this request (403)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status
