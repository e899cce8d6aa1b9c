"""The process registry: every dispute category defined in `processes/`, parsed and checked.

A category is a folder with `category.toml`, its BPMN and DMN files; `processes/library/` holds the
shared processes categories call. Loading lints every file, parses each category with SpiffWorkflow
(XSD-validated) and keeps the result by content hash, so unchanged files are never parsed twice and a
case can always find the exact definition it started with. A broken category is reported and left out
whole; the others keep working.
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from . import lint
from .bundle import PARSED, ProcessBundle, bundle_from_specs
from .errors import UnknownCategory
from .forms import FormLibrary
from .problems import Problem

LIBRARY_DIR = "library"
VARIANTS_DIR = "variants"  # county variants, engine/variants.py


@dataclass(frozen=True)
class Category:
    """A dispute category (纠纷类别) and the executable definition in force for it."""

    code: str
    name: str
    process_id: str
    folder: Path | None  # None: created in the designer, its files are in drafts (engine/designed_categories.py)
    bundle: ProcessBundle
    files: tuple[Path, ...]
    intake_form: str = "intake"
    jurisdiction_code: str = ""  # a designed category is offered here and below; "" = everywhere

    @property
    def designed(self) -> bool:
        """Created in the browser designer: no folder in processes/, nothing to sync from files."""
        return self.folder is None

    def offered_at(self, chain) -> bool:
        """Whether a jurisdiction with ancestors `chain` (itself first, "" last) may register it."""
        return not self.jurisdiction_code or self.jurisdiction_code in chain

    @property
    def spec_hash(self) -> str:
        return self.bundle.hash


@dataclass
class LoadReport:
    """What a load found: the categories that loaded and every problem, errors and warnings."""

    categories: dict[str, Category] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    broken: dict[str, list[Problem]] = field(default_factory=dict)  # folder name -> its errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


class ProcessRegistry:
    """Loads categories from a processes folder; `reload()` picks up edits."""

    def __init__(self, processes_dir: Path, forms: FormLibrary):
        self.processes_dir = Path(processes_dir)
        self.forms = forms
        self._bundles: dict[str, ProcessBundle] = {}
        self.designed: dict[str, Category] = {}  # categories created in the designer, kept across reloads
        self.report = LoadReport()
        self.reload()

    @property
    def categories(self) -> dict[str, Category]:
        return self.report.categories

    def reload(self) -> LoadReport:
        """Read every file again; replace the category table only once it is fully built."""
        report = LoadReport(problems=list(self.forms.reload()))
        library, library_problems = self._load_library()
        report.problems += library_problems
        for folder in sorted(p for p in self.processes_dir.iterdir()
                             if p.is_dir() and p.name not in (LIBRARY_DIR, VARIANTS_DIR)
                             and not p.name.startswith((".", "_"))):
            category, problems = self._load_category(folder, library)
            report.problems += problems
            if category is not None:
                report.categories[category.code] = category
            else:
                report.broken[folder.name] = [p for p in problems if p.is_error]
        for code, category in self.designed.items():
            report.categories.setdefault(code, category)  # a folder of the same code wins
        self.report = report
        # County variants are linted now and overlaid on demand (engine/variants.py).
        from .variants import VariantSet

        self.variants = VariantSet(self, library)
        report.problems += self.variants.problems
        return report

    def category(self, code: str) -> Category:
        """The category `code`; UnknownCategory if it does not exist or failed to load."""
        try:
            return self.categories[code]
        except KeyError:
            raise UnknownCategory(code, self.report.broken.get(code, [])) from None

    def add_designed(self, category: Category) -> None:
        """Offer a category created in the designer (engine/designed_categories.attach)."""
        self.designed[category.code] = category
        self.remember(category.bundle)
        if category.code not in self.report.categories or self.report.categories[category.code].designed:
            # A new dict, not an update in place: other threads may be iterating over the old one.
            self.report.categories = {**self.report.categories, category.code: category}

    def bundle(self, spec_hash: str) -> ProcessBundle | None:
        """A definition this process has parsed, by content hash (current or earlier version)."""
        return self._bundles.get(spec_hash)

    def remember(self, bundle: ProcessBundle) -> None:
        """Keep a bundle restored from the database so it is not restored again."""
        self._bundles.setdefault(bundle.hash, bundle)

    # -- loading -------------------------------------------------------------------------------

    def _load_library(self) -> tuple[dict[str, "_LibraryFile"], list[Problem]]:
        library: dict[str, _LibraryFile] = {}
        problems: list[Problem] = []
        folder = self.processes_dir / LIBRARY_DIR
        for path in sorted(folder.glob("*.bpmn")) if folder.is_dir() else []:
            tree, file_problems = self._lint_bpmn(path)
            problems += file_problems
            ok = tree is not None and not any(p.is_error for p in file_problems)
            for process_id in lint.defined_process_ids(tree) if tree is not None else ():
                library[process_id] = _LibraryFile(path, ok, path.read_bytes())
        return library, problems

    def _lint_bpmn(self, path: Path):
        tree, problems = lint.parse_xml(path)
        if tree is None:
            return None, problems
        problems = lint.check_bpmn_schema(path, tree)
        problems += lint.check_bpmn(path, tree, set(self.forms.names()))
        return tree, problems

    def _load_category(self, folder: Path, library: dict[str, "_LibraryFile"]):
        meta, problems = _read_category_toml(folder / "category.toml")
        if meta is None:
            return None, problems
        bpmn_files = sorted(folder.glob("*.bpmn"))
        dmn_files = sorted(folder.glob("*.dmn"))
        trees = {}
        unreadable = False  # a file that did not parse: do not report what it may well define as missing
        for path in bpmn_files:
            tree, file_problems = self._lint_bpmn(path)
            problems += file_problems
            if tree is not None:
                trees[path] = tree
            else:
                unreadable = True
        decisions: set[str] = set()
        for path in dmn_files:
            tree, file_problems = lint.parse_xml(path)
            problems += file_problems
            if tree is not None:
                ids, dmn_problems = lint.dmn_decision_ids(path, tree)
                decisions |= ids
                problems += dmn_problems
            else:
                unreadable = True
        used_library = self.check_references(folder / "category.toml", meta, trees, decisions, unreadable,
                                             library, problems, f"{folder.name}/")
        if any(p.is_error for p in problems):
            return None, problems

        intake_form = meta.get("intake_form", "intake")
        if intake_form not in self.forms:
            problems.append(Problem(str(folder / "category.toml"), _toml_line(folder / "category.toml", "intake_form"),
                                    None, f"intake_form {intake_form!r} does not exist in forms/"))
            return None, problems
        files = tuple(bpmn_files + dmn_files + [lib.path for lib in used_library])
        # The forms belong to the version too: a case keeps validating against the schemas it started with.
        forms = {name: self.forms.get(name).schema for name in sorted(_form_names(trees, used_library) | {intake_form})}
        spec_hash = _content_hash(files, self.processes_dir, forms)
        bundle = self._bundles.get(spec_hash) or PARSED.get(spec_hash)
        if bundle is None:
            bundle, parse_problems = _parse(meta["process_id"], bpmn_files, dmn_files, used_library, spec_hash, forms)
            if bundle is None:
                return None, problems + parse_problems
            PARSED[spec_hash] = bundle
        self._bundles[spec_hash] = bundle
        category = Category(meta["code"], meta["name"], meta["process_id"], folder, bundle, files, intake_form)
        return category, problems

    def check_references(self, toml_path: Path, meta: dict, trees: dict, decisions: set[str], unreadable: bool,
                         library: dict[str, "_LibraryFile"], problems: list[Problem], where: str):
        """Check what a category's files refer to (its process, called processes and decisions, unique
        ids), appending to `problems`; returns the library files it calls. `unreadable`: a file did not
        parse, so what it may well define is not reported missing."""
        own_processes = {pid for tree in trees.values() for pid in lint.defined_process_ids(tree)}
        if meta["process_id"] not in own_processes and not unreadable:
            problems.append(Problem(str(toml_path), _toml_line(toml_path, "process_id"), None,
                                    f"process_id {meta['process_id']!r} is not defined by any .bpmn file of {where}"))
        used_library = self._check_calls(trees, own_processes, library, problems)
        problems += _duplicate_ids(trees, used_library)
        for path, tree in trees.items():
            for task_id, decision in lint.called_decisions(tree):
                if decision not in decisions and not unreadable:
                    problems.append(Problem(str(path), lint.element_line(tree, task_id), task_id,
                                            f"calledDecisionId {decision!r} is not defined by any .dmn file of {where}"))
        return used_library

    def _check_calls(self, trees, own_processes, library, problems) -> list["_LibraryFile"]:
        """Resolve call activities; report dangling ones; return the library files needed."""
        needed: dict[Path, _LibraryFile] = {}
        pending = [(path, tree) for path, tree in trees.items()]
        seen_library: set[Path] = set()
        while pending:
            path, tree = pending.pop()
            for activity_id, called in lint.called_elements(tree):
                line = lint.element_line(tree, activity_id)
                if called in own_processes:
                    continue
                lib = library.get(called)
                if lib is None:
                    problems.append(Problem(str(path), line, activity_id,
                                            f"calledElement {called!r}: no process with that id in this category or in library/"))
                elif not lib.ok:
                    problems.append(Problem(str(path), line, activity_id,
                                            f"calledElement {called!r} is defined in {lib.path}, which has errors"))
                else:
                    needed[lib.path] = lib
                    if lib.path not in seen_library:
                        seen_library.add(lib.path)
                        lib_tree, _ = lint.parse_xml(lib.path)
                        pending.append((lib.path, lib_tree))
        return sorted(needed.values(), key=lambda lib: lib.path)


@dataclass(frozen=True)
class _LibraryFile:
    path: Path
    ok: bool
    content: bytes


def _read_category_toml(path: Path) -> tuple[dict | None, list[Problem]]:
    if not path.exists():
        return None, [Problem(str(path), None, None, "missing category.toml (code, name, process_id)")]
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        return None, [Problem(str(path), int(match.group(1)) if match else None, None, f"TOML syntax: {exc}")]
    missing = [key for key in ("code", "name", "process_id") if not isinstance(meta.get(key), str) or not meta.get(key)]
    if missing:
        return None, [Problem(str(path), None, None, f"category.toml needs {', '.join(missing)}")]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", meta["code"]):
        return None, [Problem(str(path), None, None, f"code {meta['code']!r}: use lower-case letters, digits and _")]
    return meta, []


def _duplicate_ids(trees: dict, library_files) -> list[Problem]:
    """Element ids must be unique across a category and the library processes it calls: task
    properties, timers and documents are looked up by element id."""
    seen: dict[str, tuple[Path, int | None]] = {}
    problems = []
    sources = list(trees.items()) + [(lib.path, lint.parse_xml(lib.path)[0]) for lib in library_files]
    for path, tree in sources:
        for process in tree.xpath("//bpmn:process", namespaces=lint.NS):
            for el in process.iter():
                element_id = el.get("id") if isinstance(el.tag, str) else None
                if not element_id or el is process:
                    continue
                if element_id in seen and seen[element_id][0] != path:
                    other, line = seen[element_id]
                    problems.append(Problem(str(path), el.sourceline, element_id,
                                            f"element id also used in {other.name}:{line}; ids must be unique "
                                            "across a category and the library processes it calls"))
                seen.setdefault(element_id, (path, el.sourceline))
    return problems


def _toml_line(path: Path, key: str) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip().startswith(key):
            return number
    return None


def _form_names(trees: dict, library_files) -> set[str]:
    sources = list(trees.values()) + [lint.parse_xml(lib.path)[0] for lib in library_files]
    return {lint.properties(task).get("form") for tree in sources
            for task in tree.xpath("//bpmn:userTask", namespaces=lint.NS)} - {None, ""}


def _content_hash(files: tuple[Path, ...], root: Path, forms: dict[str, dict]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(forms, sort_keys=True, ensure_ascii=False).encode())
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _parse(process_id, bpmn_files, dmn_files, library_files, spec_hash, forms):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_files([str(p) for p in bpmn_files] + [str(lib.path) for lib in library_files])
        parser.add_dmn_files([str(p) for p in dmn_files])
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        file_name = exc.file_name or (str(bpmn_files[0]) if bpmn_files else "?")
        # The error may be in a DMN or library file as well as in one of the category's BPMN files.
        tree = lint.parse_xml(Path(file_name))[0] if exc.id and Path(file_name).is_file() else None
        line = lint.element_line(tree, exc.id) if tree is not None else None
        return None, [Problem(file_name, line, exc.id or None, f"SpiffWorkflow: {exc}")]
    except Exception as exc:  # the parser raises bare errors for some malformed input
        return None, [Problem(str(bpmn_files[0]) if bpmn_files else "?", None, None,
                              f"SpiffWorkflow could not parse the category: {type(exc).__name__}: {exc}")]
    return bundle_from_specs(spec_hash, process_id, spec, subprocess_specs, forms), []
