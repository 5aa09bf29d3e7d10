"""Property: backoff is slower than normal, for every queue through every VMTA, whatever the tables.

Hypothesis draws throttle tables (provider rates in every unit PowerMTA allows, with and without MX
patterns, any backoff fraction and ceiling) and inventories whose IPs are in every state, warming
IPs at any day of the real warmup presets (``warmup.plan.PRESETS``, day 1 included) or paused at 0.
Each rendered configuration is read back by the linter's parser, and every queue's effective
settings are computed after PowerMTA's inheritance between the global ``<domain>`` blocks and the
VMTA's own, in both orders the guide leaves open (``inheritance.ORDERS``). Then, in every case:

- the queue has a finite ``max-msg-rate`` (the rate backoff is measured against);
- a paused queue (``max-msg-rate 0``) has ``backoff-max-msg-rate 0``;
- otherwise ``backoff-max-msg-rate < max-msg-rate``, and above 0 unless the tables' ceiling is 0
  (an operator may choose to stop a queue in backoff);
- a warming VMTA's queues are within its warmup hourly cap, and its backoff is below it;
- the whole configuration lints without a finding.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from email_engine.integrations.powermta.config_tree import parse_tree
from email_engine.integrations.powermta.inheritance import DEFAULT_VMTA, queue_views
from email_engine.integrations.powermta.inventory import Inventory, IpEntry, PoolEntry, VolumeCap
from email_engine.integrations.powermta.linter import lint_files
from email_engine.integrations.powermta.rates import rate_per_hour
from email_engine.integrations.powermta.reference import PATTERN_BLOCKS
from email_engine.integrations.powermta.renderer import CONFIG_FILE, render_config
from email_engine.integrations.powermta.tables import ThrottleTables, default_tables, parse_tables
from email_engine.warmup.plan import PRESETS
from email_engine.warmup.schedule import hourly_limit, provider_limits
from tests.unit.powermta.guide import SAMPLE_RULES, guide_settings

STATES = ("active", "warming", "standby", "resting", "quarantined", "retired")
UNITS = ("h", "hr", "m", "min", "s", "sec", "d", "day")


@st.composite
def rates(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 20)) == 0:
        return "0"
    count = draw(st.integers(1, 2000))
    multiple = draw(st.sampled_from(["", "2", "5", "15", "90"]))
    return f"{count}/{multiple}{draw(st.sampled_from(UNITS))}"


@st.composite
def throttle_tables(draw: st.DrawFn) -> ThrottleTables:
    base = default_tables().model_dump(mode="json")
    names = draw(
        st.lists(
            st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,3})?", fullmatch=True),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    providers = []
    for index, name in enumerate(names):
        provider = {
            "name": name,
            "max_msg_rate": draw(rates()),
            "domains": [f"d{index}-{n}.example" for n in range(draw(st.integers(1, 3)))],
        }
        if draw(st.booleans()):
            provider["mx"] = [
                f"*.mx{index}.example",
                *([f"mx{index}.example"] if draw(st.booleans()) else []),
            ]
        providers.append(provider)
    base["providers"] = providers
    base["backoff_patterns"] = [{"provider": "generic", "pattern": "too many connections"}]
    base["default"]["max_msg_rate"] = draw(rates())
    base["backoff"] = {
        "rate_fraction": draw(st.floats(0.001, 0.999)),
        "max_msg_rate": draw(st.one_of(st.none(), rates())),
        "retry_after": "20m",
        "to_normal_after": "1h",
        "to_normal_after_delivery": True,
    }
    return parse_tables(base)


@st.composite
def inventories(draw: st.DrawFn) -> Inventory:
    pools = (
        PoolEntry("marketing", "marketing"),
        PoolEntry("cold", "cold"),
        PoolEntry("transactional", "transactional"),
    )
    count = draw(st.integers(1, 6))
    ips: list[IpEntry] = []
    limits: dict[int, VolumeCap] = {}
    for number in range(1, count + 1):
        state = draw(st.sampled_from(STATES))
        pool = draw(st.sampled_from([*(p.name for p in pools), None]))
        ips.append(
            IpEntry(
                number, f"192.0.2.{number}", f"mta{number}.example.com", f"vmta-{number}", "cold", state, pool
            )
        )
        if state == "warming":
            spec = PRESETS[draw(st.sampled_from(sorted(PRESETS)))].spec
            if draw(st.integers(0, 5)) == 0:
                limits[number] = VolumeCap(daily=0, hourly=0)  # plan paused: 0/0
            else:
                day = draw(st.integers(0, len(spec.curve) - 1)) if draw(st.booleans()) else 0  # day 1 often
                daily = spec.curve[day]
                limits[number] = VolumeCap(
                    daily=daily,
                    hourly=hourly_limit(daily, spec.active_hours),
                    providers=provider_limits(daily, spec.provider_shares),
                )
    return Inventory(ips=tuple(ips), pools=pools, limits=limits)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=throttle_tables(), inventory=inventories())
def test_backoff_is_strictly_slower_for_every_queue_and_state(
    tables: ThrottleTables, inventory: Inventory
) -> None:
    rendered = render_config(inventory, guide_settings(), tables, SAMPLE_RULES)
    tree = parse_tree(rendered.files, entry=CONFIG_FILE, pattern_blocks=PATTERN_BLOCKS)
    views = list(queue_views(tree))
    assert views
    checked_caps = 0
    stop_in_backoff = tables.backoff.max_msg_rate == "0"
    for view in views:
        normal_text, backoff_text = view.value("max-msg-rate"), view.value("backoff-max-msg-rate")
        assert normal_text is not None, view
        assert backoff_text is not None, view
        normal, backoff = rate_per_hour(normal_text), rate_per_hour(backoff_text)
        assert normal is not None and backoff is not None, view  # never unlimited
        if normal == 0:
            assert backoff == 0, view
        else:
            assert backoff < normal, (view.vmta, view.queue, view.order, normal_text, backoff_text)
            assert backoff > 0 or stop_in_backoff, (view.vmta, view.queue, normal_text, backoff_text)
        facts = rendered.vmtas.get(view.vmta)
        if facts is not None and facts.hourly_cap is not None and view.vmta != DEFAULT_VMTA:
            checked_caps += 1
            cap = Fraction(facts.hourly_cap)
            assert normal <= cap, (view, facts)
            assert backoff < cap or cap == backoff == 0, (view, facts)
    report = lint_files(
        rendered.files, entry=CONFIG_FILE, expected_ips=rendered.expected_ips, vmtas=rendered.vmtas
    )
    assert report.issues == [], [str(issue) for issue in report.issues[:5]]
    capped = [ip for ip in inventory.ips if ip.state in ("warming", "standby", "resting", "quarantined")]
    assert checked_caps > 0 or not capped
