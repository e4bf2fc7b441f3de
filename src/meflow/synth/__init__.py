"""The synthetic micro-expression generator (``meflow synth``).

A generator is not a loader: it makes data, written in a real dataset's layout (CAS(ME)^3
Part A's), which the loaders of :mod:`meflow.datasets` then read like any other data.
docs/synthetic.md describes what it makes.
"""
