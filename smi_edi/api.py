"""REST API for partners and operators: submit interchanges, follow them."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from smi_core.api import ApiView, errors, operation
from smi_edi.models import Interchange, TradingPartner
from smi_edi.services.interchanges import (
    PayloadTooLarge,
    interchange_enqueue,
    interchange_receive,
)


class RawX12Parser(BaseParser):
    """Leaves the body unread: the view streams it to storage itself."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream


def partner_of(user) -> TradingPartner | None:
    return getattr(user, "trading_partner", None)


class InterchangeSerializer(serializers.ModelSerializer):
    sender = serializers.CharField(source="sender_isa")
    receiver = serializers.CharField(source="receiver_isa")
    duplicate_of = serializers.PrimaryKeyRelatedField(read_only=True)
    sets = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = Interchange
        fields = [
            "id",
            "status",
            "status_reason",
            "received_at",
            "processed_at",
            "transport",
            "source_name",
            "sha256",
            "size",
            "sender",
            "receiver",
            "control_number",
            "version",
            "duplicate_of",
            "sets_accepted",
            "sets_rejected",
            "activity_rows",
            "positions_changed",
            "errors",
            "sets",
            "ack",
            "status_url",
        ]

    def get_sets(self, obj) -> list[dict]:
        return [
            {
                "set_id": s.set_id,
                "control_number": s.control_number,
                "status": s.status,
                "applied": s.applied_at is not None,
                "activity_rows": s.activity_rows,
                "errors": s.errors,
            }
            for s in obj.sets.all()
        ]

    def get_status_url(self, obj) -> str:
        return f"/api/v1/interchanges/{obj.pk}/"


class InterchangeCreateView(ApiView):
    parser_classes = [MultiPartParser, RawX12Parser]

    @operation(
        summary="Submit an X12 interchange",
        description=(
            "The body is the raw X12 file (any content type), or multipart/form-data with a `file` "
            "field. A partner may submit only interchanges whose ISA sender is its own id. Returns "
            "202 with the interchange; processing continues in the background (GET its status_url)."
        ),
        request={
            "application/edi-x12": bytes,
            "multipart/form-data": inline_serializer("Upload", {"file": serializers.FileField()}),
        },
        responses={202: InterchangeSerializer, **errors(400, 403, 413)},
    )
    def post(self, request):
        partner = partner_of(request.user)
        if partner is None and not request.user.has_perm("smi_edi.add_interchange"):
            raise PermissionDenied(
                "only trading partners and EDI operators may submit interchanges"
            )
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.SMI_X12_MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(
                f"the request body of {length} bytes is larger than the limit of "
                f"{settings.SMI_X12_MAX_UPLOAD_BYTES} bytes; split it into several interchanges"
            )
        if request.content_type.startswith("multipart/"):
            upload = request.FILES.get("file")
            if upload is None:
                raise serializers.ValidationError(
                    {"file": "send the X12 file in a field named 'file'"}
                )
            source, name = upload, upload.name
        else:
            source, name = request.stream, request.META.get("HTTP_X_FILENAME", "")
        if source is None:
            raise serializers.ValidationError(
                {"body": "the request has no body; send the X12 file"}
            )
        actor = f"partner:{partner.code}" if partner else f"user:{request.user.get_username()}"
        interchange = interchange_receive(
            source=source,
            transport=Interchange.Transport.API,
            source_name=name,
            actor=actor,
            submitted_by=request.user,
            as_partner=partner,
        )
        interchange_enqueue(interchange)
        interchange.refresh_from_db()
        return Response(InterchangeSerializer(interchange).data, status=status.HTTP_202_ACCEPTED)


class InterchangeDetailView(ApiView):
    @operation(
        summary="An interchange's status, errors and acknowledgment",
        responses={200: InterchangeSerializer, **errors(403, 404)},
    )
    def get(self, request, pk: int):
        qs = Interchange.objects.prefetch_related("sets")
        partner = partner_of(request.user)
        if partner is not None:
            qs = qs.filter(sender=partner)
        elif not request.user.has_perm("smi_edi.view_interchange"):
            raise PermissionDenied("you may not see interchanges")
        interchange = qs.filter(pk=pk).first()
        if interchange is None:
            raise NotFound(f"no interchange #{pk} that you may see")
        return Response(InterchangeSerializer(interchange).data)
