"""Benchmark: clause retrieval on the evaluation set, per embedding option. Prints one table.

Splits the demo agreements (samples/agreements.json -> samples/agreements/*.md) into
clauses, embeds every clause, and for each question of reporting_assistant/eval/
questions.json ranks the clauses by cosine similarity, in two settings:

* ``all``: across the clauses of every agreement (what the assistant does when the
  question names no agreement);
* ``filtered``: only the clauses of the question's agreement (what it does when it knows
  the agreement).

A question hits@k when its clause is among the first k. Options: every installed model in
reporting_assistant.embeddings.MODELS (the default first), plus BM25 over words as a
lexical reference, and the default fused with BM25 (reciprocal rank fusion) for reference.
Times: ``load s`` is the first load (import of onnxruntime, reading the model, creating
the session); ``ms/clause`` embeds all clauses in batches (best of --repeat);
``ms/query`` embeds one question at a time (mean).

    python bench/retrieval_eval.py [--repeat 5] [--misses]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched: prove it
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from reporting_assistant.clauses import Clause, document_text, split_clauses  # noqa: E402

SAMPLES = ROOT / "samples"
QUESTIONS = ROOT / "reporting_assistant" / "eval" / "questions.json"


def demo_clauses() -> list[Clause]:
    agreements = json.loads((SAMPLES / "agreements.json").read_text())["agreements"]
    clauses: list[Clause] = []
    for agreement in agreements:
        if agreement.get("text_file"):
            text = document_text(SAMPLES / agreement["text_file"])
            clauses.extend(split_clauses(text, agreement=agreement["code"]))
    return clauses


def load_questions() -> list[dict]:
    return json.loads(QUESTIONS.read_text())


# -- BM25 (lexical reference) -----------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an and are as at be by do does for from how in is it its of on or the this to "
    "what when which who with we our us"
)
_STOP = frozenset(_STOP_WORDS.split())


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


class BM25:
    def __init__(self, docs: list[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.docs = [Counter(_words(d)) for d in docs]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / max(1, len(self.docs))
        df = Counter(w for d in self.docs for w in d)
        n = len(self.docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}
        self.k1, self.b = k1, b

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(len(self.docs))
        for w in _words(query):
            idf = self.idf.get(w)
            if idf is None:
                continue
            for i, doc in enumerate(self.docs):
                tf = doc.get(w, 0)
                if tf:
                    norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
                    out[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out


# -- evaluation -------------------------------------------------------------------------


def evaluate(
    clauses: list[Clause],
    questions: list[dict],
    score: Callable[[int], np.ndarray],
    *,
    filtered: bool,
) -> tuple[dict[str, dict[int, float]], list[tuple[dict, list[str]]]]:
    """hit@1 and hit@3 per kind; ``score(i)`` gives question i's score for every clause."""
    hits: dict[str, dict[int, int]] = {}
    counts: Counter[str] = Counter()
    misses = []
    for i, q in enumerate(questions):
        scores = score(i)
        candidates = [
            j for j, c in enumerate(clauses) if not filtered or c.agreement == q["agreement"]
        ]
        ranked = sorted(candidates, key=lambda j: (-scores[j], j))
        labels = [f"{clauses[j].agreement}#{clauses[j].number}" for j in ranked[:3]]
        target = f"{q['agreement']}#{q['clause']}"
        counts[q["kind"]] += 1
        kind_hits = hits.setdefault(q["kind"], {1: 0, 3: 0})
        for k in (1, 3):
            kind_hits[k] += target in labels[:k]
        if target not in labels[:3]:
            misses.append((q, labels))
    rates = {kind: {k: v / counts[kind] for k, v in h.items()} for kind, h in hits.items()}
    return rates, misses


