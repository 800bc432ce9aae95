"""The running system for end-to-end tests, as the local stack runs it: two intake instances behind the real
NGINX (every API request of the tests goes through it, and it serves the built web client, web/dist, as
`make up` does), processor, relay, projections and expiry as real processes. The intakes have the
development sign-in on (POST /v1/dev/token), as on the local stack, for the browser tests (tests/browser),
which start this same System."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.api import Api
from tests.support.front_door import Nginx
from tests.support.keys import session_signer
from tests.support.processes import Service

INTAKES = 2
WEB_ROOT = Path(__file__).resolve().parents[2] / "web" / "dist-e2e"  # the test build (docs/WEB.md), by `make install`


class System:
    def __init__(self, log_dir: Path, settings) -> None:
        self.log_dir, self.settings = log_dir, settings
        # The development payment provider (payments/devprovider.py), which the intakes and notifiers call.
        self.devpay = Service("devpay", "payments.devprovider", {}, log_dir)
        env: dict[str, str] = {"BOXOFFICE_EXPIRY_INTERVAL_S": "0.5", "BOXOFFICE_PAYMENT_API_URL": self.devpay.url}
        self.intake = Service("intake", "intake", env, log_dir)
        self.processor = Service("booking_processor", "booking_processor", env, log_dir)
        self.relay = Service("outbox_relay", "booking_processor.relay_main", env, log_dir)
        self.projections = Service("projections", "projections", env, log_dir)
        self.expiry = Service("expiry", "expiry", env, log_dir)
        intake_env = {**env, "BOXOFFICE_DEV_SIGNIN": "1"}
        self.intakes = [
            Service(f"intake-{i}", "intake", {**intake_env, "BOXOFFICE_INSTANCE": f"intake-{i}"}, log_dir)
            for i in range(1, INTAKES + 1)
        ]
        self.intake = self.intakes[0]
        # The tests run from 127.0.0.1, which nginx.sh trusts by default (no per-address limits: the suite
        # sends thousands of requests a second from it), and they read what they just wrote: their reads skip
        # the micro-cache. tests/e2e/test_front_door_limits.py and test_micro_cache.py are other clients
        # (127.0.0.2, 127.0.0.3), limited and cached like any.
        self.front_door = Nginx(
            log_dir / "nginx", [i.port for i in self.intakes], web_root=WEB_ROOT, uncached=["127.0.0.1"]
        )
        # Buyers come back to the front door after paying, and the provider's webhooks go to it.
        self.devpay.env["BOXOFFICE_PAYMENT_WEBHOOK_URL"] = f"{self.front_door.url}/v1/payments/webhook/dev"
        for intake in self.intakes:
            intake.env["BOXOFFICE_PUBLIC_URL"] = self.front_door.url

    @property
    def services(self) -> list[Service]:
        return [self.devpay, self.processor, self.relay, self.projections, self.expiry, *self.intakes]

    def start(self) -> None:
        try:
            for service in self.services:
                service.start(wait=False)
            for service in self.services:
                service.wait_ready()
            self.front_door.start()
        except BaseException:
            self.stop()  # no process outlives a failed start
            raise

    def stop(self) -> None:
        self.front_door.stop()
        for service in reversed(self.services):
            service.stop()


@pytest.fixture(scope="session")
def system(settings):
    log_dir = Path(os.environ.get("BOXOFFICE_STACK_DIR", ".stack-test")) / "test-logs"
    system = System(log_dir, settings)
    system.start()
    yield system
    system.stop()


@pytest.fixture(scope="session")
async def api(system, settings):
    client = Api(system.front_door.url, session_signer(settings))
    yield client
    await client.close()
