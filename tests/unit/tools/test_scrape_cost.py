"""The in-process scrape and flush measure feeds the service's own agents, exports every
pair, and times flushes that follow what changed."""

from smm_pulse import scrape_cost


def test_every_pair_is_exported_and_flushes_write_only_what_changed():
    cost = scrape_cost.run(brands=3, platforms=2, events=300, repeats=1)
    assert cost.events == 300 + 3 * 2 * 6  # the mix and each pair's events of every family
    assert cost.pairs == 6 and cost.samples_per_pair > 50  # values in every family
    assert cost.first_render.samples == cost.samples
    assert 0 < cost.flush_after_few.records < cost.flush_after_interval.records
