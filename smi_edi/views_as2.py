"""The AS2 endpoint (/as2/): messages and asynchronous MDNs from partners. AS2 partners
authenticate by their signatures and certificates, not by a session or a token, so the
view is exempt from CSRF; everything else happens in ``smi_edi.services.as2``."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from smi_edi.services.as2 import as2_receive

# Request headers passed on as the message's own (the WSGI names of the others are
# ignored: cookies, forwarding, ...).
_SKIP = {"cookie", "authorization", "host", "connection", "accept-encoding"}


@csrf_exempt
@require_http_methods(["POST"])
def as2_inbound(request: HttpRequest) -> HttpResponse:
    limit = settings.SMI_X12_MAX_UPLOAD_BYTES * 2 + 65536  # encryption and base64 grow it
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > limit:
        return HttpResponse(
            f"the AS2 message is larger than the limit of {limit} bytes\n",
            status=413,
            content_type="text/plain",
        )
    body = request.read(limit + 1)
    if len(body) > limit:
        return HttpResponse("the AS2 message is too large\n", status=413, content_type="text/plain")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIP}
    reply = as2_receive(headers=headers, body=body, remote_addr=request.META.get("REMOTE_ADDR", ""))
    response = HttpResponse(reply.body, status=reply.status)
    for name, value in reply.headers.items():
        response[name] = value
    return response
