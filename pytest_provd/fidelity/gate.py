"""The gate's own matrix: each model under the configs its ``<model>::matrix`` item renders.

Which configs those are depends on the model's capability and on the values the target's
templates compare parameters with (:func:`pytest_provd.tiers.matrix.model_shape`), so the
plugin must be loaded first.  :func:`plan` does that in the embedded side's interpreter (our
compat ``wazo_provd``) and returns, per model, the default config (``default``: the sample
config the ``configure`` items render) then the packed configs of
:func:`~pytest_provd.rendering.matrix.model_matrix`, exactly as the matrix item builds them.

The configs have no parent config: the matrix item hands a plugin the raw config as built
(``no-ntp`` has no NTP server), where provd's ``base`` config would put one back.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pytest_provd.fidelity.job import DeviceJob, config_id, device_for
from pytest_provd.fidelity.matrix import RenderConfig

if TYPE_CHECKING:
    from pytest_provd import tree
    from pytest_provd.session import ProvdSession

NAME = "gate"
DEFAULT_LABEL = "default"


@dataclass
class PlanJob:
    """What the plan worker loads: the built plugin and the models to plan for."""

    plugin_id: str
    built_dir: str
    state_dir: str
    models: list[str]

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> PlanJob:
        return cls(**json.loads(path.read_text()))


@dataclass
class Plan:
    """Per model, its configs in render order; *error* when the plugin did not load."""

    configs: dict[str, list[RenderConfig]] = field(default_factory=dict)
    error: str | None = None

    def dump(self, path: Path) -> None:
        data = {
            "error": self.error,
            "configs": {
                model: [{"label": c.label, "raw_config": c.raw_config} for c in configs]
                for model, configs in self.configs.items()
            },
        }
        path.write_text(json.dumps(data, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> Plan:
        data = json.loads(path.read_text())
        configs = {
            model: [RenderConfig(c["label"], c["raw_config"]) for c in items]
            for model, items in data["configs"].items()
        }
        return cls(configs, data["error"])


def default_only(models: list[str]) -> dict[str, list[RenderConfig]]:
    """The default config alone for every model (a plugin that does not load has no matrix:
    both sides are still asked to load it)."""
    from pytest_provd.rendering.matrix import sample_raw_config

    return {model: [RenderConfig(DEFAULT_LABEL, sample_raw_config())] for model in models}


def plan(job: PlanJob) -> Plan:
    """Load the plugin on our compat ``wazo_provd`` and work out every model's configs."""
    from pytest_provd.fidelity._embedded import force_compat

    force_compat()
    # After force_compat(): the plugin manager and the tiers import wazo_provd.
    from pytest_provd.provd.plugins.manager import PluginError, PluginManager
    from pytest_provd.rendering.matrix import model_matrix, sample_raw_config
    from pytest_provd.tiers._run import TargetRun
    from pytest_provd.tiers.matrix import model_shape

    plugins_dir = Path(job.state_dir) / "plugins"
    if plugins_dir.exists():
        shutil.rmtree(plugins_dir)
    shutil.copytree(job.built_dir, plugins_dir / job.plugin_id, symlinks=True)
    manager = PluginManager(plugins_dir, gen_cfg={"proxies": {}})
    try:
        loaded = manager.load(job.plugin_id)
    except PluginError as exc:
        manager.close()
        return Plan(default_only(job.models), f"{type(exc).__name__}: {exc}")
    # model_shape reads a target run's capability, protocol, memo and loaded plugin, not its
    # pytest session or target: a run over the plugin loaded here gives the item's shapes.
    run = TargetRun(cast("ProvdSession", None), cast("tree.Target", None))
    run._loaded = loaded
    out: dict[str, list[RenderConfig]] = {}
    try:
        for model in job.models:
            configs = [RenderConfig(DEFAULT_LABEL, sample_raw_config())]
            configs += [
                RenderConfig(c.label, c.raw_config) for c in model_matrix(model_shape(run, model))
            ]
            out[model] = configs
    finally:
        manager.close()
    return Plan(out)


def docs_and_devices(
    plugin_id: str, per_model: dict[str, list[RenderConfig]], capabilities: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[DeviceJob]]:
    """The config documents (one per distinct raw config, no parent) and one device per model
    and config, in model order then config order."""
    docs: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    devices: list[DeviceJob] = []
    for model, configs in per_model.items():
        for config in configs:
            key = json.dumps(config.raw_config, sort_keys=True)
            if key not in ids:
                ids[key] = config_id(len(docs))
                docs.append(
                    {
                        "id": ids[key],
                        "parent_ids": [],
                        "deletable": True,
                        "raw_config": config.raw_config,
                    }
                )
            devices.append(
                device_for(plugin_id, model, capabilities, len(devices) + 1, config, ids[key])
            )
    return docs, devices
