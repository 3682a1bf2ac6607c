"""Offline sentence embeddings and clause retrieval quality on the evaluation set.

The retrieval thresholds are asserted in both settings the assistant uses: filtered to
the question's agreement (when it knows the agreement) and across all agreements (when it
does not). bench/retrieval_eval.py prints the same figures with hit@1 and timings.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reporting_assistant import embeddings
from reporting_assistant.clauses import Clause, document_text, split_clauses
from reporting_assistant.embeddings import (
    DEFAULT_MODEL,
    MODELS,
    ModelUnavailableError,
    OfflineEmbeddings,
    OnnxSentenceEmbedder,
    embeddings_default,
)

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "reporting_assistant" / "eval" / "questions.json"


@pytest.fixture(scope="module")
def embedder() -> OnnxSentenceEmbedder:
    return OnnxSentenceEmbedder()


def _demo_clauses() -> list[Clause]:
    agreements = json.loads((ROOT / "samples" / "agreements.json").read_text())["agreements"]
    clauses: list[Clause] = []
    for a in agreements:
        if a.get("text_file"):
            text = document_text(ROOT / "samples" / a["text_file"])
            clauses.extend(split_clauses(text, agreement=a["code"]))
    return clauses


def _questions() -> list[dict]:
    return json.loads(QUESTIONS.read_text())


TELEMETRY_SCRIPT = """
import importlib.abc, json, os, sys

start = {k: os.environ.get(k) for k in ("ORT_DISABLE_TELEMETRY", "ANONYMIZED_TELEMETRY")}
seen = {}


class Watch(importlib.abc.MetaPathFinder):
    # records, when each module is first imported, the telemetry variables and whether
    # onnxruntime is loaded yet; imports nothing itself
    def find_spec(self, name, path=None, target=None):
        if name in ("onnxruntime", "chromadb", "reporting_assistant.embeddings"):
            seen.setdefault(name, {
                "ORT_DISABLE_TELEMETRY": os.environ.get("ORT_DISABLE_TELEMETRY"),
                "ANONYMIZED_TELEMETRY": os.environ.get("ANONYMIZED_TELEMETRY"),
                "onnxruntime_loaded": "onnxruntime" in sys.modules,
            })
        return None


sys.meta_path.insert(0, Watch())
import django

django.setup()
from reporting_assistant import embeddings, store

