# The stock ledger's running totals (issue 14): per item-location and period, the sums of
# its rows up to and including that period, so a finance window's sums are the difference
# of two rows instead of a read of every period in it. Backfilled in one statement (window
# sums in period order per item-location) from the rows as they stand.

from django.db import migrations, models


def backfill(apps, schema_editor) -> None:
    from smi_core.services.stock_ledger import stock_ledger_fill_running

    models_ = (
        apps.get_model("smi_core", "ProductActivity"),
        apps.get_model("smi_core", "Item"),
        apps.get_model("smi_core", "StockLevel"),
    )
    stock_ledger_fill_running(models=models_, using_connection=schema_editor.connection)


def _count(name: str, text: str) -> migrations.AddField:
    return migrations.AddField(
        model_name="stocklevel",
        name=name,
        field=models.IntegerField(default=0, help_text=text),
    )


def _units(name: str, text: str) -> migrations.AddField:
    return migrations.AddField(
        model_name="stocklevel",
        name=name,
        field=models.BigIntegerField(default=0, help_text=text),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("smi_core", "0023_reporting_date"),
    ]

    operations = [
        _count("run_periods", "Periods (rows) up to this one."),
        _count("run_days", "Days the periods up to this one cover (start to end, inclusive)."),
        _count("run_sold_periods", "Periods stating sales (QS)."),
        _count("run_selling_periods", "Periods with sales <> 0."),
        _count("run_on_hand_periods", "Periods with an on-hand level."),
        _count("run_in_stock_periods", "Periods with on hand > 0."),
        _units("run_sold", "Units sold, in 1/10,000 units."),
        _units("run_stock", "Positive on-hand levels summed, in 1/10,000 units."),
        _units("run_sold_in_stock", "Units sold in periods with on hand > 0, in 1/10,000 units."),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
