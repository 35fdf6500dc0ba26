"""The statistics engine: profiles (:mod:`.profile`), drift tests (:mod:`.drift`) and quality
metrics (:mod:`.metrics`).

Nothing is imported here on purpose: the submodules pull in numpy, pyarrow and (lazily) scipy,
DuckDB and scikit-learn, and ``import modelbook`` must stay light.
"""
