"""Ask the reporting assistant a finance question from the command line."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError


class Command(BaseCommand):
    help = 'Answer a finance question, e.g. ask "How much cash goes out in the next four weeks?"'

    def add_arguments(self, parser):
        parser.add_argument("question")
        parser.add_argument(
            "--as", dest="username", default="finance", help="who asks (their visibility applies)"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        from reporting_assistant.answering import assistant_ask
        from reporting_assistant.llm import llm_from_settings

        user = get_user_model().objects.filter(username=o["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {o['username']!r}")
        try:
            answer = assistant_ask(user=user, question=o["question"], llm=llm_from_settings())
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if o["json"]:
            self.stdout.write(json.dumps(answer.as_dict(), indent=2))
            return
        self.stdout.write(answer.text)
        for fact in answer.facts:
            self.stdout.write(f"  - {fact.label}: {fact.value} {fact.unit} ({fact.how})")
        for citation in answer.citations:
            self.stdout.write(f"  - {citation.marker} {citation.title} ({citation.source})")
        self.stdout.write(
            f"(answered by {answer.model}{'; ' + answer.fallback_reason if answer.fallback_reason else ''})"
        )
