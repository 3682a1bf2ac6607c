from django.db import migrations, models


class Migration(migrations.Migration):
    """Finance figures over a window read the ledger's periods ending in it by period_end
    (13 weeks of a year's history read, not the whole year)."""

    dependencies = [("smi_core", "0018_activity_partitioned")]

    operations = [
        migrations.AddIndex(
            model_name="stocklevel",
            index=models.Index(fields=["period_end"], name="stock_level_period_end"),
        ),
    ]
