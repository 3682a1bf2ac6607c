"""Benchmark: answer time of the reporting assistant over its evaluation set, on the demo
data, with the offline default (embedded Chroma, the default embedding model, no LLM).

Builds a throwaway SQLite database under a temporary SMI_VAR_DIR, loads the demo data
(which indexes the agreements), warms up with one question, then asks every question of
``reporting_assistant/eval/questions.json`` as the demo auditor and prints one table.

    python bench/assistant.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1, help="passes over the question set")
    args = parser.parse_args()
    var = tempfile.mkdtemp(prefix="smi-bench-assistant-")
    os.environ.update(
        {
            "SMI_VAR_DIR": var,
            "DJANGO_DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "SMI_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from reporting_assistant.answering import assistant_ask

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("demo_load", stdout=open(os.devnull, "w"))  # noqa: SIM115
    setup = time.perf_counter() - started
    user = get_user_model().objects.get(username="auditor")
    questions = json.loads((ROOT / "reporting_assistant" / "eval" / "questions.json").read_text())
    figure_questions = [
        "How much cash goes out for replenishment in the next four weeks?",
        "What is our inventory exposure to Acme in EUR?",
        "What is our DIO and turnover?",
    ]
    asked = [q["question"] for q in questions] + figure_questions
    warm = time.perf_counter()
    assistant_ask(user=user, question=asked[0])
    warm_up = time.perf_counter() - warm
    times = []
    expected = {q["question"]: (q["agreement"], q["clause"], q["kind"]) for q in questions}
    found = {"plain": [0, 0], "paraphrased": [0, 0]}
    # the figure evaluation set (demo world): scored on the figure and the restatement
    from datetime import date

    from smi_core.cli_output import progress_bar
    from tests.reporting_assistant.test_figure_eval import QUESTIONS, _right

    demo = [q for q in QUESTIONS if q["world"] == "demo"]
    scored = {"plain": [0, 0], "colloquial": [0, 0]}
    blind = [0, 0]
    wrong: list[str] = []
    total = args.repeat * len(asked) + len(demo)
    with progress_bar(sys.stderr, "asking", total) as advance:
        for _ in range(args.repeat):
            for question in asked:
                start = time.perf_counter()
                answer = assistant_ask(user=user, question=question)
                times.append(time.perf_counter() - start)
                advance(1)
                if question in expected:
                    agreement, clause, kind = expected[question]
                    cited = {(c.agreement, c.number) for c in answer.citations}
                    found[kind][0] += (agreement, clause) in cited
                    found[kind][1] += 1
        for e in demo:
            start = time.perf_counter()
            answer = assistant_ask(user=user, question=e["question"], as_of=date(2026, 11, 25))
            times.append(time.perf_counter() - start)
            advance(1)
            ok, why = _right(answer, e, "USD")
            if not ok:
                wrong.append(f"  wrong: {e['question']!r}: {why}")
            scored[e["kind"]][0] += ok
            scored[e["kind"]][1] += 1
            if e.get("source") == "blind-review":  # the held-out group, written blind
                blind[0] += ok
                blind[1] += 1
    times.sort()
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"{'measure':34}{'seconds':>10}")
    print(f"{'set-up (migrate + demo_load)':34}{setup:>10.2f}")
    print(f"{'first answer (loads the model)':34}{warm_up:>10.2f}")
    print(f"{'median answer':34}{median:>10.3f}")
    print(f"{'95th percentile':34}{p95:>10.3f}")
    print(f"{'slowest':34}{times[-1]:>10.3f}")
    for kind, (hits, total) in found.items():
        print(f"{'answers citing the clause, ' + kind:34}{hits:>6}/{total:<3}")
    for kind, (hits, total) in scored.items():
        target = 0.95 if kind == "plain" else 0.90
        print(
            f"{'figure + restatement right, ' + kind:34}{hits:>6}/{total:<3} "
            + ("met" if hits >= target * total else "NOT met")
        )
    print(f"{'  of which held out (blind review)':34}{blind[0]:>6}/{blind[1]:<3}")
    for line in wrong:
        print(line)
    print(
        f"{len(times)} answers ({len(questions)} evaluation questions + {len(figure_questions)} "
        f"figure questions) x {args.repeat}; targets: median < 0.3 s "
        + ("met" if median < 0.3 else "NOT met")
        + ", p95 < 1 s "
        + ("met" if p95 < 1 else "NOT met")
        + ", first answer < 3 s "
        + ("met" if warm_up < 3 else "NOT met")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
