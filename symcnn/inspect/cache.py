"""The inspection cache: what inspecting a network computes once and keeps, owned by the network.

Everything kept depends only on the network's graph (never on parameter values), so it
stays valid while the network trains; ``clear()`` frees it.

>>> import symcnn as sc
>>> net = sc.presets.network_a()
>>> len(net.inspection_cache)
0
>>> _ = sc.inspect.scalar_roles(net.graph, net.inspection_cache)
>>> net.inspection_cache.names(), net.inspection_cache.clear(), len(net.inspection_cache)
(['roles'], None, 0)
"""


class InspectionCache:
    """Values computed once per network by the inspection code, kept by name.

    >>> cache = InspectionCache()
    >>> cache.get("answer", lambda: 42), cache.get("answer", lambda: 0)
    (42, 42)
    """

    def __init__(self):
        self._values = {}

    def get(self, name: str, build):
        """The value kept under ``name``, built by calling ``build()`` the first time."""
        if name not in self._values:
            self._values[name] = build()
        return self._values[name]

    def names(self) -> list:
        """The names of the values kept, in the order they were built."""
        return list(self._values)

    def clear(self) -> None:
        """Forget every kept value (they are rebuilt on next use)."""
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"InspectionCache({', '.join(self._values) or 'empty'})"
