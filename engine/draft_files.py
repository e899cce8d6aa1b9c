"""A draft's files as a category folder: what processes/ defines as text, and a temporary tree to
load a draft through the same registry code path `fengqiao check` and publishing use.

A draft holds the *effective* BPMN and DMN files of a category for one jurisdiction: for the base
the category folder's own files; for a county the base overlaid by its variants, limits and
department names already written in. To check or publish it, `draft_tree` writes a minimal
processes/ folder — library/, the base category, the variants on the jurisdiction's chain and the
draft itself as that level's files — and loads a ProcessRegistry over it. Nothing is
re-implemented: the problems are the registry's own, with the draft's file names.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterator, Sequence

from lxml import etree

from . import lint
from .draft_forms import (FORMS_PREFIX, form_name_of, is_form_file, located, renderable_problems,
                          unused_form_warnings, write_forms)
from .forms import FormLibrary
from .problems import Problem
from .registry import LIBRARY_DIR, VARIANTS_DIR, ProcessRegistry

DRAFT_SUFFIXES = (".bpmn", ".dmn")


class DraftFileError(ValueError):
    """A file name a draft cannot hold."""


@dataclass
class DraftTree:
    """A temporary processes/ folder holding a draft, and the registry loaded over it."""

    root: Path
    registry: ProcessRegistry
    category_code: str
    level: str  # "" = the base, else the jurisdiction whose variant the draft is
    folder: Path  # where the draft's files were written
    form_files: dict[str, str] = field(default_factory=dict)  # resolved path written -> "forms/<name>.json"

    def problems(self) -> list[Problem]:
        """What the registry found in the draft's own files (and category.toml next to them)."""
        if self.level:
            found = self.registry.variants.problems
        else:
            found = self.registry.report.problems
        return [p for p in found if _inside(p.file, self.folder) or _resolved(p.file) in self.form_files]


def check_file_name(name: str) -> str:
    """A plain .bpmn or .dmn file name (no folders), or a form "forms/<name>.json" (engine/draft_forms.py);
    DraftFileError otherwise."""
    if name.startswith(FORMS_PREFIX):
        if form_name_of(name) is None:
            raise DraftFileError(f"{name!r}: a draft's form is named forms/<name>.json, <name> in lower-case letters, "
                                 "digits and _ starting with a letter, e.g. forms/mediate.json")
        return name
    pure = PurePosixPath(name.replace("\\", "/"))
    if len(pure.parts) != 1 or pure.name in ("", ".", "..") or pure.suffix not in DRAFT_SUFFIXES:
        raise DraftFileError(f"{name!r}: a draft holds .bpmn and .dmn files named without folders, e.g. neighbour.bpmn, "
                             "and forms named forms/<name>.json")
    return pure.name


def effective_files(registry: ProcessRegistry, category_code: str, chain: Sequence[str]) -> tuple[str, dict[str, str]]:
    """(content hash, file name -> text) of the category as processes/ now defines it for `chain[0]`."""
    definition = registry.variants.resolve(category_code, chain)
    base = registry.category(category_code)
    if not definition.levels:
        files = {path.name: path.read_text(encoding="utf-8") for path in sorted(base.folder.iterdir())
                 if path.is_file() and path.suffix in DRAFT_SUFFIXES}
        return definition.hash, files
    _, bpmn, dmn, *_ = definition._parse_input  # the trees with every overlay written in
    library = registry.processes_dir / LIBRARY_DIR
    files = {}
    for path, tree in list(bpmn) + list(dmn):
        if Path(path).parent != library:
            files[Path(path).name] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8").decode("utf-8")
    return definition.hash, files


