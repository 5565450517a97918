"""Pure judging: tolerance comparison, gradient checks, known-mistake diagnoses.

Data in, data out: nothing here knows about kernels or notebooks.
"""

from grader.checks.compare import Mismatch, compare, describe_value
from grader.checks.gradient import gradient_check, numeric_gradient

__all__ = ["Mismatch", "compare", "describe_value", "gradient_check", "numeric_gradient"]
