"""factory_boy factories for the domain models."""

import factory

from smi_core.models import Item, ItemCrossReference, Location, Party
from smi_edi.models import TradingPartner


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"party-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())
    role = Party.Role.BUYER


class TradingPartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TradingPartner

    party = factory.SubFactory(PartyFactory)
    isa_qualifier = "ZZ"
    isa_id = factory.LazyAttribute(lambda o: o.party.code.upper().replace("-", "")[:15])
    gs_id = factory.LazyAttribute(lambda o: o.isa_id)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("party", "code")

    party = factory.SubFactory(PartyFactory)
    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Store {o.code}")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        django_get_or_create = ("supplier", "vendor_item")

    supplier = factory.SubFactory(PartyFactory, role=Party.Role.SUPPLIER)
    vendor_item = factory.Sequence(lambda n: f"V-{n:04d}")
    description = factory.LazyAttribute(lambda o: f"Item {o.vendor_item}")
    unit = "EA"


class ItemCrossReferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ItemCrossReference

    item = factory.SubFactory(ItemFactory)
    buyer = factory.SubFactory(PartyFactory)
    buyer_item = factory.Sequence(lambda n: f"B-{n:05d}")
