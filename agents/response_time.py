"""Response-time agent: customer messages and the brand's replies, per thread.

Feeds mean and p90 seconds to the first reply and the unanswered count
(formulas in ``smm_pulse.kpi.formulas``, matching in ``smm_pulse.contributions``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from smm_pulse.agents.family import Batch, register_family_agent
from smm_pulse.contributions import first_replies
from smm_pulse.kpi.catalog import Family, View
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.state import TOTAL, PairView, PairViews, Parts, Views
from smm_pulse.streams.internal import Messages


class Threads:
    """Per (brand, platform, account, thread): `in` and `out` times inside the longest window.

    Messages are kept with their event ids, so inserting one again (a replayed
    batch) changes nothing. They are added in place and dropped once past the
    longest window by the janitor (``expire``): a copy of the thread per write
    cost as much as the thread, which grows for as long as the window.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.section = pipeline.section(Family.RESPONSE, "threads")
        self.windows = pipeline.windows
        self.horizon_seconds = pipeline.horizon_seconds

    def record(self, batch: Batch) -> None:
        messages = batch.get(Messages)
        if messages is None:
            return
        for event_id, ts, platform, account, thread_id, direction in messages.rows():
            thread = self.section.changing((batch.brand, platform, account, thread_id), _no_thread)
            thread[direction][event_id] = ts

    def views(self, now: float) -> Views:
        by_pair: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for (brand, platform, _account, _thread), value in self.section.items():
            by_pair[brand, platform].append(value)

        def pair_views(pair: tuple[str, str]) -> PairView:
            # Each message's reply once; then the windows pick messages by their ts.
            replies = [reply for thread in by_pair[pair]
                       for reply in first_replies(thread["in"].values(), thread["out"].values(),
                                                  now)]
            found: PairView = {TOTAL: View({}, None, 0)}
            for window in self.windows:
                start = now - window.seconds
                inside = [seconds for ts, seconds in replies if ts > start]
                answered = tuple(seconds for seconds in inside if seconds is not None)
                found[window.name] = View({}, None, window.seconds, response_times=answered,
                                          unanswered=len(inside) - len(answered))
            return found

        return PairViews(by_pair, pair_views)

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Threads whose every message is past the longest window.

        The other threads of ``owned`` partitions lose such messages here. The
        oldest message of a side is found first, in C: most threads have none
        to lose.
        """
        horizon = now - self.horizon_seconds
        expired = []
        for parts, sides in self.section.items():
            past = [(ids, event_id) for ids in sides.values()
                    if ids and min(ids.values()) <= horizon
                    for event_id, ts in ids.items() if ts <= horizon]
            if not past or self.section.partition_of(parts) not in owned:
                continue
            if len(past) == sum(map(len, sides.values())):
                expired.append(parts)
                continue
            for ids, event_id in past:
                del ids[event_id]
            self.section.changed(parts)
        return expired


def _no_thread() -> dict[str, dict[str, float]]:
    return {"in": {}, "out": {}}


def register(pipeline: Pipeline) -> None:
    threads = Threads(pipeline)
    pipeline.views[Family.RESPONSE] = threads.views
    pipeline.expiring.append((Family.RESPONSE, threads))
    register_family_agent(pipeline, Family.RESPONSE, threads.record)
