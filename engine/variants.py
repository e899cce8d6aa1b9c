"""County variants (区县定制): a jurisdiction's own definition of categories, overlaid on the base.

    processes/variants/<jurisdiction code>/
      variant.toml               name, risk_colours, designer_four_eyes, [department_map], [calendar],
                                 and the locality switches of engine/locality_settings.py
      forms/<name>.json          replaces forms/<name>.json for this jurisdiction's categories
      documents/<template>.html  replaces documents/templates/<template>.html (DocumentRenderer)
      <category code>/           category.toml, *.bpmn, *.dmn replace the base file of that name;
                                 limits.toml rewrites task limits without copying the BPMN

The definition of a category for jurisdiction J is the base overlaid by every variant on the path
from the top ancestor down to J, the nearest winning per file, per form and per limit. Everything
that shapes a case — files, limits, forms, the colour scheme, department names — is written into
the XML and schemas the bundle is parsed from, so the content hash covers it, and a variant that
changes nothing for a category hashes exactly like its parent: it defines nothing of its own there.
Calendar rulings and document templates are not part of a version; they are looked up live.
"""
from __future__ import annotations

import ast
import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Sequence

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from . import lint
from .bundle import PARSED, ProcessBundle, bundle_from_specs
from .errors import EngineError
from .problems import Problem
from .task_meta import PropertyError, TaskMeta
from .variant_files import JURISDICTION_CODE, Limit, check_templates, read_forms, read_limits, read_variant_toml

if TYPE_CHECKING:
    from .registry import ProcessRegistry

VARIANTS_DIR = "variants"
COLOUR_TITLES = {"红": "红色（重大）", "橙": "橙色（较大）", "黄": "黄色（一般）", "蓝": "蓝色（隐患苗头）", "绿": "绿色（平稳）"}
RISK_FIELD = "risk_color"
DEPARTMENT_OUTPUT = "department"
SPIFF = "{%s}" % lint.NS["spiffworkflow"]

# Bundles are immutable and named by content hash: every registry in the process may share them.


class VariantError(EngineError):
    """A variant definition that cannot be used; `problems` says where (file:line element: message)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()):
        self.problems = list(problems)
        detail = "; ".join(str(p) for p in self.problems[:3])
        super().__init__(f"{message}: {detail}" if detail else message)


@dataclass
class Variant:
    """One folder of processes/variants/, as far as it is lint-clean."""

    code: str
    name: str
    folder: Path
    risk_colours: tuple[str, ...] | None = None
    department_map: dict[str, str] = field(default_factory=dict)
    calendar: dict[date, bool] = field(default_factory=dict)
    forms: dict[str, dict] = field(default_factory=dict)
    categories: dict[str, Path] = field(default_factory=dict)  # category code -> its folder here
    limits: dict[str, dict[str, dict[str, Limit]]] = field(default_factory=dict)  # category -> element -> property
    documents_dir: Path | None = None
    unusable: set[str] = field(default_factory=set)  # categories with errors found while reading
    left_out: set[str] = field(default_factory=set)  # categories whose variant has errors: inherited whole
    designer_four_eyes: bool | None = None  # a second designer approves drafts published here; None: not said
    settings: dict[str, Any] = field(default_factory=dict)  # locality switches (engine/locality_settings.py)

    def applies_to(self, category_code: str) -> bool:
        """Whether this variant may change `category_code` at all (it still may not, in effect)."""
        if category_code in self.left_out:
            return False
        return (category_code in self.categories or self.risk_colours is not None
                or bool(self.department_map) or bool(self.forms))


@dataclass
class Definition:
    """A category's definition for one jurisdiction as the files say: what a version publishes."""

    category_code: str
    name: str
    process_id: str
    intake_form: str
    levels: tuple[str, ...]  # variant codes overlaid on the base, top first
    hash: str
    settings: dict[str, Any]
    _bundle: ProcessBundle | None = None
    _parse_input: tuple | None = None

    def bundle(self) -> ProcessBundle:
        """The executable bundle (parsed on first use, then shared by hash)."""
        if self._bundle is None:
            bundle, problems = _parse(*self._parse_input)
            if bundle is None:
                raise VariantError(f"{self.category_code} for {self.levels[-1]} does not parse", problems)
            self._bundle = bundle
        return self._bundle


