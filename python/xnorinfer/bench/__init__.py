"""Benchmark helpers: the ``xnorinfer bench`` command (:mod:`.command`) and what it and the
repository's ``benchmarks/`` share: timing (:mod:`.timing`), per-layer profiles
(:mod:`.profile`), the built-in networks (:mod:`.networks`), output checks (:mod:`.check`) and
charts (:mod:`.chart`). They use the package's public API only
(:meth:`xnorinfer.InferenceSession.profile`, :func:`xnorinfer.peak_macs_per_second`).
"""
