"""`copied`: what `copy.deepcopy` makes, by pickling, in about a third of its CPU.

The sandbox copies its world on every reset, save, restore and look from a test (`Sandbox.state`,
`Sandbox.faults`): `copy.deepcopy` walks every string and number in Python (a random generator's 625-number
state one call each), pickle does it in C. Both copy objects through `__reduce_ex__` and keep what is shared
shared (two references to one list stay two references to one new list), and a random generator's copy draws
what it would have drawn; what deepcopy hands over as it is
(functions and classes) or takes from its memo (`kept`) is handed over as it is here too. What neither can
copy (a lock not in `kept`) raises, as deepcopy does.
"""

from __future__ import annotations

import io
import pickle
import random
import types
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_HANDED_OVER = (types.FunctionType, types.BuiltinFunctionType, type)
"""What deepcopy treats as atomic beyond the immutable built-in values, which pickle copies itself."""


def copied(value: T, kept: Mapping[int, Any] | None = None) -> T:
    """A deep copy of `value`, independent of it; an object whose `id` is a key of `kept` is replaced by
    its value there (as in deepcopy's `memo`: a copy's own lock, clock, ...)."""
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, kept or {})
    pickler.dump(value)
    buffer.seek(0)
    return _Unpickler(buffer, pickler.lent).load()  # type: ignore[no-any-return]


def _lent(number: int) -> Any:
    """The name a copy's pickle calls for an object handed over; its unpickler answers it (`find_class`)."""
    raise AssertionError("only the unpickler of `copied` loads what names this")


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, kept: Mapping[int, Any]) -> None:
        super().__init__(file, pickle.HIGHEST_PROTOCOL)
        self._kept = kept
        self.lent: list[Any] = []

    def reducer_override(self, obj: Any) -> Any:
        """Asked of every object but the built-in values (str, int, dict, list, tuple, ...), which pickle
        copies without asking; an object met again is taken from pickle's memo, not asked of twice."""
        if id(obj) in self._kept:
            self.lent.append(self._kept[id(obj)])
        elif isinstance(obj, _HANDED_OVER) and obj is not _lent:  # pickled by its name, as the call's
            self.lent.append(obj)
        elif type(obj) is random.Random:  # its 625 numbers copied at once, not pickled one by one
            twin = random.Random()
            twin.setstate(obj.getstate())
            self.lent.append(twin)
        else:
            return NotImplemented
        return _lent, (len(self.lent) - 1,)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, lent: list[Any]) -> None:
        super().__init__(file)
        self._lent = lent

    def find_class(self, module_name: str, global_name: str) -> Any:
        if (module_name, global_name) == (__name__, _lent.__name__):
            return self._lent.__getitem__
        return super().find_class(module_name, global_name)