class VariantSet:
    """Every variant under processes/variants/, linted at load and resolved on demand."""

    def __init__(self, registry: "ProcessRegistry", library: dict):
        self.registry = registry
        self.library = library
        self.folder = registry.processes_dir / VARIANTS_DIR
        self.variants: dict[str, Variant] = {}
        self.problems: list[Problem] = []
        self._definitions: dict[tuple[str, tuple[str, ...]], Definition] = {}
        self._base_forms = {name: registry.forms.get(name).schema for name in registry.forms.names()}
        self._load()

    def __contains__(self, code: str) -> bool:
        """Whether jurisdiction `code` has a (lint-clean) variant."""
        return code in self.variants

    def get(self, code: str) -> Variant | None:
        """The variant of jurisdiction `code`, if it has one."""
        return self.variants.get(code)

    # -- lookups -------------------------------------------------------------------------------

    def levels_for(self, category_code: str, chain: Sequence[str]) -> tuple[str, ...]:
        """The variant codes on `chain` (nearest first, as variant_lookup.ancestors gives it) that
        apply to the category, top first — the order they are overlaid in."""
        return tuple(code for code in reversed(chain)
                     if code in self.variants and self.variants[code].applies_to(category_code))

    def resolve(self, category_code: str, chain: Sequence[str]) -> Definition:
        """The category's definition for the jurisdiction `chain[0]`; UnknownCategory if the base is
        missing, VariantError if an overlay no longer fits (a parent's limit on a removed task)."""
        levels = self.levels_for(category_code, chain)
        definition, problems = self._resolve(category_code, levels)
        if definition is None:
            raise VariantError(f"the definition of {category_code} for {chain[0] or 'the base'} is broken", problems)
        return definition

    def defines(self, category_code: str, chain: Sequence[str]) -> bool:
        """Whether jurisdiction `chain[0]` has a definition of its own (differs from its parent's)."""
        if not chain or not chain[0]:
            return True
        return self.resolve(category_code, chain).hash != self.resolve(category_code, chain[1:]).hash

    def calendar_rulings(self) -> dict[str, dict[date, bool]]:
        """Each variant's `[calendar]` rulings by jurisdiction code."""
        return {code: dict(v.calendar) for code, v in self.variants.items() if v.calendar}

    def documents_dirs(self, chain: Sequence[str]) -> list[Path]:
        """Template folders of the variants on `chain`, nearest first."""
        return [self.variants[code].documents_dir for code in chain
                if code in self.variants and self.variants[code].documents_dir is not None]

    def four_eyes(self, chain: Sequence[str]) -> bool | None:
        """`designer_four_eyes` of the nearest variant on `chain` that sets it; None if none does."""
        for code in chain:
            variant = self.variants.get(code)
            if variant is not None and variant.designer_four_eyes is not None:
                return variant.designer_four_eyes
        return None

    def name_of(self, code: str) -> str | None:
        """The jurisdiction's name as its variant.toml gives it."""
        variant = self.variants.get(code)
        return variant.name if variant else None

    # -- loading -------------------------------------------------------------------------------

    def _load(self) -> None:
        if not self.folder.is_dir():
            return
        folders = [p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))]
        # Parents first: a child's definitions are checked with its (clean) parents overlaid.
        for folder in sorted(folders, key=lambda p: (len(p.name), p.name)):
            variant, problems = self._load_variant(folder)
            self.problems += problems
            if variant is None:
                continue
            self.variants[variant.code] = variant
            from .variant_lookup import ancestors

            chain = ancestors(None, variant.code)
            for category_code in sorted(variant.categories):
                problems = self._check_category(variant, category_code, chain)
                self.problems += problems
                if any(p.is_error for p in problems) or category_code in variant.unusable:
                    # Left out: this jurisdiction keeps what it inherits for the category.
                    del variant.categories[category_code]
                    variant.limits.pop(category_code, None)
                    variant.left_out.add(category_code)
        for path in sorted(p for p in self.folder.iterdir() if p.is_file()) if self.folder.is_dir() else []:
            self.problems.append(Problem(str(path), None, None,
                                         "stray file: a variant is a folder named by its 行政区划代码", "warning"))

    def _load_variant(self, folder: Path) -> tuple[Variant | None, list[Problem]]:
        problems: list[Problem] = []
        if not JURISDICTION_CODE.match(folder.name):
            return None, [Problem(str(folder), None, None,
                                  "a variant folder is named by a 行政区划代码 of 6, 9 or 12 digits, e.g. 150202")]
        settings, problems = read_variant_toml(folder / "variant.toml")
        if settings is None:
            return None, problems
        variant = Variant(folder.name, settings["name"], folder, settings.get("risk_colours"),
                          settings.get("department_map", {}), settings.get("calendar", {}))
        variant.designer_four_eyes = settings.get("designer_four_eyes")
        variant.settings = settings.get("locality", {})
        forms, form_problems = read_forms(folder / "forms")
        problems += form_problems
        if any(p.is_error for p in problems):
            return None, problems  # a half-read variant would change cases in ways nobody intended
        variant.forms = forms
        documents = folder / "documents"
        if documents.is_dir():
            problems += check_templates(documents)
            if not any(p.is_error for p in problems):
                variant.documents_dir = documents
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in ("forms", "documents")):
            if sub.name not in self.registry.categories:
                why = ("its base definition has errors" if sub.name in self.registry.report.broken
                       else "there is no such category in processes/ (a variant overrides existing categories)")
                problems.append(Problem(str(sub), None, None, f"variant of {sub.name!r} ignored: {why}"))
                continue
            limits, limit_problems = read_limits(sub / "limits.toml")
            problems += limit_problems
            for path in sorted(sub.iterdir()):
                if path.is_file() and path.suffix not in (".bpmn", ".dmn") and path.name not in (
                        "category.toml", "limits.toml"):
                    problems.append(Problem(str(path), None, None,
                                            "ignored: a category variant holds category.toml, *.bpmn, *.dmn and limits.toml",
                                            "warning"))
            if any(p.is_error for p in limit_problems):
                # Still checked against the BPMN below, so that every problem is reported at once.
                variant.unusable.add(sub.name)
            variant.categories[sub.name] = sub
            if limits:
                variant.limits[sub.name] = limits
        return variant, problems

    def _check_category(self, variant: Variant, category_code: str, chain: Sequence[str]) -> list[Problem]:
        """Lint the category as `variant` defines it (its own files, limits and the whole overlay)."""
        levels = self.levels_for(category_code, chain)
        definition, problems = self._resolve(category_code, levels, check_files_of=variant.code)
        if definition is not None:
            try:
                definition.bundle()
            except VariantError as exc:
                problems += exc.problems
        return problems

    # -- resolving -----------------------------------------------------------------------------

    def _resolve(self, category_code: str, levels: tuple[str, ...], check_files_of: str | None = None):
        key = (category_code, levels)
        if key in self._definitions and check_files_of is None:
            return self._definitions[key], []
        base = self.registry.category(category_code)
        if not levels:
            definition = Definition(category_code, base.name, base.process_id, base.intake_form, (), base.spec_hash,
                                    _settings((), None, {}, base.intake_form, {}), base.bundle)
            self._definitions[key] = definition
            return definition, []
        root = self.registry.processes_dir
        base_rel = base.folder.relative_to(root).as_posix()
        sources = {p.name: p for p in base.folder.iterdir()
                   if p.is_file() and (p.suffix in (".bpmn", ".dmn") or p.name == "category.toml")}
        from_variant: set[Path] = set()
        variants = [self.variants[code] for code in levels]
        forms = dict(self._base_forms)
        colours: tuple[str, ...] | None = None
        department_map: dict[str, str] = {}
        for variant in variants:
            forms.update(variant.forms)
            colours = variant.risk_colours if variant.risk_colours is not None else colours
            department_map.update(variant.department_map)
            folder = variant.categories.get(category_code)
            for path in sorted(folder.iterdir()) if folder else []:
                if path.is_file() and (path.suffix in (".bpmn", ".dmn") or path.name == "category.toml"):
                    sources[path.name] = path
                    from_variant.add(path)
        checked = {p for p in from_variant if check_files_of is not None and p.parent.parent.name == check_files_of}

        from .registry import _form_names, _read_category_toml, _toml_line

        toml_path = sources["category.toml"]
        meta, problems = _read_category_toml(toml_path)
        if meta is None:
            return None, problems
        if meta["code"] != category_code:
            problems.append(Problem(str(toml_path), _toml_line(toml_path, "code"), None,
                                    f"code must stay {category_code!r}: a variant overrides the category, it does not rename it"))
            return None, problems
        form_names = set(forms)
        trees: dict[Path, Any] = {}
        dmn_trees: dict[Path, Any] = {}
        decisions: set[str] = set()
        unreadable = False
        for name, path in sorted(sources.items()):
            if path.suffix not in (".bpmn", ".dmn"):
                continue
            tree, file_problems = lint.parse_xml(path)
            if tree is not None and path.suffix == ".bpmn" and path in checked:
                file_problems = lint.check_bpmn_schema(path, tree) + lint.check_bpmn(path, tree, form_names)
            elif tree is not None and path.suffix == ".dmn":
                ids, dmn_problems = lint.dmn_decision_ids(path, tree)
                decisions |= ids
                file_problems += dmn_problems if path in checked else []
            problems += file_problems if (path in checked or tree is None) else []
            if tree is None:
                unreadable = True
            elif path.suffix == ".bpmn":
                trees[path] = tree
            else:
                dmn_trees[path] = tree
        used_library = self.registry.check_references(toml_path, meta, trees, decisions, unreadable, self.library,
                                                      problems, "the variant")
        if any(p.is_error for p in problems):
            return None, problems

        library_trees = {lib.path: lint.parse_xml(lib.path)[0] for lib in used_library}
        modified: set[Path] = set()
        limits, limit_problems = _apply_limits(category_code, variants, {**trees, **library_trees}, modified)
        problems += limit_problems
        modified |= _apply_department_map(dmn_trees, department_map)
        intake_form = meta.get("intake_form", "intake")
        needed = _form_names(trees, used_library) | {intake_form}
        missing = sorted(needed - set(forms))
        if missing:
            problems.append(Problem(str(toml_path), None, None,
                                    f"forms {', '.join(missing)} do not exist in forms/ or the variants' forms/"))
        if any(p.is_error for p in problems):
            return None, problems
        bundle_forms = _apply_colours({name: forms[name] for name in sorted(needed)}, colours)

        entries = []
        for name, path in sources.items():
            if name == "category.toml":
                if path in from_variant:
                    entries.append((f"{base_rel}/{name}", path.read_bytes()))
                continue
            tree = trees.get(path) if path.suffix == ".bpmn" else dmn_trees.get(path)
            entries.append((f"{base_rel}/{name}", _bytes(path, tree, modified)))
        for lib in used_library:
            entries.append((lib.path.relative_to(root).as_posix(), _bytes(lib.path, library_trees[lib.path], modified)))
        spec_hash = _content_hash(entries, bundle_forms)
        settings = _settings(levels, colours, department_map, intake_form, limits)
        parse_input = (meta["process_id"], list(trees.items()) + list(library_trees.items()), list(dmn_trees.items()),
                       spec_hash, bundle_forms, self.registry)
        definition = Definition(category_code, meta["name"], meta["process_id"], intake_form, levels, spec_hash,
                                settings, self.registry.bundle(spec_hash) or PARSED.get(spec_hash), parse_input)
        self._definitions[key] = definition
        return definition, problems


