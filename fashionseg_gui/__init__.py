"""FashionSeg Studio: annotate fashion photos, train a U-Net, correct predictions."""

__version__ = "0.1.0"
