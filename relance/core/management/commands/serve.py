import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from relance.core.management.base import RelanceCommand
from relance.core.scheduler import SchedulerThread


class Command(RelanceCommand):
    help = (
        "Serve Relance: the web app and API (waitress), the background task worker and the daily "
        "scheduler, together, until interrupted."
    )
    json_output = False

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port (default 8000).")
        parser.add_argument("--threads", type=int, default=8, help="Web worker threads (default 8).")
        parser.add_argument("--no-worker", action="store_true", help="Do not start the background task worker.")
        parser.add_argument("--no-scheduler", action="store_true", help="Do not start the daily scheduler.")

    def run(self, **options: Any) -> None:
        from waitress import serve

        from config.wsgi import application

        worker = None
        if not options["no_worker"]:
            # its own session: a Ctrl+C (or a TERM to the group) reaches serve only, which stops the worker once,
            # gracefully, instead of the worker seeing the signal twice and aborting its task
            worker = subprocess.Popen(
                [sys.executable, "-m", "relance", "db_worker", "--interval", "1", "--no-reload"], start_new_session=True
            )
        scheduler = None
        if not options["no_scheduler"]:
            scheduler = SchedulerThread()
            scheduler.start()
        url = f"http://{options['host']}:{options['port']}"
        db = settings.DATABASES["default"]
        self.stdout.write(f"Relance is serving on {url}  (API: {url}/api/v1/docs, admin: {url}/admin/)")
        self.stdout.write(f"Database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
        self.stdout.write(
            f"Background worker: {'on' if worker else 'off'}; daily jobs at {settings.RELANCE_DAILY_AT} "
            f"{settings.TIME_ZONE}: {'on' if scheduler else 'off'}. Stop with Ctrl+C."
        )
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            serve(application, host=options["host"], port=options["port"], threads=options["threads"], ident="Relance")
        except KeyboardInterrupt:
            pass
        finally:
            if scheduler:
                scheduler.stop()
            if worker:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
