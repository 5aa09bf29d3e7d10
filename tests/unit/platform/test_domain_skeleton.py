"""Every domain of ``plugins.DOMAINS`` has the skeleton DESIGN.md names, where it applies.

- the package says what the domain is (its ``__init__`` docstring, a sentence);
- tables live in the domain's ``models.py`` (the platform's own in ``platform/models.py``), and a
  ``models.py`` holds at least one table;
- a domain that answers JSON (``router.py``) declares its bodies in ``schemas.py``, never in the
  router, and keeps its logic in ``service.py`` (the console answers HTML over the other domains'
  services, so it has neither);
- every module that plugin discovery picks up has the names discovery reads.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from types import ModuleType

import pytest
from pydantic import BaseModel

from email_engine.config import Settings
from email_engine.db import Base
from email_engine.platform.healthcheck import HealthCheck
from email_engine.platform.jobspec import JobSpec
from email_engine.platform.preflight import PreflightCheck
from email_engine.plugins import DOMAINS, domain_modules, import_all_models

#: Domains that answer HTML, not JSON: no schemas.py or service.py of their own.
HTML_ONLY = frozenset({"console"})


def _has(domain: str, module: str) -> bool:
    return importlib.util.find_spec(f"email_engine.{domain}.{module}") is not None


def _module(domain: str, module: str) -> ModuleType:
    return importlib.import_module(f"email_engine.{domain}.{module}")


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_package_says_what_the_domain_is(domain: str) -> None:
    package = importlib.import_module(f"email_engine.{domain}")
    doc = (package.__doc__ or "").strip()
    assert len(doc.split()) >= 5 and doc.endswith("."), f"{domain}/__init__.py: say what the domain is"


def test_tables_live_in_models_modules() -> None:
    import_all_models()
    allowed = {f"email_engine.{domain}.models" for domain in DOMAINS} | {"email_engine.platform.models"}
    table_modules = {mapper.class_.__module__ for mapper in Base.registry.mappers}
    assert table_modules <= allowed, sorted(table_modules - allowed)
    empty = [d for d in DOMAINS if _has(d, "models") and f"email_engine.{d}.models" not in table_modules]
    assert not empty, f"models.py without a table: {empty}"


@pytest.mark.parametrize(
    "domain",
    [d for d in DOMAINS if _has(d, "router") and d not in HTML_ONLY],
)
def test_a_json_domain_has_schemas_and_service(domain: str) -> None:
    missing = [name for name in ("schemas", "service") if not _has(domain, name)]
    assert not missing, f"{domain} has router.py but no {', '.join(m + '.py' for m in missing)}"
    router = _module(domain, "router")
    declared_here = [
        name
        for name, value in vars(router).items()
        if inspect.isclass(value)
        and issubclass(value, BaseModel)
        and value.__module__ == router.__name__
        and value.__pydantic_generic_metadata__["origin"] is None  # not a parametrised Page[X]
    ]
    assert not declared_here, f"{domain}/router.py declares {declared_here}: they belong in schemas.py"


def test_discovered_modules_have_what_discovery_reads() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for module in domain_modules("jobs"):
        jobs = module.job_specs(settings) if hasattr(module, "job_specs") else module.JOBS
        assert all(isinstance(job, JobSpec) for job in jobs), module.__name__
    for module in domain_modules("health"):
        assert all(isinstance(check, HealthCheck) for check in module.CHECKS), module.__name__
    for module in domain_modules("preflight"):
        assert all(isinstance(check, PreflightCheck) for check in module.CHECKS), module.__name__
    for module in domain_modules("gauges"):
        assert all(callable(gauge) for gauge in module.GAUGES), module.__name__
        assert all(callable(path) for path in getattr(module, "DISK_PATHS", ())), module.__name__
    for module in domain_modules("lifespan"):
        assert inspect.iscoroutinefunction(module.startup), module.__name__
        assert inspect.iscoroutinefunction(module.shutdown), module.__name__
    for module in domain_modules("cli"):
        assert callable(module.register), module.__name__
    for module in domain_modules("router"):
        assert hasattr(module, "router") or hasattr(module, "public_router"), module.__name__
    for module in domain_modules("senders"):
        assert all(callable(send) for send in module.SENDERS.values()), module.__name__
