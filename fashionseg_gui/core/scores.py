"""Per-image scores of a prediction, their index and the freshness of a prediction.

A prediction (``predictions/<id>.npz``, written by ``core.predict.predict_project``) holds

- ``class_ids`` uint8 ``(H, W)`` and ``confidence`` float16 ``(H, W)`` (the probability of
  the predicted class), as before;
- ``entropy`` float16 ``(H, W)``: the per-pixel entropy of the class probabilities divided
  by ``log(C)`` (0 = certain, 1 = all classes equally likely), of the network's
  probabilities at its own resolution, resized to the photo like them (the entropy of the
  resized probabilities would be high along every class boundary);
- ``embedding`` float32 ``(D,)``: a cheap description of the photo for the "diverse" queue
  (:func:`embedding`);
- ``meta``: a JSON string with the scores (:func:`compute_scores`), the run that predicted
  it (folder name, recorded creation time, class names) and the photo it was made from
  (SHA-256, size and modification time of the photo file, its height and width).

``predictions/scores.json`` indexes the ``meta`` of every prediction (plus the embedding)
so the queue is ranked without opening every file; it is written atomically and rebuilt
from the ``.npz`` files whenever it is missing, unreadable or older than a file it indexes.

A prediction is *stale* when its photo changed since (different bytes or size) or when the
run that made it predicted other classes than the project has now (:func:`stale_reason`).
A stale prediction is reported, never deleted: the user decides.

Free of Qt and TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from fashionseg_gui.core import runs as R
from fashionseg_gui.core.atomic import atomic_write_json

#: Version of the ``meta`` record and of ``scores.json``.
VERSION = 1
#: Index file inside ``predictions/``.
INDEX = "scores.json"
#: Pixels whose confidence is below this are "low confidence" (the low-confidence share).
LOW_CONFIDENCE = 0.6
#: Side of the grid of the embedding (``GRID x GRID`` cells).
GRID = 4


class ScoreError(Exception):
    """A score or index problem worded for the user."""


# --------------------------------------------------------------------------- per pixel


def pixel_entropy(probabilities: np.ndarray) -> np.ndarray:
    """Normalised entropy of ``(..., C)`` class probabilities: ``-sum p log p / log C``.

    0 where one class has all the probability, 1 where all classes are equally likely.
    """
    p = np.asarray(probabilities, np.float64)
    c = p.shape[-1]
    if c < 2:
        return np.zeros(p.shape[:-1], np.float32)
    ent = -(p * np.log(np.clip(p, 1e-12, 1.0))).sum(-1) / math.log(c)
    return np.clip(ent, 0.0, 1.0).astype(np.float32)


def entropy_from_confidence(confidence: np.ndarray, num_classes: int) -> np.ndarray:
    """The entropy when only the top-class probability ``q`` is known (a prediction written
    by an older version): the rest ``1 - q`` spread evenly over the other classes, which is
    the largest entropy that ``q`` allows, normalised like :func:`pixel_entropy`."""
    q = np.clip(np.asarray(confidence, np.float64), 1e-12, 1.0)
    c = max(int(num_classes), 2)
    rest = np.clip(1.0 - q, 0.0, 1.0)
    other = np.clip(rest / (c - 1), 1e-12, 1.0)
    ent = -(q * np.log(q) + rest * np.log(other)) / math.log(c)
    return np.clip(ent, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- per image


def compute_scores(
    class_ids: np.ndarray,
    confidence: np.ndarray,
    entropy: np.ndarray | None,
    num_classes: int,
    threshold: float = LOW_CONFIDENCE,
) -> dict[str, Any]:
    """The per-image scores of one prediction.

    Returns
    -------
    dict
        ``mean_entropy`` (mean of the normalised entropy; the queue's uncertainty),
        ``low_confidence_share`` (share of pixels with confidence below ``threshold``),
        ``threshold``, ``mean_confidence``, ``class_confidence`` (class id as a string ->
        mean confidence of the pixels predicted as that class), ``class_share`` (class id ->
        share of pixels) and ``entropy_source`` (``"probabilities"``, or
        ``"confidence"`` when ``entropy`` was not given and is derived from the confidence
        by :func:`entropy_from_confidence`).
    """
    ids = np.asarray(class_ids)
    conf = np.asarray(confidence, np.float32)
    if ids.shape != conf.shape:
        raise ScoreError(f"class ids {ids.shape} and confidence {conf.shape} differ in size")
    source = "probabilities"
    if entropy is None:
        entropy = entropy_from_confidence(conf, num_classes)
        source = "confidence"
    ent = np.asarray(entropy, np.float32)
    n = max(ids.size, 1)
    counts = np.bincount(ids.reshape(-1), minlength=num_classes)
    sums = np.bincount(ids.reshape(-1), weights=conf.reshape(-1), minlength=num_classes)
    class_conf = {str(c): float(sums[c] / counts[c]) for c in range(len(counts)) if counts[c]}
    class_share = {str(c): float(counts[c] / n) for c in range(len(counts)) if counts[c]}
    return {
        "mean_entropy": float(ent.mean()) if ent.size else 0.0,
        "low_confidence_share": float((conf < threshold).mean()) if conf.size else 0.0,
        "threshold": float(threshold),
        "mean_confidence": float(conf.mean()) if conf.size else 0.0,
        "class_confidence": class_conf,
        "class_share": class_share,
        "entropy_source": source,
    }


def embedding(image: np.ndarray, class_ids: np.ndarray, num_classes: int) -> np.ndarray:
    """A cheap description of a photo and its predicted layout, for the "diverse" queue.

    The mean colour of each cell of a ``GRID x GRID`` grid (scaled to [0, 1]) followed by
    the share of each class in each cell: photos that look alike and are segmented alike
    lie close (Euclidean distance). It is computed from what prediction already has in
    memory (the photo and the class ids), so it costs nothing extra in the network.
    """
    img = np.asarray(image)
    ids = np.asarray(class_ids)
    h, w = ids.shape
    ys = np.linspace(0, h, GRID + 1).astype(int)
    xs = np.linspace(0, w, GRID + 1).astype(int)
    colour = np.zeros((GRID, GRID, 3), np.float32)
    layout = np.zeros((GRID, GRID, max(int(num_classes), 1)), np.float32)
    for i in range(GRID):
        for j in range(GRID):
            cell = img[ys[i] : max(ys[i + 1], ys[i] + 1), xs[j] : max(xs[j + 1], xs[j] + 1)]
            colour[i, j] = cell.reshape(-1, cell.shape[-1])[:, :3].mean(0) / 255.0
            lab = ids[ys[i] : max(ys[i + 1], ys[i] + 1), xs[j] : max(xs[j + 1], xs[j] + 1)]
            counts = np.bincount(lab.reshape(-1), minlength=layout.shape[-1])
            layout[i, j] = counts[: layout.shape[-1]] / max(lab.size, 1)
    return np.concatenate([colour.reshape(-1), layout.reshape(-1)]).astype(np.float32)


# --------------------------------------------------------------------------- identity


def run_identity(
    run_dir: str | Path,
    class_names: list[str] | None = None,
    num_classes: int | None = None,
    upsampling: str | None = None,
) -> dict[str, Any]:
    """What a prediction records of the run that made it (and of its upsampling head,
    ``core.serving.full_size_outputs``, where known)."""
    run = Path(run_dir)
    created = (
        (R.read_config(run) or {}).get("created") or (R.read_run(run) or {}).get("created") or ""
    )
    return {
        "run": run.name,
        "run_created": str(created),
        "class_names": list(class_names) if class_names is not None else None,
        "num_classes": None if num_classes is None else int(num_classes),
        "upsampling": upsampling,
    }


def same_run(meta: dict[str, Any], run: dict[str, Any]) -> bool:
    """Whether a prediction's ``meta`` was made by the run ``run`` (:func:`run_identity`)
    with the same upsampling (a prediction that recorded none was bilinear: made before
    the guided head existed)."""

    def head(entry: dict[str, Any]) -> str:
        return str(entry.get("upsampling") or "bilinear")

    return (
        meta.get("run") == run.get("run")
        and str(meta.get("run_created") or "") == str(run.get("run_created") or "")
        and head(meta) == head(run)
    )


def photo_identity(project: Any, image_id: str) -> dict[str, Any]:
    """SHA-256, size and modification time of the photo file, and its height and width."""
    path = project.image_path(image_id)
    data = path.read_bytes()
    st = path.stat()
    rec = project.images[image_id]
    return {
        "photo_sha256": hashlib.sha256(data).hexdigest(),
        "photo_size": st.st_size,
        "photo_mtime_ns": st.st_mtime_ns,
        "height": int(rec.height),
        "width": int(rec.width),
    }


def _photo_changed(project: Any, image_id: str, meta: dict[str, Any]) -> bool:
    path = project.image_path(image_id)
    try:
        st = path.stat()
    except OSError:
        return True
    if st.st_size != meta.get("photo_size"):
        return True
    if st.st_mtime_ns == meta.get("photo_mtime_ns"):
        return False
    try:  # touched: compare the bytes
        return hashlib.sha256(path.read_bytes()).hexdigest() != meta.get("photo_sha256")
    except OSError:
        return True


def stale_reason(project: Any, image_id: str, meta: dict[str, Any] | None) -> str | None:
    """Why the prediction of ``image_id`` no longer fits the project, or None if it does.

    Stale: no scores (written by an older version: predict again to score it), the photo
    changed since it was predicted, its size differs from the photo's, or the run that
    predicted it had other classes than the project has now.
    """
    name = _display(project, image_id)
    if not meta:
        return f"{name}: the prediction has no scores (made by an older version); predict again"
    rec = project.images.get(image_id)
    if rec is None:
        return f"{image_id}: no such photo in the project"
    if (meta.get("height"), meta.get("width")) != (rec.height, rec.width):
        return (
            f"{name}: the prediction is {meta.get('width')}x{meta.get('height')} but the "
            f"photo is {rec.width}x{rec.height}; predict it again"
        )
    if _photo_changed(project, image_id, meta):
        return f"{name}: the photo changed after run {meta.get('run')} predicted it; predict again"
    names = [c.name for c in project.classes]
    run_names = meta.get("class_names")
    num = meta.get("num_classes")
    if (num is not None and int(num) != len(names)) or (
        isinstance(run_names, list) and [str(n) for n in run_names] != names
    ):
        theirs = ", ".join(map(str, run_names)) if isinstance(run_names, list) else f"{num}"
        return (
            f"{name}: run {meta.get('run')} predicted the classes ({theirs}) but the "
            f"project now has ({', '.join(names)}); retrain and predict again"
        )
    return None


def _display(project: Any, image_id: str) -> str:
    rec = project.images.get(image_id)
    return (getattr(rec, "original_name", "") or image_id) if rec is not None else image_id


# --------------------------------------------------------------------------- files


def meta_array(meta: dict[str, Any]) -> np.ndarray:
    """``meta`` as the unicode array stored in the npz (no pickle needed to read it)."""
    return np.array(json.dumps(meta, sort_keys=True))


def read_meta(path: str | Path) -> tuple[dict[str, Any] | None, np.ndarray | None]:
    """``(meta, embedding)`` of a prediction file; ``(None, None)`` when it has none."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"])) if "meta" in z.files else None
            emb = np.asarray(z["embedding"], np.float32) if "embedding" in z.files else None
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise ScoreError(f"cannot read prediction {path}: {exc}") from exc
    return (meta if isinstance(meta, dict) else None), emb


