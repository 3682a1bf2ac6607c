"""POST /api/v1/assistant/ask: {"question": "..."} -> answer, figures, citations."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers
from rest_framework.response import Response

from smi_core.api import ApiView, TextField, errors, operation


class AskSerializer(serializers.Serializer):
    question = TextField(max_length=1000, help_text="not blank")
    query = serializers.JSONField(
        required=False, help_text="a reading from a previous answer's readings, computed as is"
    )


class AskView(ApiView):
    @operation(
        operation_id="assistant_ask",
        request=AskSerializer,
        responses={200: OpenApiTypes.OBJECT, **errors(400, 403, 415)},
        summary="Answer a finance question with figures and agreement clauses",
    )
    def post(self, request):
        from reporting_assistant.answering import assistant_ask
        from reporting_assistant.llm import llm_from_settings

        body = AskSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        query = body.validated_data.get("query")
        answer = assistant_ask(
            user=request.user,
            question=body.validated_data["question"],
            llm=llm_from_settings() if query is None else None,
            query=query,
        )
        return Response(answer.as_dict())
