"""Forwarding to parts: how a facade exposes what its parts hold and do, fully typed.

``users = SharedAttribute[dict[str, User]]("_workspace")`` makes ``facade.users`` read
and write ``facade._workspace.users``; ``add_user = ForwardedMethod("_workspace",
Workspace.add_user)`` makes ``facade.add_user`` the part's bound method, so type
checkers see the part's own signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, cast, overload

__all__ = ["ForwardedMethod", "SharedAttribute"]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


class SharedAttribute(Generic[T]):
    """An attribute that lives on one of the owner's parts (reads and writes go there).

    ``name`` is the part's attribute, by default the same as the owner's.
    """

    def __init__(self, part: str, name: str | None = None) -> None:
        self._part = part
        self._name = name or ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = self._name or name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> T | Self:
        if obj is None:
            return self
        return cast(T, getattr(getattr(obj, self._part), self._name))

    def __set__(self, obj: object, value: T) -> None:
        setattr(getattr(obj, self._part), self._name, value)


class ForwardedMethod(Generic[P, R]):
    """A method that one of the owner's parts implements, signature and docstring included."""

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self._part = part
        self._name = method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Callable[P, R]: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Callable[P, R] | Self:
        if obj is None:
            return self
        return cast(Callable[P, R], getattr(getattr(obj, self._part), self._name))