after_import = {
    "ORT_DISABLE_TELEMETRY": os.environ.get("ORT_DISABLE_TELEMETRY"),
    "ANONYMIZED_TELEMETRY": os.environ.get("ANONYMIZED_TELEMETRY"),
    "onnxruntime_loaded": "onnxruntime" in sys.modules,
}
embeddings.embeddings_default().embed_query("Buyer pays within 30 days.")
client = store._client("", sys.argv[1])
print(json.dumps({
    "start": start,
    "seen": seen,
    "after_import": after_import,
    "client_telemetry": client.get_settings().anonymized_telemetry,
}))
"""


def test_telemetry_is_forced_off_before_onnxruntime_and_chromadb_load(tmp_path):
    """A fresh interpreter whose environment asks for telemetry: importing the store and
    the embeddings forces it off before onnxruntime or chromadb is imported."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "ORT_DISABLE_TELEMETRY": "0",
        "ANONYMIZED_TELEMETRY": "True",
    }
    env.pop("SMI_EMBEDDINGS", None)
    out = subprocess.run(
        [sys.executable, "-c", TELEMETRY_SCRIPT, str(tmp_path / "chroma")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["start"] == {"ORT_DISABLE_TELEMETRY": "0", "ANONYMIZED_TELEMETRY": "True"}
    off = {"ORT_DISABLE_TELEMETRY": "1", "ANONYMIZED_TELEMETRY": "False"}
    assert found["after_import"] == {**off, "onnxruntime_loaded": False}
    # the embedding module is imported before onnxruntime, which then finds telemetry off
    assert found["seen"]["reporting_assistant.embeddings"]["onnxruntime_loaded"] is False
    assert found["seen"]["onnxruntime"] == {**off, "onnxruntime_loaded": False}
    assert found["seen"]["chromadb"]["ANONYMIZED_TELEMETRY"] == "False"
    assert found["client_telemetry"] is False


def test_loads_offline_with_the_network_refused():
    """A fresh interpreter with HF_HUB_OFFLINE=1 and every socket connection refused."""
    script = (
        "import socket\n"
        "def refuse(*args, **kwargs):\n"
        "    raise OSError('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from reporting_assistant.embeddings import embeddings_default\n"
        "e = embeddings_default()\n"
        "v = e.embed_query('The buyer pays within 30 days.')\n"
        "import os\n"
        "print(len(v), os.environ['ORT_DISABLE_TELEMETRY'])\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("SMI_EMBEDDINGS", None)
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["384", "1"]


def test_dimension_and_unit_length(embedder):
    vectors = embedder.encode(["Payment terms", "Title passes on receipt.", ""])
    assert vectors.shape == (3, 384) == (3, embedder.dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


def test_same_text_same_vector(embedder):
    text = "Buyer pays each invoice within 45 days of receipt of the goods."
    first = embedder.embed_query(text)
    assert embedder.embed_query(text) == first
    assert OnnxSentenceEmbedder().embed_query(text) == first
    # per-batch padding: next to longer texts, the vector is the same up to float rounding
    batch = embedder.embed_documents(
        [
            "Consigned stock that has not sold for 26 weeks is returned to Supplier at "
            "Supplier's cost; Buyer is not liable for obsolete consigned stock.",
            text,
            "Scope",
        ]
    )
    assert np.allclose(batch[1], first, atol=1e-5)
    assert embedder.embed_documents([text, text]) == embedder.embed_documents([text, text])


def test_similar_sentences_are_closer_than_unrelated(embedder):
    anchor, similar, unrelated = embedder.encode(
        [
            "The buyer must pay the invoice within 60 days.",
            "Invoices are due sixty days after they are issued.",
            "The warehouse roof was repainted green last summer.",
        ]
    )
    assert anchor @ similar > anchor @ unrelated + 0.3


def test_langchain_adapter_with_chroma():
    from langchain_core.embeddings import Embeddings

    lc = embeddings_default()
    assert isinstance(lc, Embeddings)
    assert len(lc.embed_documents(["a", "b"])) == 2
    assert len(lc.embed_query("a")) == 384

    chromadb = pytest.importorskip("chromadb")
    langchain_chroma = pytest.importorskip("langchain_chroma")
    client = chromadb.EphemeralClient(settings=chromadb.config.Settings(anonymized_telemetry=False))
    collection = "test-clauses-embeddings"
    try:
        store = langchain_chroma.Chroma(
            collection_name=collection,
            embedding_function=lc,
            client=client,
            collection_metadata={"hnsw:space": "cosine"},
        )
        clauses = _demo_clauses()
        store.add_texts(
            [c.embedding_text for c in clauses],
            metadatas=[
                {"agreement": c.agreement, "number": c.number, "topic": c.topic} for c in clauses
            ],
        )
        hits = store.similarity_search(
            "Within how many days of receipt of the goods does the Buyer pay each invoice?",
            k=1,
            filter={"agreement": "acme-city-mart"},
        )
        assert hits[0].metadata == {
            "agreement": "acme-city-mart",
            "number": "4",
            "topic": "payment_terms",
        }
    finally:
        client.delete_collection(collection)


def test_selection_by_name_and_environment(monkeypatch):
    monkeypatch.delenv(embeddings.ENV_VAR, raising=False)
    assert embeddings_default().name == DEFAULT_MODEL
    monkeypatch.setenv(embeddings.ENV_VAR, DEFAULT_MODEL.upper())
    assert embeddings_default().name == DEFAULT_MODEL
    monkeypatch.setenv(embeddings.ENV_VAR, "no-such-model")
    with pytest.raises(ValueError, match="unknown embedding model 'no-such-model'"):
        embeddings_default()
    assert isinstance(embeddings_default(DEFAULT_MODEL), OfflineEmbeddings)


def test_missing_package_names_what_to_install(monkeypatch):
    spec = MODELS[DEFAULT_MODEL]
    missing = type(spec)(
        **{
            **spec.__dict__,
            "name": "missing",
            "model_dist": "smi-no-such-model-package",
            "pip_requirement": "smi-no-such-model-package",
        }
    )
    monkeypatch.setitem(MODELS, "missing", missing)
    with pytest.raises(ModelUnavailableError, match="pip install smi-no-such-model-package"):
        embeddings_default("missing")
    assert "missing" not in embeddings.available_models()


# -- the evaluation set and the retrieval thresholds ------------------------------------

_STOP_WORDS = (
    "a an and are as at be by do does for from how in is it its of on or the this to "
    "what when which who with we our us s"
)
_STOP = frozenset(_STOP_WORDS.split())


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


def test_evaluation_set_shape():
    questions = _questions()
    clauses = {(c.agreement, c.number): c for c in _demo_clauses()}
    assert len(questions) >= 40
    kinds = [q["kind"] for q in questions]
    assert set(kinds) == {"plain", "paraphrased"}
    assert kinds.count("paraphrased") == kinds.count("plain")
    for q in questions:
        assert set(q) == {"question", "agreement", "clause", "kind"}
        clause = clauses[(q["agreement"], q["clause"])]
        shared = _content_words(q["question"]) & _content_words(clause.embedding_text)
        if q["kind"] == "paraphrased":
            assert len(shared) <= 2, (q["question"], shared)
        else:
            assert len(shared) >= 3, (q["question"], shared)
    # every clause of the demo agreements is asked about
    assert {(q["agreement"], q["clause"]) for q in questions} == set(clauses)


def _hit_at_3(embedder: OnnxSentenceEmbedder, *, filtered: bool) -> dict[str, float]:
    clauses = _demo_clauses()
    questions = _questions()
    doc = embedder.encode([c.embedding_text for c in clauses])
    query = embedder.encode([q["question"] for q in questions])
    sims = query @ doc.T
    hits: dict[str, list[bool]] = {"plain": [], "paraphrased": []}
    for i, q in enumerate(questions):
        candidates = [
            j for j, c in enumerate(clauses) if not filtered or c.agreement == q["agreement"]
        ]
        top = sorted(candidates, key=lambda j: (-sims[i, j], j))[:3]
        hits[q["kind"]].append(
            any(
                (clauses[j].agreement, clauses[j].number) == (q["agreement"], q["clause"])
                for j in top
            )
        )
    return {kind: sum(h) / len(h) for kind, h in hits.items()}


@pytest.mark.parametrize("filtered", [True, False], ids=["filtered", "all-agreements"])
def test_retrieval_hit_at_3(embedder, filtered):
    rates = _hit_at_3(embedder, filtered=filtered)
    assert rates["plain"] >= 0.90, rates
    assert rates["paraphrased"] >= 0.75, rates