# -- overlays ------------------------------------------------------------------------------------

def _apply_limits(category_code: str, variants: list[Variant], trees: dict, modified: set[Path]):
    """Write each variant's limits into the BPMN trees, top variant first so the nearest wins."""
    problems: list[Problem] = []
    merged: dict[str, dict[str, str]] = {}
    index = {el.get("id"): (path, el) for path, tree in trees.items()
             for el in tree.iter() if isinstance(el.tag, str) and el.get("id")}
    touched: dict[str, tuple[Path, Limit]] = {}
    for variant in variants:
        limits_path = variant.folder / category_code / "limits.toml"
        for element_id, props in variant.limits.get(category_code, {}).items():
            line = min((limit.line for limit in props.values() if limit.line), default=None)
            found = index.get(element_id)
            if found is None:
                problems.append(Problem(str(limits_path), line, element_id,
                                        f"no element {element_id!r} in {category_code} (its BPMN files and the "
                                        "library processes it calls)"))
                continue
            path, el = found
            if etree.QName(el).localname != "userTask":
                problems.append(Problem(str(limits_path), line, element_id,
                                        f"{element_id!r} is a bpmn:{etree.QName(el).localname}; limits apply to user tasks"))
                continue
            for name, limit in props.items():
                _set_property(el, name, limit.value)
                merged.setdefault(element_id, {})[name] = limit.value
                touched[element_id] = (limits_path, limit)
            modified.add(path)
    for element_id, (limits_path, limit) in touched.items():
        path, el = index[element_id]
        try:
            TaskMeta.from_properties(element_id, el.get("name", ""), lint.properties(el))
        except PropertyError as exc:
            problems.append(Problem(str(limits_path), limit.line, element_id, f"with these limits: {exc}"))
    return merged, problems