@contextmanager
def draft_tree(registry: ProcessRegistry, category_code: str, chain: Sequence[str],
               files: dict[str, str], designed: NewCategory | None = None) -> Iterator[DraftTree]:
    """Write the draft of `category_code` for `chain[0]` into a temporary processes/ folder and load
    it; the folder is removed on leaving. `chain` is variant_lookup.ancestors of the jurisdiction.

    A category created in the designer (`designed`) has no base in processes/: its files are the
    base, written beside a category.toml made from `designed`, whatever the level; the level's
    variant folder is still there so that publishing for it sees its settings (colours, calendar)."""
    if designed is not None:
        yield from _designed_tree(registry, chain, files, designed)
        return
    level = chain[0]
    base = registry.category(category_code)
    source = registry.processes_dir
    with tempfile.TemporaryDirectory(prefix="fengqiao-draft-") as tmp:
        root = Path(tmp) / "processes"
        root.mkdir()
        if (source / LIBRARY_DIR).is_dir():
            shutil.copytree(source / LIBRARY_DIR, root / LIBRARY_DIR)
        base_folder = root / base.folder.name
        base_folder.mkdir()
        _copy_category(base.folder, base_folder, with_files=bool(level))
        folder = base_folder
        if level:
            for code in reversed(chain[1:]):
                if code in registry.variants:
                    _copy_variant(registry.variants.get(code).folder, root / VARIANTS_DIR / code, category_code)
            own = registry.variants.get(level)
            target = root / VARIANTS_DIR / level
            if own is not None:
                _copy_variant(own.folder, target, category_code, with_category=False)
                toml = own.folder / category_code / "category.toml"
                folder = target / category_code
                folder.mkdir(parents=True)
                if toml.is_file():
                    shutil.copy2(toml, folder / toml.name)
            else:
                folder = target / category_code
                folder.mkdir(parents=True)
                (target / "variant.toml").write_text(f'name = "{level}"\n', encoding="utf-8")
        _write_process_files(folder, files)
        forms_dir, form_files = _write_draft_forms(registry, root, level, files)
        tree_registry = ProcessRegistry(root, FormLibrary(forms_dir))
        yield DraftTree(root, tree_registry, category_code, level, folder, form_files)


def lint_draft(registry: ProcessRegistry, category_code: str, chain: Sequence[str],
               files: dict[str, str], designed: NewCategory | None = None) -> list[Problem]:
    """Every problem `fengqiao check` would report for the draft's files, named by file name."""
    with draft_tree(registry, category_code, chain, files, designed) as tree:
        problems = [_renamed(p, tree.form_files, files) for p in tree.problems()]
        intake_form = _intake_form(tree, chain)
    problems += renderable_problems(files)
    if intake_form is not None:
        problems += unused_form_warnings(files, intake_form, registry.processes_dir / LIBRARY_DIR)
    if designed is None:
        problems += overridden_limits(registry, category_code, chain, files)
    return problems


@dataclass(frozen=True)
class NewCategory:
    """What category.toml says for a category created in the designer (models.DesignedCategory)."""

    code: str
    name: str
    process_id: str
    intake_form: str = "intake"

    def toml(self) -> str:
        return "".join(f"{key} = {json.dumps(getattr(self, key), ensure_ascii=False)}\n"
                       for key in ("code", "name", "process_id", "intake_form"))


def _designed_tree(registry: ProcessRegistry, chain: Sequence[str], files: dict[str, str],
                   designed: NewCategory) -> Iterator[DraftTree]:
    source = registry.processes_dir
    with tempfile.TemporaryDirectory(prefix="fengqiao-draft-") as tmp:
        root = Path(tmp) / "processes"
        root.mkdir()
        if (source / LIBRARY_DIR).is_dir():
            shutil.copytree(source / LIBRARY_DIR, root / LIBRARY_DIR)
        folder = root / designed.code
        folder.mkdir()
        (folder / "category.toml").write_text(designed.toml(), encoding="utf-8")
        level = chain[0]
        for code in reversed(chain[1:] if level else ()):
            if code in registry.variants:
                _copy_variant(registry.variants.get(code).folder, root / VARIANTS_DIR / code, designed.code)
        if level:
            own = registry.variants.get(level)
            if own is not None:
                _copy_variant(own.folder, root / VARIANTS_DIR / level, designed.code)
            else:
                (root / VARIANTS_DIR / level).mkdir(parents=True)
                (root / VARIANTS_DIR / level / "variant.toml").write_text(f'name = "{level}"\n', encoding="utf-8")
        # The files are the base's, whatever the level the category was created for.
        _write_process_files(folder, files)
        # A new category's forms are the base's as well: a copy of forms/ overlaid with the draft's.
        forms_dir, form_files = _write_draft_forms(registry, root, "", files)
        tree_registry = ProcessRegistry(root, FormLibrary(forms_dir))
        # Problems are read from the base's copy, whatever the level.
        yield DraftTree(root, tree_registry, designed.code, "", folder, form_files)


