"""conf-hello in Python (componentize-py): logs through the `log` toy."""

import wit_world
from wit_world.imports import log

LEVELS = [log.Level.TRACE, log.Level.DEBUG, log.Level.INFO, log.Level.WARN, log.Level.ERROR]


class WitWorld(wit_world.WitWorld):
    def greet(self, name):
        log.log(log.Level.INFO, f"greeting {name}")
        return f"hello, {name}!"

    def chatter(self, n):
        for i in range(n):
            log.log(LEVELS[i % len(LEVELS)], f"line {i}")
        return n
