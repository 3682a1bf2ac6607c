"""Admin for AS2: partner profiles (certificates uploaded as PEM or DER, expiry shown and
warned 30 days ahead; private keys uploaded once and never shown again) and the messages
in and out with their MDNs."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from smi_core.exceptions import ApplicationError
from smi_core.services.audit import Actor
from smi_edi.models import As2Message, As2Profile
from smi_edi.services.as2 import (
    as2_profile_set_certificate,
    as2_profile_set_private_key,
    certificate_warning,
)
from smi_edi.services.raw_store import raw_path

MAX_UPLOAD = 64 * 1024


class As2ProfileForm(forms.ModelForm):
    certificate_file = forms.FileField(
        required=False,
        help_text="The station's X.509 certificate, PEM or DER (.pem, .crt, .cer). Leave "
        "empty to keep the current one.",
    )
    private_key_file = forms.FileField(
        required=False,
        help_text="Only for a station of ours: its private key, PEM or DER. It is stored "
        "encrypted and never shown again; leave empty to keep the current one.",
    )
    private_key_password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="If the uploaded key is protected by a password.",
    )

    class Meta:
        model = As2Profile
        fields = [
            "partner",
            "role",
            "as2_id",
            "url",
            "sign",
            "encrypt",
            "digest_alg",
            "encryption_alg",
            "mdn_mode",
            "mdn_signed",
            "is_active",
        ]

    def _read(self, name: str) -> bytes | None:
        upload = self.cleaned_data.get(name)
        if not upload:
            return None
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError({name: "the file is larger than 64 kB; is it a key?"})
        return upload.read()

    def clean(self):
        cleaned = super().clean()
        from smi_edi.as2.certificates import certificate_info, private_key_pem

        certificate = self._read("certificate_file")
        key = self._read("private_key_file")
        password = (cleaned.get("private_key_password") or "").encode() or None
        try:
            if certificate is not None:
                certificate_info(certificate)
            if key is not None:
                if cleaned.get("role") != As2Profile.Role.OURS:
                    raise forms.ValidationError(
                        {"private_key_file": "only a station of ours holds a private key"}
                    )
                private_key_pem(key, password)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc
        self.certificate_bytes, self.key_bytes, self.key_password = certificate, key, password
        if (
            cleaned.get("role") == As2Profile.Role.PARTNER
            and not cleaned.get("url")
            and cleaned.get("is_active")
        ):
            self.add_error("url", "a partner's AS2 URL is needed to send to it")
        return cleaned


@admin.register(As2Profile)
class As2ProfileAdmin(admin.ModelAdmin):
    form = As2ProfileForm
    list_display = [
        "as2_id",
        "partner",
        "role",
        "url",
        "security",
        "mdn_mode",
        "certificate_expiry",
        "private_key",
        "is_active",
    ]
    list_filter = ["role", "is_active", "mdn_mode"]
    search_fields = ["as2_id", "partner__party__code", "certificate_subject"]
    readonly_fields = ["certificate_subject", "certificate_expiry", "private_key"]

    @method_decorator(sensitive_post_parameters("private_key_password"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        for profile in As2Profile.objects.filter(is_active=True).exclude(
            certificate_expires_at=None
        ):
            warning = certificate_warning(profile)
            if warning:
                self.message_user(
                    request,
                    f"The AS2 certificate of {profile.as2_id} ({profile.partner.code}) {warning}: "
                    "ask for (or make) a new one and upload it before it stops messages.",
                    messages.WARNING,
                )
        return super().changelist_view(request, extra_context)

    @admin.display(description="signing / encryption")
    def security(self, obj):
        parts = [f"signed ({obj.digest_alg})" if obj.sign else "unsigned"]
        parts.append(f"encrypted ({obj.encryption_alg})" if obj.encrypt else "not encrypted")
        return ", ".join(parts)

    @admin.display(description="certificate expires", ordering="certificate_expires_at")
    def certificate_expiry(self, obj):
        if obj.certificate_expires_at is None:
            return "— (no certificate uploaded)"
        warning = certificate_warning(obj, now=timezone.now())
        date = f"{obj.certificate_expires_at:%Y-%m-%d}"
        if warning:
            return format_html('<strong style="color:#ba2121">{} — {}</strong>', date, warning)
        return date

    @admin.display(description="private key")
    def private_key(self, obj):
        if obj.role != As2Profile.Role.OURS:
            return "— (a partner's key stays with the partner)"
        return "uploaded (never shown)" if obj.has_private_key else "not uploaded"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        actor = Actor.user(request.user, request)
        if form.certificate_bytes is not None:
            as2_profile_set_certificate(profile=obj, data=form.certificate_bytes, actor=actor)
        if form.key_bytes is not None:
            as2_profile_set_private_key(
                profile=obj, data=form.key_bytes, password=form.key_password, actor=actor
            )


@admin.register(As2Message)
class As2MessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "direction",
        "message_id",
        "as2_from",
        "as2_to",
        "status",
        "disposition",
        "signed",
        "encrypted",
        "interchange",
        "document",
        "mdn_due_at",
    ]
    list_filter = ["direction", "status", "signed", "encrypted"]
    search_fields = ["message_id", "as2_from", "as2_to", "payload_sha256", "raw_sha256"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in As2Message._meta.fields] + ["mdn_text"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # what was exchanged is evidence

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="MDN")
    def mdn_text(self, obj):
        if not obj.mdn_file:
            return "—"
        text = raw_path(obj.mdn_file).read_bytes()[:20000].decode("utf-8", errors="replace")
        return format_html('<pre style="white-space:pre-wrap">{}</pre>', text)
