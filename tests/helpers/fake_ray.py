"""An in-process stand-in for the part of Ray's API the Ray engine uses, to test the engine's
own logic (plan, scheduling, results, resubmission after a worker death, Ctrl-C clean-up)
where a real Ray cannot start (no ``ray`` installed, or a machine too busy for its 30 s
start-up limit). Arguments and results are pickled as Ray would, so what crosses the
process boundary must pickle, and a worker never shares the driver's objects.
The real thing is tested by tests/core/test_ray_engine.py.
"""

from __future__ import annotations

import pickle
from types import SimpleNamespace


class RayError(Exception):
    pass


class RayActorError(RayError):
    pass


class Ref:
    def __init__(self, value: object = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error


class Actor:
    def __init__(self, ray: FakeRay, instance: object) -> None:
        self._ray, self._instance, self.killed = ray, instance, False

    def __getattr__(self, name: str):
        method = getattr(self._instance, name)
        ray = self._ray

        def remote(*args):
            if self.killed:
                return Ref(error=RayActorError("the actor died: killed by ray.kill"))
            if name == "process" and ray.crash(args[0]):
                return Ref(error=RayActorError("the actor died unexpectedly (SIGKILL), retries exhausted"))
            return Ref(pickle.loads(pickle.dumps(method(*pickle.loads(pickle.dumps(args))))))

        return SimpleNamespace(remote=remote)


class RemoteClass:
    def __init__(self, ray: FakeRay, cls: type) -> None:
        self._ray, self._cls = ray, cls

    def options(self, **kwargs) -> RemoteClass:
        self._ray.actor_options = kwargs
        return self

    def remote(self, *args) -> Actor:
        args = tuple(a.value if isinstance(a, Ref) else a for a in args)
        actor = Actor(self._ray, self._cls(*pickle.loads(pickle.dumps(args))))
        self._ray.actors.append(actor)
        return actor


class FakeRay:
    """``crash(item) -> bool`` decides whether a ``process`` call dies with the worker."""

    exceptions = SimpleNamespace(RayError=RayError, RayActorError=RayActorError)

    def __init__(self, cpus: int = 2, crash=lambda item: False) -> None:
        self.cpus, self.crash = cpus, crash
        self.initialized = False
        self.inits = self.shutdowns = 0
        self.actors: list[Actor] = []
        self.actor_options: dict = {}

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs) -> None:
        self.initialized, self.inits = True, self.inits + 1

    def shutdown(self) -> None:
        self.initialized, self.shutdowns = False, self.shutdowns + 1

    def cluster_resources(self) -> dict:
        return {"CPU": float(self.cpus)}

    def put(self, value: object) -> Ref:
        return Ref(value)

    def remote(self, cls: type) -> RemoteClass:
        return RemoteClass(self, cls)

    def wait(self, refs: list, num_returns: int = 1, timeout: float | None = None) -> tuple[list, list]:
        return list(refs), []

    def get(self, ref, timeout: float | None = None):
        if isinstance(ref, list):
            return [self.get(r) for r in ref]
        if ref.error is not None:
            raise ref.error
        return ref.value

    def kill(self, actor: Actor, no_restart: bool = True) -> None:
        actor.killed = True
