"""coop-archive's benchmarks: what users feel, each as a ratio against a floor or a peer.

``python -m bench`` (``./dev.sh bench``) runs every measure and rewrites docs/benchmarks.md;
``--quick`` runs a reduced version (CI keeps the harness working with it, never judges speed
by it); ``--out PATH`` writes the report elsewhere. One module per measure; ``site`` and
``tenyear`` generate the synthetic site and the synthetic ten-year archive.
"""
