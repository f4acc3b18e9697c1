"""The configuration example of the contract (section 5), with every kind of target."""

CONTRACT_EXAMPLE = """
brands:
  acme:
    competitors: [globex, initech]
    targets:
      engagement_rate: {min: 0.03, window: 24h, for: 30m}
      sentiment_score: {min: 0.0, window: 1h, min_mentions: 20, for: 15m}
      mention_spike: {factor: 3, min_mentions: 50, for: 5m}
      share_of_voice: {min: 0.25, window: 24h, for: 1h}
      response_time: {max: 3600, window: 24h, for: 1h}
      followers: {target: 50000, by: 2027-06-30}
      conversion_rate: {min: 0.02, window: 24h, for: 1h}
      bounce_rate: {max: 0.6, window: 24h, for: 1h}
      cost_per_click: {max: 25, window: 24h, for: 1h}
      customer_acquisition_cost: {max: 3000, window: 24h, for: 1h}
      roi: {min: 0.5, window: 24h, for: 1h}
    currency: RUB
    benchmarks: {smm_engagement_rate_ratio: 0.035, smm_conversion_rate_ratio: 0.025,
                 smm_cost_per_click: 20}
  globex: {}
  initech: {}
windows: [5m, 1h, 24h]
"""
