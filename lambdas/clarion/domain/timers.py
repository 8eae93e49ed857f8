"""An escalation timer: which alert, the stage whose window it measures, and when that window ends (epoch
seconds). Its body is what the timer queue carries (`clarion.adapters.timers` puts it there)."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Timer:
    client_id: str
    message_id: str
    stage: int
    due: float  # epoch seconds

    def body(self) -> str:
        return json.dumps(
            {"client_id": self.client_id, "message_id": self.message_id, "stage": self.stage, "due": self.due}
        )

    @classmethod
    def parse(cls, body: str) -> Timer:
        data = json.loads(body)
        return cls(str(data["client_id"]), str(data["message_id"]), int(data["stage"]), float(data["due"]))
