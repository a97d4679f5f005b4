"""Run-level reporting: the terminal summary, known-failure baselines and golden files.

Sits below the suite and the tiers: nothing here imports them.
"""
