"""The dashboards' uids: what the rule file's links and the dashboards agree on."""

UIDS = {"overview": "smm-pulse-overview", "brand": "smm-pulse-brand",
        "competitors": "smm-pulse-competitors", "health": "smm-pulse-health"}
