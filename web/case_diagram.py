"""A case's 流程图 on its page: the diagram of the version the case runs on, with the user tasks it has
completed and the ones it is at now (engine/cockpit_heatmap.case_path), and the same as two lists for
readers without JavaScript. A thin layer over engine/cockpit_heatmap.py and web/process_diagram.py.
"""
from __future__ import annotations

from engine.cockpit_heatmap import case_path
from engine.models import Case, ProcessVersion

from .extensions import db
from .process_diagram import version_diagram, viewer_ready
from .services import services


def case_diagram(case: Case) -> dict:
    """What the page's 流程图 section shows: `stored` False (with nothing else drawn) when the case's
    version or its text is not kept; else the XML, the marked element ids and their names."""
    path = case_path(db.session, case)
    category = services().registry.categories.get(case.category_code)
    version = db.session.get(ProcessVersion, case.process_version_id) if case.process_version_id else None
    diagram = version_diagram(version, category.process_id if category else None) if version is not None else None
    names = dict(category.bundle.tasks) if category else {}
    known = diagram.user_tasks if diagram else {}

    def named(ids: list[str]) -> list[dict]:
        return [{"id": element_id, "name": known.get(element_id) or getattr(names.get(element_id), "name", None)
                 or element_id} for element_id in ids]

    return {"stored": diagram is not None, "version": version, "xml": diagram.xml if diagram else None,
            "file_name": diagram.file_name if diagram else None, "viewer_ready": viewer_ready(),
            "done": named(path.done), "current": named(path.current),
            "markers": {"done": [i for i in path.done if i not in path.current], "current": path.current}}
