"""Run-level reporting: the terminal summary, known-failure baselines (matched on stable failure
identities), golden files, and how a failure reads (its problems once each, in plain words).

Sits below the suite and the tiers: nothing here imports them.
"""
