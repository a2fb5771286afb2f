"""Qt-free, TensorFlow-free (at import time) domain library of FashionSeg Studio.

Importing this package must import neither Qt nor TensorFlow; modules that need
TensorFlow (``data``, ``model``, ``train``) import it lazily and are never imported
from here.
"""
