"""Topics: the contract's input and dead-letter topics, and the internal per-family topics.

Collectors may key and batch messages any way they like, so the ingest stage
routes valid events by brand partition onto one internal topic per KPI family. All of a
brand's state then lives on one partition, whichever worker owns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiokafka.partitioner import murmur2

from smm_pulse.streams import events


class Family(StrEnum):
    """A KPI family: one agent, its internal topic and its state; each KPI is read from one."""

    ENGAGEMENT = "engagement"
    MENTIONS = "mentions"
    VOICE = "voice"  # mentions of a brand's competitive set, gathered on the brand's partition
    RESPONSE = "response"  # customer messages and the brand's replies
    BUSINESS = "business"  # website visits, conversions and ad spend


# Which KPI family's agent receives each kind of event.
FAMILY_OF: dict[type[events.Event], Family] = {
    events.AccountMetrics: Family.ENGAGEMENT,
    events.PostMetrics: Family.ENGAGEMENT,
    events.Interaction: Family.ENGAGEMENT,
    events.Message: Family.RESPONSE,
    events.Mention: Family.MENTIONS,
    events.Visit: Family.BUSINESS,
    events.Conversion: Family.BUSINESS,
    events.AdMetrics: Family.BUSINESS,
}

# Where the collector SDK sends each event type (docs/contract.md, section 1).
INPUT_TOPIC_OF_TYPE = {t: ("mentions" if t == "mention" else "engagement")
                       for t in events.EVENT_TYPES}


def partition_for(brand: str, partitions: int) -> int:
    """Kafka's default partitioner (murmur2 of the key), so Java tools agree with us."""
    return (murmur2(brand.encode()) & 0x7FFFFFFF) % partitions


class BrandPartitions(dict[str, int]):
    """Each brand's partition, hashed once (murmur2 is pure Python, and brands are few)."""

    def __init__(self, partitions: int) -> None:
        super().__init__()
        self.partitions = partitions

    def __missing__(self, brand: str) -> int:
        partition = self[brand] = partition_for(brand, self.partitions)
        return partition


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The input topics a worker reads, and its internal topics (named after its app id)."""

    inputs: tuple[str, str]  # engagement, mentions
    app_id: str

    def family(self, family: Family) -> str:
        return f"{self.app_id}.kpi.{family.value}"
