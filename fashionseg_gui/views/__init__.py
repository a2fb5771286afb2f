"""Qt widgets of FashionSeg Studio."""