def overridden_limits(registry: ProcessRegistry, category_code: str, chain: Sequence[str],
                      files: dict[str, str]) -> list[Problem]:
    """A county's draft changing a limit its city's limits.toml sets would be overwritten again
    when the variants are overlaid: report it instead of losing the edit silently."""
    problems = []
    for code in chain[1:]:
        variant = registry.variants.get(code) if code else None
        for element_id, limits in (variant.limits.get(category_code, {}) if variant else {}).items():
            for name, text in files.items():
                found = _element(text, element_id) if name.endswith(".bpmn") else None
                if found is None:
                    continue
                value = lint.properties(found).get
                for prop, limit in limits.items():
                    if value(prop) is not None and value(prop) != limit.value:
                        problems.append(Problem(name, found.sourceline, element_id,
                                                f"{prop} {value(prop)!r}: {code}'s limits.toml sets {limit.value!r} "
                                                f"and is applied over this jurisdiction's files; ask {code} to change it"))
    return problems


# -- helpers -------------------------------------------------------------------------------------

def _copy_category(source: Path, target: Path, *, with_files: bool) -> None:
    for path in source.iterdir():
        if path.is_file() and (path.name == "category.toml" or (with_files and path.suffix in DRAFT_SUFFIXES)):
            shutil.copy2(path, target / path.name)


def _copy_variant(source: Path, target: Path, category_code: str, *, with_category: bool = True) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "variant.toml", target / "variant.toml")
    if (source / "forms").is_dir():
        shutil.copytree(source / "forms", target / "forms")
    if with_category and (source / category_code).is_dir():
        shutil.copytree(source / category_code, target / category_code)


def _inside(file: str, folder: Path) -> bool:
    try:
        Path(file).resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _renamed(problem: Problem, form_files: dict[str, str], files: dict[str, str]) -> Problem:
    form_file = form_files.get(_resolved(problem.file))
    if form_file is not None:
        return located(problem, form_file, files.get(form_file, ""))
    return Problem(Path(problem.file).name, problem.line, problem.element_id, problem.message, problem.severity)


def _resolved(file: str) -> str:
    return str(Path(file).resolve())


def _write_process_files(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        clean = check_file_name(name)
        if not is_form_file(clean):  # forms go where the registry reads forms (_write_draft_forms)
            (folder / clean).write_text(text, encoding="utf-8")


def _write_draft_forms(registry: ProcessRegistry, root: Path, level: str,
                       files: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """Put the draft's forms where the registry reads them for its level: for the base a copy of
    forms/ overlaid with them, for a county its variant's forms/. Returns (the FormLibrary folder,
    written path -> draft file name)."""
    if not any(is_form_file(name) for name in files):
        return registry.forms.forms_dir, {}
    if level:
        return registry.forms.forms_dir, write_forms(files, root / VARIANTS_DIR / level / "forms")
    forms_dir = root.parent / "forms"
    return forms_dir, write_forms(files, forms_dir, base=registry.forms.forms_dir)


def _intake_form(tree: DraftTree, chain: Sequence[str]) -> str | None:
    """The category's intake form as the draft's tree defines it; None when the tree does not load."""
    try:
        return tree.registry.variants.resolve(tree.category_code, chain if tree.level else [""]).intake_form
    except Exception:  # noqa: BLE001 — a broken draft: its errors are reported, unused forms are not the point
        return None


def _element(text: str, element_id: str):
    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0] if found else None
