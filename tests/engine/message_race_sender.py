"""Send the messages of the PostgreSQL race test (test_message_races.py), each at its planned moment.

Run as ``python -m tests.engine.message_race_sender`` with DJANGO_SETTINGS_MODULE
and DATABASE_URL set. Once Django is set up it reads the plan ``[[id, unix time], ...]``
(JSON) on stdin, then prints
``[[id, executions resumed, kept, seconds late], ...]`` as JSON.
"""
from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import django

    django.setup()
    from django_asl.engine import send_message

    plan = sorted(json.load(sys.stdin), key=lambda item: item[1])
    results = []
    for ident, moment in plan:
        delay = moment - time.time()
        if delay > 0:
            time.sleep(delay)
        late = time.time() - moment
        sent = send_message("race", ident, {"id": ident})
        results.append([ident, len(sent.delivered_to), sent.kept, round(late, 3)])
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
