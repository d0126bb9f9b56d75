"""Virtual time shared by the emulator, the handler under test and boto3's retry back-off."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

EPOCH = 1_800_000_000.0  # 2027-01-15: any fixed instant will do; tests compare differences.


@dataclass
class VirtualClock:
    """A clock that moves only when a test (or a simulated sleep) moves it."""

    now: float = EPOCH
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"time does not run backwards (advance by {seconds})")
        with self._lock:
            self.now += seconds

    # boto3's retry back-off calls time.sleep; tests route it here so retries cost no real time.
    sleep = advance
