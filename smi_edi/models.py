"""EDI records: trading partner profiles, inbound interchanges and their transaction sets,
and the control number sequences for what we send."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from smi_core.models import Party


class TradingPartner(models.Model):
    """How we exchange X12 with a party: its ISA and GS ids, version, delimiters for what we
    send, acknowledgment preference, 852 cadence, and the API user it authenticates as."""

    class AckType(models.TextChoices):
        FA997 = "997", "997 functional acknowledgment"
        FA999 = "999", "999 implementation acknowledgment"

    class Cadence(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    party = models.OneToOneField(Party, on_delete=models.PROTECT, related_name="trading_partner")
    isa_qualifier = models.CharField("ISA qualifier", max_length=2)
    isa_id = models.CharField("ISA id", max_length=15)
    gs_id = models.CharField(
        "GS id", max_length=15, blank=True, help_text="Application id in GS02/GS03."
    )
    x12_version = models.CharField(
        "X12 version",
        max_length=12,
        default="004010",
        help_text="GS08 of what we send, e.g. 004010.",
    )
    element_separator = models.CharField(max_length=1, default="*")
    component_separator = models.CharField(max_length=1, default=">")
    segment_terminator = models.CharField(max_length=1, default="~")
    repetition_separator = models.CharField(max_length=1, default="^", blank=True)
    ack_type = models.CharField(
        "acknowledgment", max_length=3, choices=AckType.choices, default=AckType.FA997
    )
    cadence = models.CharField(
        "852 cadence", max_length=8, choices=Cadence.choices, default=Cadence.WEEKLY
    )
    auto_register = models.BooleanField(
        default=False,
        help_text="Create items and locations first seen in this partner's 852s, flagged for review.",
    )
    is_active = models.BooleanField(default=True)
    outbox_dir = models.CharField(
        "outbox folder",
        max_length=500,
        blank=True,
        help_text="Where documents for this partner are written (a folder its VAN or AS2 "
        "gateway collects). Empty: SMI_OUTBOX_DIR/<code>, unless an endpoint is set.",
    )
    endpoint_url = models.URLField(
        "HTTP endpoint", blank=True, help_text="Documents are also POSTed here when set."
    )
    ack_window_hours = models.PositiveIntegerField(
        "acknowledgment window (hours)",
        default=24,
        help_text="A document with no 997/999 after this long raises an exception.",
    )
    webhook_url = models.URLField(
        blank=True, help_text="Supplier ERPs: approved orders are announced here (signed)."
    )
    webhook_secret = models.CharField(
        max_length=64, blank=True, help_text="HMAC-SHA256 key for the X-SMI-Signature header."
    )
    api_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="trading_partner",
        help_text="The user this partner's API token belongs to.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["webhook_secret"])

    class Meta:
        ordering = ["party__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["isa_qualifier", "isa_id"], name="unique_partner_isa_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party.code} ({self.isa_qualifier}:{self.isa_id})"

    @property
    def code(self) -> str:
        return self.party.code

    @property
    def isa_key(self) -> str:
        return f"{self.isa_qualifier}:{self.isa_id}"


class Interchange(models.Model):
    """An inbound X12 file: the bytes exactly as received (stored first, with their sha256),
    where they came from, and how far processing got."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        VALIDATED = "validated", "Validated"
        ACCEPTED = "accepted", "Accepted"
        ACCEPTED_WITH_ERRORS = "accepted_with_errors", "Accepted with errors"
        REJECTED = "rejected", "Rejected"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"

    class Transport(models.TextChoices):
        API = "api", "REST API"
        FOLDER = "folder", "Drop folder"
        CLI = "cli", "Command line"
        AS2 = "as2", "AS2"

    transport = models.CharField(max_length=8, choices=Transport.choices)
    source_name = models.CharField(max_length=255, blank=True, help_text="File name as received.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    raw_file = models.CharField(
        max_length=255, help_text="Path of the stored bytes in the storage."
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender = models.ForeignKey(
        TradingPartner, on_delete=models.PROTECT, null=True, blank=True, related_name="interchanges"
    )
    receiver = models.ForeignKey(
        TradingPartner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="received_interchanges",
    )
    sender_isa = models.CharField(max_length=18, blank=True, help_text="ISA05:ISA06 as sent.")
    receiver_isa = models.CharField(max_length=18, blank=True, help_text="ISA07:ISA08 as sent.")
    control_number = models.CharField("ISA13", max_length=9, blank=True)
    version = models.CharField("ISA12", max_length=5, blank=True)
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    status_reason = models.TextField(blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    errors = models.JSONField(default=list, blank=True, help_text="Envelope and validation errors.")
    validation = models.JSONField(
        default=list, blank=True, help_text="The verdict per group and set."
    )
    ack = models.TextField(blank=True, help_text="The 997/999 we sent back.")
    sets_accepted = models.PositiveIntegerField(default=0)
    sets_rejected = models.PositiveIntegerField(default=0)
    activity_rows = models.PositiveIntegerField(default=0)
    positions_changed = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this interchange was taken as the one to apply for its sender, receiver "
        "and ISA13 (empty: not taken, e.g. a duplicate). The database holds at most one.",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["sender_isa", "receiver_isa", "control_number"], name="interchange_isa_key"
            )
        ]
        constraints = [
            # One interchange per sender, receiver and ISA13 is applied, even when copies are
            # processed at once: the second claim fails here, whatever its query saw. The same
            # bytes carry the same ISA header, so the same file is caught by the same key.
            models.UniqueConstraint(
                fields=["sender", "receiver_isa", "control_number"],
                condition=models.Q(claimed_at__isnull=False),
                name="one_claimed_interchange_per_isa13",
            ),
            models.CheckConstraint(
                condition=models.Q(claimed_at__isnull=True)
                | models.Q(sender__isnull=False, duplicate_of__isnull=True),
                name="claimed_interchange_has_sender_and_is_no_duplicate",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.sender_isa} ISA13 {self.control_number or '?'} ({self.status})"

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of_id is not None


class RefusedInterchange(models.Model):
    """A file refused before it became an interchange because its submitter may not send it:
    a partner authenticated as itself whose ISA sender is someone else. Kept apart from
    interchanges (and their duplicate and control number checks) so that it never shadows
    the real sender's files, and no partner sees it; operators see it in the admin."""

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    transport = models.CharField(max_length=8, choices=Interchange.Transport.choices)
    source_name = models.CharField(max_length=255, blank=True, help_text="File name as received.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    raw_file = models.CharField(
        max_length=255, help_text="Path of the stored bytes in the storage."
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_as = models.ForeignKey(
        TradingPartner,
        on_delete=models.PROTECT,
        related_name="refused_submissions",
        help_text="The partner the submitter was authenticated as.",
    )
    sender_isa = models.CharField(max_length=18, blank=True, help_text="ISA05:ISA06 as sent.")
    receiver_isa = models.CharField(max_length=18, blank=True, help_text="ISA07:ISA08 as sent.")
    control_number = models.CharField("ISA13", max_length=9, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"refused #{self.pk}: ISA sender {self.sender_isa}, ISA13 {self.control_number}"


class InterchangeStatusChange(models.Model):
    """Every status change of an interchange, with who or what made it and why."""

    interchange = models.ForeignKey(
        Interchange, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    reason = models.TextField(blank=True)
    actor = models.CharField(max_length=100, help_text="user:NAME, partner:CODE or task:NAME")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return (
            f"#{self.interchange_id} {self.from_status or '-'} -> {self.to_status} by {self.actor}"
        )


class InboundSet(models.Model):
    """One transaction set of an inbound interchange, its verdict, and whether it was applied."""

    interchange = models.ForeignKey(Interchange, on_delete=models.CASCADE, related_name="sets")
    functional_id = models.CharField("GS01", max_length=2)
    group_control_number = models.CharField("GS06", max_length=9)
    version = models.CharField("GS08", max_length=12)
    set_id = models.CharField("ST01", max_length=3)
    control_number = models.CharField("ST02", max_length=9)
    first_segment = models.PositiveIntegerField(help_text="ST's segment number in the file.")
    status = models.CharField(max_length=24, help_text="accepted, accepted with errors or rejected")
    errors = models.JSONField(default=list, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    activity_rows = models.PositiveIntegerField(default=0)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["interchange_id", "first_segment"]
        constraints = [
            models.UniqueConstraint(
                fields=["interchange", "first_segment"], name="unique_set_per_interchange_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.set_id} {self.control_number} of interchange #{self.interchange_id}"


class ControlNumberSequence(models.Model):
    """The last control number used for one partner and one envelope level.

    Incremented under a row lock (``SELECT ... FOR UPDATE`` on PostgreSQL, an immediate
    write transaction on SQLite), so two writers never get the same number.
    """

    class Kind(models.TextChoices):
        INTERCHANGE = "isa", "Interchange (ISA13)"
        GROUP = "gs", "Functional group (GS06)"
        SET = "st", "Transaction set (ST02)"
        SSCC = "ssc", "SSCC serial reference (per GS1 company prefix)"

    partner_key = models.CharField(
        max_length=64, help_text="The partner the numbers are sent to, e.g. its ISA qualifier:id."
    )
    kind = models.CharField(max_length=3, choices=Kind.choices)
    last_value = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner_key", "kind"], name="unique_sequence_per_partner_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_key} {self.kind} @ {self.last_value}"


class OutboundDocument(models.Model):
    """An X12 document we send (855, 856, and the 997/999 for what partners send us):
    validated before it leaves, stored raw with its control numbers, delivered by a task,
    and (855, 856) matched to the partner's 997/999."""

    class Status(models.TextChoices):
        INVALID = "invalid", "Failed our validation (not sent)"
        QUEUED = "queued", "Queued for delivery"
        SENT = "sent", "Delivered"
        FAILED = "failed", "Delivery gave up"

    class AckStatus(models.TextChoices):
        NONE = "", "-"
        AWAITING = "awaiting", "Awaiting 997/999"
        ACCEPTED = "accepted", "Accepted"
        ACCEPTED_WITH_ERRORS = "accepted_with_errors", "Accepted with errors"
        REJECTED = "rejected", "Rejected"
        OVERDUE = "overdue", "Overdue"

    partner = models.ForeignKey(TradingPartner, on_delete=models.PROTECT, related_name="outbound")
    set_id = models.CharField("type", max_length=3, help_text="ST01: 810, 855 or 856.")
    order = models.ForeignKey(
        "smi_core.ReplenishmentProposal",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbound_documents",
    )
    shipment = models.ForeignKey(
        "smi_core.Shipment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbound_documents",
    )
    settlement = models.ForeignKey(
        "smi_core.SettlementInvoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbound_documents",
        help_text="The settlement an 810 carries (its first send and every resend).",
    )
    functional_id = models.CharField("GS01", max_length=2)
    version = models.CharField("GS08", max_length=12)
    interchange_control_number = models.CharField("ISA13", max_length=9, db_index=True)
    group_control_number = models.CharField("GS06", max_length=9)
    set_control_number = models.CharField("ST02", max_length=9)
    segments = models.JSONField(help_text="The body (between ST and SE), kept for a resend.")
    raw_file = models.CharField(max_length=255, help_text="Path of the stored bytes.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    status_reason = models.TextField(blank=True)
    validation_errors = models.JSONField(default=list, blank=True)
    ack_status = models.CharField(
        "acknowledgment",
        max_length=24,
        choices=AckStatus.choices,
        default=AckStatus.NONE,
        blank=True,
        db_index=True,
    )
    ack_errors = models.JSONField(
        default=list, blank=True, help_text="The partner's reasons (AK3/AK4/AK5 as sentences)."
    )
    ack_interchange = models.ForeignKey(
        Interchange, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acked_at = models.DateTimeField(null=True, blank=True)
    ack_due_at = models.DateTimeField(null=True, blank=True)
    resent_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    acknowledges = models.ForeignKey(
        Interchange,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acknowledgments_sent",
        help_text="For a 997/999: the inbound interchange it answers.",
    )
    created_by = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["partner", "functional_id", "group_control_number"],
                name="outbound_group_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.set_id} #{self.pk} to {self.partner.code} ISA13 {self.interchange_control_number}"


class DeliveryAttempt(models.Model):
    """One try at handing a document over: to the partner's folder or its HTTP endpoint."""

    class Channel(models.TextChoices):
        FOLDER = "folder", "Outbox folder"
        HTTP = "http", "HTTP POST"
        AS2 = "as2", "AS2"

    document = models.ForeignKey(
        OutboundDocument, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=500)
    ok = models.BooleanField()
    detail = models.TextField(blank=True)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.channel} {'ok' if self.ok else 'failed'} at {self.at:%Y-%m-%d %H:%M}"


class WebhookDelivery(models.Model):
    """An event announced to a supplier's ERP (order approved), signed and retried until the
    ERP answers 2xx."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"

    partner = models.ForeignKey(TradingPartner, on_delete=models.PROTECT, related_name="webhooks")
    event = models.CharField(max_length=40)
    order = models.ForeignKey(
        "smi_core.ReplenishmentProposal",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhooks",
    )
    url = models.URLField()
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_http_status = models.PositiveIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last sent; the next try waits the backoff."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} to {self.partner.code} ({self.status})"


class As2Profile(models.Model):
    """An AS2 station: one of our suppliers (we hold its private key: it decrypts what
    partners send and signs what we send and our MDNs) or a partner (its certificate, URL,
    algorithms and MDN mode). The private key is stored encrypted with a key derived from
    DJANGO_SECRET_KEY and is never shown again after upload."""

    class Role(models.TextChoices):
        OURS = "ours", "One of our suppliers (we hold the key)"
        PARTNER = "partner", "Trading partner"

    class MdnMode(models.TextChoices):
        SYNC = "SYNC", "Synchronous (on the HTTP response)"
        ASYNC = "ASYNC", "Asynchronous (posted back to us)"

    class DigestAlg(models.TextChoices):
        SHA256 = "sha256", "SHA-256"
        SHA384 = "sha384", "SHA-384"
        SHA512 = "sha512", "SHA-512"
        SHA1 = "sha1", "SHA-1 (legacy)"

    class EncryptionAlg(models.TextChoices):
        AES128 = "aes_128_cbc", "AES-128-CBC"
        AES192 = "aes_192_cbc", "AES-192-CBC"
        AES256 = "aes_256_cbc", "AES-256-CBC"
        TRIPLEDES = "tripledes_192_cbc", "3DES (legacy)"

    partner = models.OneToOneField(
        TradingPartner, on_delete=models.PROTECT, related_name="as2_profile"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.PARTNER)
    as2_id = models.CharField("AS2 id", max_length=128, unique=True)
    url = models.URLField("AS2 URL", max_length=500, blank=True, help_text="Partner's endpoint.")
    certificate = models.TextField(blank=True, help_text="PEM (uploaded as PEM or DER).")
    certificate_subject = models.CharField(max_length=500, blank=True)
    certificate_expires_at = models.DateTimeField(null=True, blank=True)
    private_key_encrypted = models.TextField(blank=True, editable=False)
    sign = models.BooleanField(default=True, help_text="Sign what we send; require signing.")
    encrypt = models.BooleanField(
        default=True, help_text="Encrypt what we send; require encryption."
    )
    digest_alg = models.CharField(
        "signing / MIC algorithm", max_length=8, choices=DigestAlg.choices, default="sha256"
    )
    encryption_alg = models.CharField(
        max_length=20, choices=EncryptionAlg.choices, default="aes_256_cbc"
    )
    mdn_mode = models.CharField("MDN mode", max_length=5, choices=MdnMode.choices, default="SYNC")
    mdn_signed = models.BooleanField("ask for signed MDNs", default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "AS2 profile"
        ordering = ["as2_id"]

    def __str__(self) -> str:
        return f"AS2 {self.as2_id} ({self.partner.code})"

    @property
    def has_private_key(self) -> bool:
        return bool(self.private_key_encrypted)


class As2Message(models.Model):
    """One AS2 message in or out: the raw HTTP message and the payload stored byte for byte
    (with their sha256), what the MDN said, and where the payload went."""

    class Direction(models.TextChoices):
        IN = "in", "Received"
        OUT = "out", "Sent"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received (not yet read)"
        PROCESSED = "processed", "Processed and handed to ingestion"
        DUPLICATE = "duplicate", "Duplicate (answered, not applied again)"
        REFUSED = "refused", "Refused with a failure MDN"
        AWAITING_MDN = "awaiting_mdn", "Sent, awaiting MDN"
        DELIVERED = "delivered", "Delivered (valid MDN)"
        MDN_FAILED = "mdn_failed", "MDN reports a failure"
        MDN_OVERDUE = "mdn_overdue", "MDN overdue"
        SEND_FAILED = "send_failed", "Could not be sent"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_id = models.CharField("Message-ID", max_length=255, db_index=True)
    as2_from = models.CharField("AS2-From", max_length=128)
    as2_to = models.CharField("AS2-To", max_length=128)
    profile = models.ForeignKey(
        As2Profile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        help_text="The partner's profile, when it was identified.",
    )
    status = models.CharField(
        max_length=14, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    reason = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    raw_file = models.CharField(max_length=255, blank=True)
    raw_sha256 = models.CharField(max_length=64, blank=True)
    raw_size = models.PositiveBigIntegerField(default=0)
    payload_file = models.CharField(max_length=255, blank=True)
    payload_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    payload_size = models.PositiveBigIntegerField(default=0)
    signed = models.BooleanField(default=False)
    encrypted = models.BooleanField(default=False)
    mic = models.CharField("MIC", max_length=200, blank=True)
    mic_alg = models.CharField(max_length=10, blank=True)
    mdn_mode = models.CharField(max_length=5, blank=True)
    mdn_url = models.CharField(max_length=500, blank=True)
    disposition = models.CharField(max_length=200, blank=True, help_text="As the MDN says it.")
    mdn_message_id = models.CharField(max_length=255, blank=True)
    mdn_file = models.CharField(max_length=255, blank=True, help_text="The MDN, stored raw.")
    mdn_signed = models.BooleanField(default=False)
    mdn_at = models.DateTimeField(null=True, blank=True)
    mdn_due_at = models.DateTimeField(null=True, blank=True)
    mdn_delivery = models.CharField(
        max_length=10,
        blank=True,
        help_text="For an asynchronous MDN we post: pending, sent, failed.",
    )
    interchange = models.ForeignKey(
        Interchange, on_delete=models.PROTECT, null=True, blank=True, related_name="as2_messages"
    )
    document = models.ForeignKey(
        OutboundDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="as2_messages",
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "AS2 message"
        constraints = [
            # A Message-ID is taken in once per sender; a second copy is a duplicate row.
            models.UniqueConstraint(
                fields=["as2_from", "message_id"],
                condition=models.Q(direction="in", duplicate_of__isnull=True)
                & ~models.Q(status="refused"),
                name="as2_inbound_message_once",
            ),
        ]

    def __str__(self) -> str:
        arrow = "from" if self.direction == "in" else "to"
        other = self.as2_from if self.direction == "in" else self.as2_to
        return f"AS2 {self.message_id} {arrow} {other} ({self.status})"
