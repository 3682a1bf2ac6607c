# The period end joins the activity's unique key, and archived months get a record.
#
# PostgreSQL requires the partition key (period_end, see 0018) in every unique constraint
# of a partitioned table. An 852 set has one report period, so (set, segment, position)
# and (set, segment, position, period end) are unique alike: no stored row can break it.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("smi_core", "0016_settlement"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="productactivity",
            name="unique_activity_per_source_position",
        ),
        migrations.AddConstraint(
            model_name="productactivity",
            constraint=models.UniqueConstraint(
                fields=["source_set", "segment_number", "position", "period_end"],
                name="unique_activity_per_source_position",
            ),
        ),
        migrations.CreateModel(
            name="ActivityArchive",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("partition", models.CharField(db_index=True, max_length=63)),
                (
                    "period_from",
                    models.DateField(help_text="First period end the partition held."),
                ),
                (
                    "period_to",
                    models.DateField(help_text="Period ends before this date (exclusive)."),
                ),
                (
                    "path",
                    models.CharField(
                        help_text="The .tsv.gz file (its manifest beside it).", max_length=500
                    ),
                ),
                ("sha256", models.CharField(max_length=64)),
                ("bytes", models.BigIntegerField()),
                ("rows", models.BigIntegerField()),
                ("quantity_total", models.DecimalField(decimal_places=4, max_digits=28)),
                ("archived_at", models.DateTimeField(auto_now_add=True)),
                (
                    "dropped",
                    models.BooleanField(
                        default=False,
                        help_text="The detached table was dropped (else kept, detached).",
                    ),
                ),
            ],
            options={"ordering": ["period_from"]},
        ),
    ]
