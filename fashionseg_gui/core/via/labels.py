"""Class labels of VIA regions and the guess of which region attribute holds the class."""

from __future__ import annotations

from collections import Counter

from fashionseg_gui.core.via.model import MAX_LABEL_CHARS, ViaFile, ViaRegion

CLASS_LIKE = ("class", "class_id", "class_name", "classname", "label", "category", "type", "name")
"""Attribute names that usually hold the class, best first (compared case-insensitively)."""


def _number_text(value: int | float) -> str | None:
    """A numeric label as text (``3`` and ``3.0`` -> ``"3"``); None when it is too long."""
    if isinstance(value, int):
        if abs(value) >= 10**MAX_LABEL_CHARS:  # never build the text of a huge integer
            return None
        return str(value)
    return str(int(value)) if value.is_integer() else str(value)


def _too_long(attribute: str, n: int | None) -> str:
    size = f"{n} characters" if n is not None else f"more than {MAX_LABEL_CHARS} digits"
    return f"'{attribute}' label is too long ({size}, at most {MAX_LABEL_CHARS})"


def region_label(via: ViaFile, region: ViaRegion, attribute: str) -> tuple[str | None, str | None]:
    """The class label of one region for ``attribute``.

    Returns
    -------
    tuple of (str or None, str or None)
        ``(label, None)`` or ``(None, reason)``. Option ids are turned into their labels (an
        empty label falls back to the id); stray spaces are stripped; a checkbox dict gives its
        one true key (several true keys -> no label, ambiguous). Numbers are read as text
        (``3`` and ``3.0`` -> ``"3"``); a label longer than :data:`MAX_LABEL_CHARS`
        characters is refused.
    """
    options = via.attribute_options.get(attribute, {})
    label, why = _raw_label(region.attributes.get(attribute), options, attribute)
    if label is None:
        return None, why
    if not label:
        return None, f"empty '{attribute}' label"
    if len(label) > MAX_LABEL_CHARS:
        return None, _too_long(attribute, len(label))
    return label, None


def _option_label(raw: str, options: dict[str, str]) -> str:
    """An option id -> its label (an empty label falls back to the id), spaces stripped."""
    if raw in options:
        return (options[raw] or raw).strip()
    stripped = raw.strip()
    for k, v in options.items():
        if k.strip() == stripped:
            return (v or k).strip()
    return stripped


def _raw_label(
    value: object, options: dict[str, str], attribute: str
) -> tuple[str | None, str | None]:
    """The label text of an attribute value (unchecked length), or why there is none."""
    if value is None:
        return None, f"no '{attribute}' label"
    if isinstance(value, dict):
        keys = [str(k) for k, v in value.items() if v is True or v == "true"]
        labels = sorted({_option_label(k, options) for k in keys} - {""})
        if not labels:
            return None, f"no '{attribute}' label (no checkbox ticked)"
        if len(labels) > 1:
            return None, f"several '{attribute}' labels ({', '.join(labels)[:200]})"
        return labels[0], None
    if isinstance(value, str):
        return _option_label(value, options), None
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _number_text(value)
        if text is None:
            return None, _too_long(attribute, None)
        return _option_label(text, options), None
    return None, f"'{attribute}' label is not text"


def region_labels(via: ViaFile, attribute: str) -> Counter:
    """Count the labels used in ``attribute`` over all regions (see :func:`region_label`).

    A checkbox dict with several ticked keys counts each of them.
    """
    out: Counter = Counter()
    for entry in via.entries:
        for region in entry.regions:
            label, _ = region_label(via, region, attribute)
            if label is not None:
                out[label] += 1
                continue
            value = region.attributes.get(attribute)
            if isinstance(value, dict):
                for k, v in value.items():
                    if v is True:
                        opts = via.attribute_options.get(attribute, {})
                        name = (opts.get(str(k)) or str(k)).strip()
                        if name and len(name) <= MAX_LABEL_CHARS:
                            out[name] += 1
    return out


def attribute_names(via: ViaFile) -> list[str]:
    """Every region attribute of ``via``: declared ones first, then those used by regions."""
    names: dict[str, None] = dict.fromkeys(via.attribute_options)
    for entry in via.entries:
        for region in entry.regions:
            names.update(dict.fromkeys(region.attributes))
    return list(names)


def attribute_labels(via: ViaFile) -> dict[str, Counter]:
    """Each region attribute with its label counts (what the import dialog offers)."""
    return {name: region_labels(via, name) for name in attribute_names(via)}


def guess_class_attribute(via: ViaFile, class_names: list[str]) -> str | None:
    """Guess which region attribute holds the class.

    The attribute whose labels match the most ``class_names`` (case-insensitive) wins; without
    any match, a class-like name (class, label, category, type, name, ...) is preferred, then
    the attribute set on the most regions with the fewest distinct values.

    Returns
    -------
    str or None
        The attribute name, or None when no region carries a text label.
    """
    known = {n.strip().casefold() for n in class_names}
    scored = []
    for name in attribute_names(via):
        labels = region_labels(via, name)
        total = sum(labels.values())
        if not total:
            continue
        matched = sum(c for lab, c in labels.items() if lab.casefold() in known)
        lower = name.strip().casefold()
        rank = CLASS_LIKE.index(lower) if lower in CLASS_LIKE else len(CLASS_LIKE)
        scored.append((matched, -rank, total, -len(labels), name))
    if not scored:
        return None
    best = max(scored, key=lambda t: t[:4])
    return best[4]
