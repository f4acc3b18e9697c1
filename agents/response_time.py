"""Response-time agent: customer messages and the brand's replies, per thread.

Feeds mean and p90 seconds to the first reply and the unanswered count
(formulas in ``smm_pulse.kpi.formulas``, matching in ``smm_pulse.contributions``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from agents.app import Pipeline
from agents.family import Batch, register_family_agent
from agents.state import TOTAL, Parts, Views, expired_entries
from smm_pulse.contributions import first_replies
from smm_pulse.kpi.catalog import Family, View
from streams.internal import Messages


class Threads:
    """Per (brand, platform, account, thread): `in` and `out` times inside the longest window.

    Messages are kept with their event ids, so inserting one again (a replayed
    batch) changes nothing.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.section = pipeline.section(Family.RESPONSE, "threads")
        self.windows = pipeline.windows
        self.horizon_seconds = pipeline.horizon_seconds

    def record(self, batch: Batch) -> None:
        horizon = batch.now - self.horizon_seconds
        threads: dict[Parts, dict[str, dict[str, float]]] = {}
        messages = batch.get(Messages)
        if messages is None:
            return
        for event_id, ts, platform, account, thread_id, direction in messages.rows():
            thread = (batch.brand, platform, account, thread_id)
            if thread not in threads:
                stored = self.section.get(thread) or {"in": {}, "out": {}}
                threads[thread] = {"in": dict(stored["in"]), "out": dict(stored["out"])}
            threads[thread][direction][event_id] = ts
        for thread, messages_by_side in threads.items():
            kept = {side: {i: ts for i, ts in ids.items() if ts > horizon}
                    for side, ids in messages_by_side.items()}
            if kept["in"] or kept["out"]:
                self.section[thread] = kept
            elif thread in self.section:
                del self.section[thread]

    def views(self, now: float) -> Views:
        by_pair: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for (brand, platform, _account, _thread), value in self.section.items():
            by_pair[brand, platform].append(value)
        result: Views = {}
        for pair, threads in by_pair.items():
            # Each message's reply once; then the windows pick messages by their ts.
            replies = [reply for thread in threads
                       for reply in first_replies(thread["in"].values(), thread["out"].values(),
                                                  now)]
            result[pair] = {TOTAL: View({}, None, 0)}
            for window in self.windows:
                start = now - window.seconds
                inside = [seconds for ts, seconds in replies if ts > start]
                answered = tuple(seconds for seconds in inside if seconds is not None)
                result[pair][window.name] = View({}, None, window.seconds,
                                                 response_times=answered,
                                                 unanswered=len(inside) - len(answered))
        return result

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Threads whose every message is older than the longest window."""
        horizon = now - self.horizon_seconds

        def is_expired(_parts: Parts, value: Any) -> bool:
            return max([*value["in"].values(), *value["out"].values()], default=0) <= horizon

        return expired_entries(self.section, owned, is_expired)


def register(pipeline: Pipeline) -> None:
    threads = Threads(pipeline)
    pipeline.views[Family.RESPONSE] = threads.views
    pipeline.expiring.append((Family.RESPONSE, threads))
    register_family_agent(pipeline, Family.RESPONSE, threads.record)
