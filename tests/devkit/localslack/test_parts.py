"""Forwarding to parts: attributes read and written on the part, methods bound to it."""

from __future__ import annotations

from devkit.localslack.parts import ForwardedMethod, SharedAttribute


class Part:
    def __init__(self) -> None:
        self.name = "part"
        self.items: list[str] = []

    def add(self, item: str, *, twice: bool = False) -> int:
        """Add ``item`` (twice if asked); return how many there are."""
        self.items.extend([item] * (2 if twice else 1))
        return len(self.items)


class Facade:
    name = SharedAttribute[str]("_part")
    things = SharedAttribute[list[str]]("_part", "items")
    add = ForwardedMethod("_part", Part.add)

    def __init__(self) -> None:
        self._part = Part()


def test_attributes_live_on_the_part() -> None:
    facade = Facade()
    assert facade.name == "part"
    facade.name = "renamed"
    assert facade._part.name == "renamed"
    assert facade.things is facade._part.items


def test_methods_are_the_parts_bound_methods() -> None:
    facade = Facade()
    assert facade.add("a", twice=True) == 2
    assert facade.things == ["a", "a"]
    assert facade.add.__self__ is facade._part  # type: ignore[attr-defined]
    assert Facade.add.__doc__ == Part.add.__doc__
