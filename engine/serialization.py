"""Workflow state to JSON and back, without the spec.

SpiffWorkflow embeds the full spec in every serialized workflow (~20 KB of a ~36 KB case) and restores
it on every load. We store specs once per content hash and hand the already-parsed spec objects back
on load, which is both smaller and faster; the case still runs on the exact definition it started with
because it names that hash.
"""
from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .bundle import ProcessBundle, bundle_from_specs

# Pinned: the stored JSON is this format (ENGINE_NOTES: migrations of old formats are incomplete).
STATE_FORMAT = "fengqiao-1/spiff-1.5"


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Writes a top-level workflow without `spec`/`subprocess_specs`."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict_with_specs(self, dct, spec, subprocess_specs):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class WorkflowCodec:
    """Serializes workflow state and specs; one instance is shared (it holds no case state)."""

    def __init__(self):
        self._registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        # Constructing a converter registers it, replacing the default one for BpmnWorkflow.
        self._workflow_converter = _SpecFreeWorkflowConverter(BpmnWorkflow, self._registry)

    def dump_state(self, workflow: BpmnWorkflow) -> str:
        """The case's workflow state as JSON, without its spec."""
        dct = self._registry.convert(workflow)
        dct["format"] = STATE_FORMAT
        return json.dumps(dct, ensure_ascii=False, separators=(",", ":"), default=_json_default)

    def load_state(self, state: str, bundle: ProcessBundle) -> BpmnWorkflow:
        """Rebuild a workflow from `dump_state` output and the bundle it ran on."""
        dct = json.loads(state)
        found = dct.pop("format", None)
        if found != STATE_FORMAT:
            raise ValueError(f"stored workflow state has format {found!r}, expected {STATE_FORMAT!r}")
        return self._workflow_converter.from_dict_with_specs(dct, bundle.spec, bundle.subprocess_specs)

    def dump_specs(self, bundle: ProcessBundle) -> str:
        """The bundle's specs as JSON, stored once per hash."""
        dct = {
            "spec": self._registry.convert(bundle.spec),
            "subprocess_specs": {name: self._registry.convert(s) for name, s in bundle.subprocess_specs.items()},
            "forms": bundle.forms,
        }
        return json.dumps(dct, ensure_ascii=False, separators=(",", ":"))

    def load_specs(self, spec_hash: str, process_id: str, spec_json: str) -> ProcessBundle:
        """Restore a bundle stored by `dump_specs` (a version no longer in processes/)."""
        dct = json.loads(spec_json)
        spec = self._registry.restore(dct["spec"])
        subprocess_specs = {name: self._registry.restore(s) for name, s in dct["subprocess_specs"].items()}
        return bundle_from_specs(spec_hash, process_id, spec, subprocess_specs, dct.get("forms", {}))


def _json_default(value: Any):
    # Dates entered in forms arrive as strings; anything else unexpected is a bug worth seeing.
    raise TypeError(f"case data value of type {type(value).__name__} cannot be stored: {value!r}")