def _set_property(el, name: str, value: str) -> None:
    extensions = el.find("bpmn:extensionElements", lint.NS)
    if extensions is None:
        extensions = etree.Element(lint.BPMN + "extensionElements")
        documentation = el.findall("bpmn:documentation", lint.NS)
        el.insert(len(documentation), extensions)
    properties = extensions.find("spiffworkflow:properties", lint.NS)
    if properties is None:
        properties = etree.SubElement(extensions, SPIFF + "properties")
    for prop in properties.findall("spiffworkflow:property", lint.NS):
        if prop.get("name") == name:
            prop.set("value", value)
            return
    etree.SubElement(properties, SPIFF + "property", name=name, value=value)


def _apply_department_map(dmn_trees: dict, mapping: dict[str, str]) -> set[Path]:
    """Rename departments in the routing tables' `department` outputs; returns the files changed."""
    changed: set[Path] = set()
    if not mapping:
        return changed
    for path, tree in dmn_trees.items():
        root = tree.getroot()
        ns = "{%s}" % etree.QName(root).namespace
        for table in root.iter(ns + "decisionTable"):
            columns = [i for i, out in enumerate(table.findall(ns + "output")) if out.get("name") == DEPARTMENT_OUTPUT]
            for rule in table.findall(ns + "rule"):
                entries = rule.findall(ns + "outputEntry")
                for column in columns:
                    text = entries[column].find(ns + "text") if column < len(entries) else None
                    value = _string_literal(text.text if text is not None else None)
                    if value in mapping:
                        text.text = json.dumps(mapping[value], ensure_ascii=False)
                        changed.add(path)
    return changed


