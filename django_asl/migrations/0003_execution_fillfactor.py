"""Leave room in each page of the execution table, so that updates can be HOT on PostgreSQL.

An execution row is updated on every step. With free space in its page and no
indexed column changed, PostgreSQL rewrites it in place (a HOT update) without
touching any index.
"""
from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE django_asl_execution SET (fillfactor = 70)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE django_asl_execution RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("django_asl", "0002_history_without_execution_index")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
