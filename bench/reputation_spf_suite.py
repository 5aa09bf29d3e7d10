"""The RFC 7208 SPF suite on served zones: the engine's figure and pyspf's own, side by side.

    .venv/bin/python bench/reputation_spf_suite.py [--timeout 0.5]

Each of the suite's 16 scenarios is served by a real DNS server on loopback (tests/support/spf_suite.py).
"engine" is reputation/spf.py through auth_lookup (our resolver, DNS_NAMESERVERS pointed at the server);
"pyspf" is pyspf's own check2() with its dnspython reader, the default resolver pointed at the same server.
Prints agreement, false passes (pass where the suite says otherwise), explanation agreement and every
disagreement. docs/reputation.md quotes its output.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.nameserver
import dns.resolver

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.spf_suite import SuiteDnsServer, SuiteTest, load_scenarios  # noqa: E402

from email_engine.config import Settings  # noqa: E402
from email_engine.reputation.auth_lookup import evaluate_spf_live  # noqa: E402
from email_engine.reputation.spf import pyspf  # noqa: E402
from email_engine.resolver import make_async_resolver  # noqa: E402

DEFAULT_FAIL = "SPF fail - not authorized"


@dataclass
class Tally:
    agree: int = 0
    explained: int = 0
    false_passes: list[str] = field(default_factory=list)
    differences: list[tuple[str, tuple[str, ...], str, str]] = field(default_factory=list)


def _engine(port: int, test: SuiteTest, timeout: float) -> tuple[str, str]:
    settings = Settings(_env_file=None, DNS_NAMESERVERS=f"127.0.0.1:{port}")  # type: ignore[call-arg]
    resolver = make_async_resolver(settings, timeout=timeout)
    ev = asyncio.run(
        evaluate_spf_live(
            resolver, test.host, sender=test.mailfrom, helo=test.helo, timeout=timeout, receiver=test.receiver
        )
    )
    return ev.result, ev.explanation


def _pyspf(port: int, test: SuiteTest, timeout: float) -> tuple[str, str]:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver("127.0.0.1", port)]
    resolver.cache = None
    dns.resolver.default_resolver = resolver  # pyspf's reader uses the module-level resolver
    try:
        result, explanation = pyspf.check2(
            i=test.host, s=test.mailfrom, h=test.helo, receiver=test.receiver, timeout=timeout, querytime=0
        )
    except Exception as exc:  # pyspf lets some resolver errors escape; count them as its answer
        return f"exception {type(exc).__name__}", str(exc)
    return str(result), str(explanation)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timeout", type=float, default=0.5)
    args = parser.parse_args()
    tallies = {"engine": Tally(), "pyspf": Tally()}
    explained_total = 0
    total = 0
    started = time.perf_counter()
    for scenario in load_scenarios():
        with SuiteDnsServer(scenario.zonedata) as server:
            for test in scenario.tests:
                total += 1
                wants_explanation = bool(test.explanation) and "fail" in test.results
                explained_total += wants_explanation
                for name, run in (("engine", _engine), ("pyspf", _pyspf)):
                    result, explanation = run(server.port, test, args.timeout)
                    tally = tallies[name]
                    if result in test.results:
                        tally.agree += 1
                    else:
                        tally.differences.append((test.name, test.results, result, explanation[:90]))
                    if result == "pass" and "pass" not in test.results:
                        tally.false_passes.append(test.name)
                    want = DEFAULT_FAIL if test.explanation == "DEFAULT" else test.explanation
                    if wants_explanation and result == "fail" and explanation == want:
                        tally.explained += 1
    print(f"RFC 7208 suite: {total} tests, served from loopback DNS (timeout {args.timeout:g} s)")
    for name, tally in tallies.items():
        print(
            f"{name:7s} agree {tally.agree}/{total}, false passes {len(tally.false_passes)}, "
            f"explanations {tally.explained}/{explained_total}"
        )
        for difference in tally.differences:
            print(f"        differs: {difference}")
    print(f"wall time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