def _string_literal(source: str | None) -> str | None:
    try:
        value = ast.literal_eval((source or "").strip())
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _apply_colours(forms: dict[str, dict], colours: tuple[str, ...] | None) -> dict[str, dict]:
    """Offer the colour scheme in every form's `risk_color` choice (titles kept where known)."""
    if colours is None:
        return forms
    result = {}
    for name, schema in forms.items():
        field_schema = (schema.get("properties") or {}).get(RISK_FIELD)
        if isinstance(field_schema, dict) and isinstance(field_schema.get("oneOf"), list):
            titles = {o.get("const"): o.get("title") for o in field_schema["oneOf"] if isinstance(o, dict)}
            choices = [{"const": c, "title": titles.get(c) or COLOUR_TITLES.get(c, f"{c}色")} for c in colours]
            if choices != field_schema["oneOf"]:
                schema = copy.deepcopy(schema)
                schema["properties"][RISK_FIELD]["oneOf"] = choices
        result[name] = schema
    return result


def _settings(levels, colours, department_map, intake_form, limits) -> dict[str, Any]:
    return {"levels": list(levels), "risk_colours": list(colours) if colours else None,
            "department_map": dict(department_map), "intake_form": intake_form, "limits": limits}


def _bytes(path: Path, tree, modified: set[Path]) -> bytes:
    if tree is not None and path in modified:
        return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    return path.read_bytes()


def _content_hash(entries: list[tuple[str, bytes]], forms: dict[str, dict]) -> str:
    """The registry's content hash (engine/registry.py), over effective file contents by their base
    names: a variant that changes nothing hashes exactly like the base."""
    digest = hashlib.sha256()
    digest.update(json.dumps(forms, sort_keys=True, ensure_ascii=False).encode())
    for name, content in sorted(entries, key=lambda entry: PurePosixPath(entry[0]).parts):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(content)
        digest.update(b"\0")
    return digest.hexdigest()


def _parse(process_id, bpmn_trees, dmn_trees, spec_hash, forms, registry):
    cached = registry.bundle(spec_hash) or PARSED.get(spec_hash)
    if cached is not None:
        registry.remember(cached)
        return cached, []
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        for path, tree in bpmn_trees:
            parser.add_bpmn_xml(tree, filename=str(path))
        for path, tree in dmn_trees:
            parser.add_dmn_xml(tree.getroot(), filename=str(path))
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
        bundle = bundle_from_specs(spec_hash, process_id, spec, subprocess_specs, forms)
    except ValidationException as exc:
        file_name = exc.file_name or (str(bpmn_trees[0][0]) if bpmn_trees else "?")
        trees = dict(bpmn_trees + dmn_trees)
        tree = trees.get(Path(file_name))
        line = lint.element_line(tree, exc.id) if tree is not None and exc.id else None
        return None, [Problem(file_name, line, exc.id or None, f"SpiffWorkflow: {exc}")]
    except Exception as exc:  # the parser raises bare errors for some malformed input
        return None, [Problem(str(bpmn_trees[0][0]) if bpmn_trees else "?", None, None,
                              f"SpiffWorkflow could not parse the variant: {type(exc).__name__}: {exc}")]
    PARSED[spec_hash] = bundle
    registry.remember(bundle)
    return bundle, []


