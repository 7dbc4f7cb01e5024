import wit_world

class WitWorld(wit_world.WitWorld):
    def add(self, a: int, b: int) -> int:
        return (a + b + 2**31) % 2**32 - 2**31