def rrf(*score_arrays: np.ndarray, k: int = 60) -> np.ndarray:
    """Reciprocal rank fusion of score arrays (higher is better)."""
    fused = np.zeros(len(score_arrays[0]))
    for scores in score_arrays:
        order = np.argsort(-scores, kind="stable")
        ranks = np.empty(len(scores))
        ranks[order] = np.arange(1, len(scores) + 1)
        fused += 1.0 / (k + ranks)
    return fused


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of the clause embedding")
    parser.add_argument("--misses", action="store_true", help="list the hit@3 misses")
    args = parser.parse_args()

    clauses = demo_clauses()
    questions = load_questions()
    docs = [c.embedding_text for c in clauses]
    texts = [q["question"] for q in questions]
    n_plain = sum(q["kind"] == "plain" for q in questions)
    print(
        f"{len(clauses)} clauses, {len(questions)} questions "
        f"({n_plain} plain, {len(questions) - n_plain} paraphrased)",
        file=sys.stderr,
    )

    # option -> (score function, load s, ms per clause, ms per query)
    options: dict[str, tuple[Callable[[int], np.ndarray], float, float, float]] = {}

    start = time.perf_counter()
    from reporting_assistant.embeddings import DEFAULT_MODEL, OnnxSentenceEmbedder
    from reporting_assistant.embeddings import available_models as installed

    import_s = time.perf_counter() - start
    from smi_core.cli_output import progress_bar

    names = sorted(installed(), key=lambda n: (n != DEFAULT_MODEL, n))
    dense_scores: dict[str, np.ndarray] = {}
    # per model: loading it, each run over the clauses, and the questions (not timed)
    steps = len(names) * (args.repeat + 2)
    with progress_bar(sys.stderr, "embedding", steps) as advance:
        for name in names:
            advance(0, description=f"loading {name}")
            embedder = OnnxSentenceEmbedder(name)
            start = time.perf_counter()
            embedder.load()
            load_s = time.perf_counter() - start + (import_s if name == names[0] else 0.0)
            advance(1, description=f"{name}: {len(docs)} clauses")
            best = math.inf
            for _ in range(args.repeat):
                start = time.perf_counter()
                doc_vecs = embedder.encode(docs)
                best = min(best, time.perf_counter() - start)
                advance(1)
            advance(0, description=f"{name}: {len(texts)} questions")
            start = time.perf_counter()
            query_vecs = np.vstack([embedder.encode([t]) for t in texts])
            per_query = (time.perf_counter() - start) / len(texts)
            advance(1)
            sims = query_vecs @ doc_vecs.T
            dense_scores[name] = sims
            label = f"{name}{' (default)' if name == DEFAULT_MODEL else ''}"
            options[label] = (
                lambda i, s=sims: s[i],
                load_s,
                1000 * best / len(docs),
                1000 * per_query,
            )

    start = time.perf_counter()
    bm25 = BM25(docs)
    bm25_load = time.perf_counter() - start
    start = time.perf_counter()
    bm25_scores = np.vstack([bm25.scores(t) for t in texts])
    bm25_query = (time.perf_counter() - start) / len(texts)
    options["bm25 (lexical reference)"] = (
        lambda i: bm25_scores[i],
        bm25_load,
        0.0,
        1000 * bm25_query,
    )
    if DEFAULT_MODEL in dense_scores:
        dense = dense_scores[DEFAULT_MODEL]
        fused = np.vstack([rrf(dense[i], bm25_scores[i]) for i in range(len(texts))])
        _, load_s, per_clause, per_query = options[f"{DEFAULT_MODEL} (default)"]
        options[f"{DEFAULT_MODEL} + bm25 (rrf)"] = (
            lambda i: fused[i],
            load_s,
            per_clause,
            1000 * bm25_query + per_query,
        )

    rows = []
    all_misses = []
    for label, (score, load_s, per_clause, per_query) in options.items():
        for filtered in (False, True):
            rates, misses = evaluate(clauses, questions, score, filtered=filtered)
            setting = "filtered" if filtered else "all"
            rows.append((label, setting, rates, load_s, per_clause, per_query))
            all_misses.extend((label, setting, q, top) for q, top in misses)

    if args.misses:
        for label, setting, q, top in all_misses:
            print(
                f"miss {label} [{setting}] {q['kind']}: {q['question']!r} "
                f"-> want {q['agreement']}#{q['clause']}, got {', '.join(top)}",
                file=sys.stderr,
            )

    print()
    print(
        f"{'option':<28} {'setting':<9} {'plain@1':>8} {'plain@3':>8} {'para@1':>8} "
        f"{'para@3':>8} {'load s':>7} {'ms/clause':>10} {'ms/query':>9}"
    )
    for label, setting, rates, load_s, per_clause, per_query in rows:
        plain, para = rates.get("plain", {}), rates.get("paraphrased", {})
        print(
            f"{label:<28} {setting:<9} {plain.get(1, 0):>8.0%} {plain.get(3, 0):>8.0%} "
            f"{para.get(1, 0):>8.0%} {para.get(3, 0):>8.0%} {load_s:>7.2f} "
            f"{per_clause:>10.2f} {per_query:>9.2f}"
        )


if __name__ == "__main__":
    main()
