"""theorybench: check the theory of arXiv:2505.16204 against computation.

`theorybench` is the world the theory talks about: configurations, samplers, the leaky-ReLU
network, gradient descent, and the command line. The theory itself lives in `bounds`, and the
confrontation of the two in `verify`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("theorybench")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
