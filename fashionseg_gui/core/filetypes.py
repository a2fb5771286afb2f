"""File suffixes the app recognises: one list each, shared by the CLI, the GUI and core."""

from __future__ import annotations

IMAGE_SUFFIXES = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".webp",
        ".bmp",
        ".tif",
        ".tiff",
        ".gif",
        ".heic",
        ".heif",
        ".avif",
    }
)
"""Photos picked up when a folder is imported (a file given by name is tried whatever it is)."""

VIA_SUFFIXES = frozenset({".json", ".csv"})
"""VIA annotation files (the variant is read from the content)."""

MASK_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".jpg", ".jpeg")
"""Mask files a mask-folder import looks at (JPEG only to refuse it with a reason)."""
