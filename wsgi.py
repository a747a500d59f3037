"""WSGI entry point: ``gunicorn wsgi:app``. Settings come from PROM_* environment variables."""

import gc

from prom.app import create_app

app = create_app()

# Everything loaded so far (Flask, SQLAlchemy, numpy, matplotlib, the instrument library) lives as
# long as the worker. Freezing it takes it out of the garbage collector's full collections, which
# otherwise scan it all: in benchmarks/bench_report.py they cost ~100 ms each and made the report's
# p99 five times its median; frozen, a full collection takes under 1 ms.
gc.freeze()