def index_path(project: Any) -> Path:
    return Path(project.root) / "predictions" / INDEX


def file_key(path: Path) -> list[int] | None:
    """Size and modification time of a file (how the index sees that it changed)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def load_index(project: Any, save: bool = True) -> dict[str, dict[str, Any]]:
    """``{image id: entry}`` for every image with a prediction file.

    An entry is the prediction's ``meta`` plus ``"embedding"`` (list of floats or None)
    and ``"file"`` (size and mtime of the npz it was read from). Entries are taken from
    ``scores.json`` when the file they describe is unchanged, else read again from the npz;
    the index is rewritten (atomically) when anything changed and ``save`` is true and the
    project is writable. A prediction file that cannot be read gets ``{"error": text}``.
    """
    path = index_path(project)
    try:
        stored = json.loads(path.read_text("utf-8"))
        entries = (
            stored.get("images", {})
            if isinstance(stored, dict) and stored.get("version") == VERSION
            else {}
        )
    except (OSError, ValueError):
        entries = {}
    if not isinstance(entries, dict):
        entries = {}
    out: dict[str, dict[str, Any]] = {}
    changed = False
    for image_id in project.images:
        pred = project.prediction_path(image_id)
        key = file_key(pred)
        if key is None:
            changed |= image_id in entries
            continue
        old = entries.get(image_id)
        if isinstance(old, dict) and old.get("file") == key:
            out[image_id] = old
            continue
        try:
            meta, emb = read_meta(pred)
            entry = dict(meta or {})
            entry["embedding"] = None if emb is None else [round(float(v), 5) for v in emb]
        except ScoreError as exc:
            entry = {"error": str(exc)}
        entry["file"] = key
        out[image_id] = entry
        changed = True
    changed |= set(entries) - set(out) != set()
    if changed and save and not getattr(project, "read_only", False):
        write_index(project, out)
    return out


def write_index(project: Any, entries: dict[str, dict[str, Any]]) -> None:
    """Write ``predictions/scores.json`` atomically."""
    path = index_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, {"version": VERSION, "images": entries})


def scored(
    project: Any, index: dict[str, dict[str, Any]] | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Fresh scored predictions and the stale ones.

    Returns
    -------
    fresh : dict
        ``{image id: entry}`` of predictions that fit the project now.
    stale : dict
        ``{image id: reason}`` (:func:`stale_reason`, or the read error).
    """
    index = load_index(project) if index is None else index
    fresh: dict[str, dict[str, Any]] = {}
    stale: dict[str, str] = {}
    for image_id, entry in index.items():
        if "error" in entry:
            stale[image_id] = entry["error"]
            continue
        reason = stale_reason(project, image_id, entry if "scores" in entry else None)
        if reason is None:
            fresh[image_id] = entry
        else:
            stale[image_id] = reason
    return fresh, stale


def fresh_from_run(
    project: Any, image_id: str, run: dict[str, Any], index: dict[str, dict[str, Any]] | None = None
) -> bool:
    """Whether ``image_id`` has a fresh prediction made by ``run`` (resume skips it)."""
    pred = project.prediction_path(image_id)
    if not pred.exists():
        return False
    entry = (index or {}).get(image_id)
    if entry is None or entry.get("file") != file_key(pred):
        try:
            entry, _ = read_meta(pred)
        except ScoreError:
            return False
    if not entry or "scores" not in entry or not same_run(entry, run):
        return False
    return stale_reason(project, image_id, entry) is None
