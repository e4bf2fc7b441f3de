"""Spotting: where the micro- and macro-expressions of a long recording are (issue 22).

``ground_truth``: the datasets' spotting annotations (CAS(ME)^3 Part A, CAS(ME)^2, SAMM Long
Videos) as intervals; ``scoring``: MEGC's interval matching and metrics (and STRS);
``references``: the chance reference and the paired bootstrap of two spotters;
``baseline`` and ``baseline_grid``: the MDMD-like baseline spotter and its choice of
parameters on training recordings; ``evaluate`` (with ``evaluate_refs``): the leave-one-
subject-out evaluation ``meflow spot`` runs, ``recognition``: its spot-then-recognise and STRS,
``layouts``: the datasets' long recordings on disk, ``report`` and ``figures``: its outputs.
"""
