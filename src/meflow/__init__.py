"""meflow: facial micro-expression recognition from optical-flow pseudo-images.

A video becomes a prediction in these stages (one subpackage each):
io -> preprocess -> face (landmarks, 42 regions) -> flow -> features (pooling, discretisation,
windows, cache) -> models (YOLO11) -> training -> evaluation. ``meflow.api`` holds the
functions the command line calls.
"""

from meflow.errors import MeflowError

__version__ = "0.1.0"
__all__ = ["MeflowError", "__version__"]
