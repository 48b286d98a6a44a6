"""The decline ledger: which differential cases each compiled backend declines, and why.

A compiled backend may decline a plan it cannot run exactly; the case is then skipped. So that
a regression which makes a backend decline more cannot hide among the skips, every decline met
by the ``compare`` fixture is recorded per backend and compared at the end of the session with
the committed ledger ``tests/ledger/<backend>.txt`` (see :mod:`tests.ledger.plugin`).
"""
