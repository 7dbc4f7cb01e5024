"""conf-kvstore in Python (componentize-py): the `kv` toy's answers and errors.
A kv error arrives as `Err(message)` raised by the import and leaves the
export as the same `Err`, as the Rust child's `?` does."""

import wit_world
from wit_world.imports import kv


def text(value):
    return None if value is None else bytes(value).decode("utf-8", "replace")


class WitWorld(wit_world.WitWorld):
    def put_get(self, ns, key, value):
        kv.set(ns, key, value.encode())
        return text(kv.get(ns, key))

    def get(self, ns, key):
        return text(kv.get(ns, key))

    def churn(self, ns):
        for key in ["a", "b", "c"]:
            kv.set(ns, key, key.encode())
        deleted = kv.delete(ns, "b")
        keys = kv.keys(ns, "")
        cleared = kv.clear(ns)
        return (keys, deleted, cleared)

    def too_long_key(self):
        kv.set("ns", "k" * 2000, b"v")
