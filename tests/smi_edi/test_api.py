"""The partner-facing REST API: submit interchanges as yourself, follow them, read positions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from smi_edi.models import Interchange, RefusedInterchange
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db

WEEK = report_852(
    lines=[("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*15", "ZA*QS**EA", "SDQ*EA*92*S001*7"])]
)


@pytest.fixture
def partners(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, supplier_token = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    buyer, buyer_token = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    _, other_token = partner_add(code="other-retail", name="Other Retail", isa="ZZ:OTHERRETAIL")
    LocationFactory(party=buyer.party, code="S001")
    ItemFactory(supplier=supplier.party, vendor_item="ACME-1001")
    return {"buyer": buyer_token, "other": other_token, "supplier": supplier_token}


def client_with(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_partner_submits_raw_x12_and_follows_it_to_applied(partners):
    client = client_with(partners["buyer"])

    response = client.post(
        "/api/v1/interchanges/", data=interchange([WEEK]), content_type="application/edi-x12"
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "applied"
    assert body["activity_rows"] == 2
    detail = client.get(body["status_url"]).json()
    assert detail["sets"][0]["set_id"] == "852" and detail["sets"][0]["applied"] is True
    assert detail["ack"].startswith("ISA*") and "AK1*PD*1" in detail["ack"]


def test_multipart_upload_works_too(partners):
    upload = SimpleUploadedFile(
        "week.edi", interchange([WEEK]), content_type="application/octet-stream"
    )

    response = client_with(partners["buyer"]).post(
        "/api/v1/interchanges/", data={"file": upload}, format="multipart"
    )

    assert response.status_code == 202
    assert Interchange.objects.get().source_name == "week.edi"


def test_a_partner_cannot_submit_as_someone_else_and_the_attempt_is_recorded(partners):
    response = client_with(partners["other"]).post(
        "/api/v1/interchanges/", data=interchange([WEEK]), content_type="application/edi-x12"
    )

    assert response.status_code == 403
    assert "may send only as itself" in response.json()["message"]
    # recorded apart from interchanges, so it never counts as the named partner's file
    assert not Interchange.objects.exists()
    attempt = RefusedInterchange.objects.get()
    assert (attempt.pk, attempt.sender_isa) == (response.json()["refused_attempt"], "ZZ:DEMORETAIL")
    assert "partner other-retail (ZZ:OTHERRETAIL) submitted" in attempt.reason


def test_unauthenticated_requests_are_refused(partners):
    response = client_with(None).post(
        "/api/v1/interchanges/", data=interchange([WEEK]), content_type="application/edi-x12"
    )

    assert response.status_code == 401
    assert not Interchange.objects.exists()


def test_too_large_a_body_gets_413(partners, settings):
    settings.SMI_X12_MAX_UPLOAD_BYTES = 100

    response = client_with(partners["buyer"]).post(
        "/api/v1/interchanges/", data=interchange([WEEK]), content_type="application/edi-x12"
    )

    assert response.status_code == 413
    assert "larger than the limit of 100 bytes" in response.json()["message"]


def test_non_x12_content_gets_400_saying_why(partners):
    response = client_with(partners["buyer"]).post(
        "/api/v1/interchanges/", data=b'{"hello": "world"}', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "not_x12"
    assert "does not start with an ISA interchange header" in response.json()["message"]


def test_a_partner_sees_only_its_own_interchanges(partners):
    submitted = (
        client_with(partners["buyer"])
        .post("/api/v1/interchanges/", data=interchange([WEEK]), content_type="application/edi-x12")
        .json()
    )

    response = client_with(partners["other"]).get(submitted["status_url"])

    assert response.status_code == 404


def test_positions_api_filters_and_limits_what_a_partner_sees(partners):
    client_with(partners["buyer"]).post(
        "/api/v1/interchanges/", data=interchange([WEEK]), content_type="application/edi-x12"
    )

    mine = client_with(partners["buyer"]).get("/api/v1/positions/", {"location": "S001"}).json()
    theirs = client_with(partners["other"]).get("/api/v1/positions/").json()

    assert len(mine["results"]) == 1 and mine["next"] is None
    assert {
        k: mine["results"][0][k]
        for k in ("partner", "vendor_item", "location", "on_hand", "sold_last_period")
    } == {
        "partner": "demo-retail",
        "vendor_item": "ACME-1001",
        "location": "S001",
        "on_hand": "15",
        "sold_last_period": "7",
    }
    assert theirs == {"next": None, "results": []}


def test_staff_need_the_view_permission_for_positions(partners):
    user = get_user_model().objects.create_user("clerk", password="x")
    client = APIClient()
    client.force_authenticate(user)

    assert client.get("/api/v1/positions/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_inventoryposition"))
    user = get_user_model().objects.get(pk=user.pk)
    client.force_authenticate(user)
    assert client.get("/api/v1/positions/").status_code == 200


def test_the_openapi_schema_describes_the_api(partners):
    response = client_with(partners["buyer"]).get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/interchanges/" in paths and "/api/v1/positions/" in paths
