"""conf-values in Python (componentize-py): the world `patina:conformance/pure`,
every kind of WIT value across the boundary, answering exactly as the Rust child."""

import math

import wit_world
from wit_world.exports import values as v
from componentize_py_types import Err, Some


def wrap_s32(n):
    return (n + 2**31) % 2**32 - 2**31


class WitWorld(wit_world.WitWorld):
    def add(self, a, b):
        return wrap_s32(a + b)


NEXT = {v.Color.RED: v.Color.GREEN, v.Color.GREEN: v.Color.BLUE, v.Color.BLUE: v.Color.RED}


class Values(wit_world.exports.Values):
    def echo_bool(self, b):
        return b

    def echo_ints(self, a, b, c, d, e, f, g, h):
        return (a, b, c, d, e, f, g, h)

    def echo_floats(self, a, b):
        return (a, b)

    def echo_char(self, c):
        return c

    def echo_string(self, s):
        return s

    def echo_bytes(self, b):
        return b

    def reverse(self, xs):
        return list(reversed(xs))

    def echo_record(self, s):
        return s

    def area(self, s):
        if isinstance(s, v.Shape_Circle):
            return math.pi * s.value * s.value
        if isinstance(s, v.Shape_Rect):
            return abs(float(s.value.x) * float(s.value.y))
        return 0.0

    def next_color(self, c):
        return NEXT[c]

    def toggle_exec(self, p):
        return p ^ v.Perms.EXEC

    def maybe_div(self, a, b):
        return None if b == 0 else a // b

    def nested_option(self, x):
        if x is None:
            return None
        return Some(None) if x == 0 else Some(x)

    def checked_div(self, a, b):
        if b == 0:
            raise Err("division by zero")
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q

    def even(self, n):
        if n % 2:
            raise Err(None)

    def swap(self, t):
        return (t[1], t[0])

    def nothing(self):
        return None

    def boom(self, message):
        raise RuntimeError(message)
