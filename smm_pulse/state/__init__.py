"""Table-backed state shared by the KPI agents: sections, window buckets, seen event ids.

Design (see docs/design.md):
- all state of a KPI family lives in one Faust table (``Section`` names the
  kind of state inside it), and a brand's batches all arrive on one partition
  of the family's topic, so every write about a brand goes, in order, to one
  changelog partition, and a flush writes counters before the post snapshots
  they were computed from (``Pipeline.flush_state``);
- a value records the offset of the batch that last wrote it ("o"): replaying a
  batch after a crash (at-least-once) skips the keys it already wrote, so state
  stays exact whichever of a flush's changelog writes made it before the crash;
- writes are behind: at most one changelog record per key between two offset
  commits (``Section.flush``).
"""


from smm_pulse.state.buckets import MAX_UNSETTLED, WindowBuckets
from smm_pulse.state.section import (
    TOTAL,
    Expiring,
    PairView,
    PairViews,
    Parts,
    Section,
    Views,
    expired_entries,
    is_replayed,
    key_parts,
    restored_parts,
    table_key,
)
from smm_pulse.state.seen_ids import SeenEventIds

__all__ = [
    "MAX_UNSETTLED", "TOTAL", "Expiring", "PairView", "PairViews", "Parts", "Section",
    "SeenEventIds", "Views", "WindowBuckets", "expired_entries", "is_replayed", "key_parts",
    "restored_parts", "table_key",
]
