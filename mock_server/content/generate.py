"""Synthetic content of one document, deterministic from the server seed and the document's facts.

Rules (defined by the mock; docs/content.md restates them):

- Each page has a role. Drawing pages are sheets. Document pages are specification pages in a
  `specifications` file, docs pages in a `documents` or `addenda` file, and in a `mixed` file the
  first half (rounded up) of its document pages are specification pages and the rest docs pages.
  Document pages of `plans` and `other` files produce no entity (the docs give those
  classifications no place for them in a result).
- Content is drawn for every page in page order, whether or not the page succeeded, from a
  generator seeded by (seed, document id, classification, page kinds): a page's sheet number,
  names and ids do not depend on which other pages failed. Then only successful pages produce
  entities; each failed page produces an `errors` entry.
- Sheets: sheet numbers by discipline and drawing type (`A-101` a plan, `A-501` a detail sheet,
  `E-401` a diagram), a cover sheet `G-001` first in sets of 6 or more drawings.
  Drawing pages of a file that is neither `plans` nor `mixed` carry no sheet number (null, with
  a `sheet_number_not_detected` warning). Each sheet has 1-5 regions, the last its title block.
- Specifications: the specification pages are cut into runs; each run is one MasterFormat section
  (numbers ascending, none repeated in a file) with three part facets. A run with a failed page
  spans its successful pages, its coverage is `partial` and the result warns
  `section_incomplete`.
- Docs: the docs pages are cut into runs of about 1-3 pages; each run is one doc.
- A content pack entry for the file's name replaces the generated sheets, specifications and docs,
  in order, with its own.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from .entities import (
    Artifact,
    ArtifactType,
    Box,
    Doc,
    Evidence,
    Facet,
    FileEntity,
    FileRef,
    PageError,
    Part,
    Product,
    Region,
    Requirement,
    ResultWarning,
    Sheet,
    Specification,
    SpecSection,
    Warning,
)
from .facts import PAGE_FAILED, PAGE_OK, DocumentFacts
from .ids import IdSource, stable_seed
from .packs import PackDoc, PackFile, PackRegion, PackSheet, PackSpecification
from .vocab import (
    DISCIPLINE_ORDER,
    DISCIPLINE_WEIGHTS,
    DISCIPLINES,
    DIVISIONS,
    DOC_TITLES,
    DOC_TYPES,
    DRAWING_TYPE_SERIES,
    LAYOUT_TYPES,
    MASTERFORMAT,
    MASTERFORMAT_CHILDREN,
    REGION_NOTES,
    SHEET_NAMES,
    SHEET_TYPE_WEIGHTS,
)

__all__ = ["DocumentContent", "generate_document", "page_roles"]

SHEET, SPEC, DOC = "sheet", "spec", "doc"
_NUMBERED_CLASSES = frozenset({"plans", "mixed"})
_SPEC_CLASSES = frozenset({"specifications", "mixed"})
_DOC_CLASSES = frozenset({"documents", "addenda", "mixed"})
_ELEVATIONS = ("NORTH ELEVATION", "SOUTH ELEVATION", "EAST ELEVATION", "WEST ELEVATION")
_INITIALS = ("JD", "MR", "KL", "AS", "TW", "BN", "CH", "EP")
# drawing area (left of the title block strip) and the title block itself
_AREA = (0.02, 0.03, 0.86, 0.97)
_TITLE_BLOCK = Box(0.88, 0.03, 0.98, 0.97)


@dataclass(frozen=True, slots=True)
class DocumentContent:
    """Everything one document produced, in page order."""

    facts: DocumentFacts
    file: FileEntity
    sheets: tuple[Sheet, ...]
    regions: tuple[Region, ...]
    specifications: tuple[Specification, ...]
    docs: tuple[Doc, ...]
    evidence: tuple[Evidence, ...]
    errors: tuple[PageError, ...]
    warnings: tuple[ResultWarning, ...]

    @property
    def artifacts(self) -> tuple[Artifact, ...]:
        return self.file.artifacts

    @property
    def sections(self) -> tuple[SpecSection, ...]:
        """Every specification's sections, outline-only headings included."""
        return tuple(s for spec in self.specifications for s in spec.sections)


def page_roles(facts: DocumentFacts) -> list[str | None]:
    """Per page (index 0 = page 1): sheet, spec, doc or None (see the module's rules)."""
    cls = facts.classification
    document_pages = facts.pages - facts.drawing_pages
    spec_quota = 0
    if cls == "specifications":
        spec_quota = document_pages
    elif cls == "mixed":
        spec_quota = -(-document_pages // 2)
    roles: list[str | None] = []
    seen_document = 0
    for kind in facts.kinds:
        if kind:
            roles.append(SHEET)
            continue
        seen_document += 1
        if seen_document <= spec_quota:
            roles.append(SPEC)
        elif cls in _DOC_CLASSES:
            roles.append(DOC)
        else:
            roles.append(None)
    return roles


def generate_document(
    facts: DocumentFacts, *, seed: int, pack: PackFile | None = None
) -> DocumentContent:
    """The document's entities (see the module's rules)."""
    rng = random.Random(
        stable_seed("content", seed, facts.document_id, facts.classification, facts.kinds.hex())
    )
    ids = IdSource(seed, facts.document_id)
    ref = FileRef(
        facts.file_id,
        facts.document_id,
        facts.job_id,
        facts.file_name,
        facts.classification,
        facts.status,
    )
    roles = page_roles(facts)
    pages_of = {
        role: [n for n, r in enumerate(roles, 1) if r == role] for role in (SHEET, SPEC, DOC)
    }
    gen = _Generator(rng, ids, ref, facts, seed)
    sheets = gen.sheets(pages_of[SHEET], pack.sheets if pack else [])
    specs = gen.specifications(pages_of[SPEC], pack.specifications if pack else [])
    docs = gen.docs(pages_of[DOC], pack.docs if pack else [])
    regions = tuple(r for s in sheets for r in s.regions)
    evidence = tuple(
        Evidence("ev_" + r.region_id.removeprefix("region_"), r) for r in regions if r.text
    )
    artifacts: tuple[Artifact, ...] = ()
    if facts.successful_pages:
        base = f"files/{facts.file_id}"
        artifacts = (
            Artifact(ArtifactType.THUMBNAIL, f"{base}/thumbnail.png"),
            Artifact(ArtifactType.EXTRACTED_JSON, f"{base}/content.json"),
        )
    return DocumentContent(
        facts=facts,
        file=FileEntity(ref, facts.pages, artifacts),
        sheets=sheets,
        regions=regions,
        specifications=specs,
        docs=docs,
        evidence=evidence,
        errors=_errors(facts),
        warnings=_warnings(facts, sheets, specs, pages_of[SPEC]),
    )


def _errors(facts: DocumentFacts) -> tuple[PageError, ...]:
    errors = []
    if facts.error is not None and facts.error[0] == "upload_failed":
        errors.append(
            PageError("upload_failed", facts.error[1], facts.document_id, facts.file_name, None)
        )
    for number in facts.failed_page_numbers:
        errors.append(
            PageError(
                "page_failed",
                f"page {number} of {facts.file_name} could not be processed",
                facts.document_id,
                facts.file_name,
                number,
            )
        )
    return tuple(errors)


def _warnings(
    facts: DocumentFacts,
    sheets: tuple[Sheet, ...],
    specs: tuple[Specification, ...],
    spec_pages: list[int],
) -> tuple[ResultWarning, ...]:
    warnings = [
        ResultWarning(
            "sheet_number_not_detected",
            f"no sheet number was found on page {s.page_number} of {facts.file_name}",
            facts.document_id,
            facts.file_name,
            s.page_number,
        )
        for s in sheets
        if s.sheet_number is None
    ]
    for spec in specs:
        missing = [
            n
            for n in spec_pages
            if spec.page_start <= n <= spec.page_end and facts.outcomes[n - 1] == PAGE_FAILED
        ]
        if missing:
            warnings.append(
                ResultWarning(
                    "section_incomplete",
                    f"section {spec.section_number} of {facts.file_name} lacks page(s) "
                    f"{', '.join(map(str, missing))}, which could not be processed",
                    facts.document_id,
                    facts.file_name,
                    missing[0],
                )
            )
    return tuple(warnings)


def _runs(rng: random.Random, pages: list[int], count: int) -> list[list[int]]:
    """`pages` cut into `count` non-empty runs at random places."""
    n = len(pages)
    cuts = sorted(rng.sample(range(1, n), count - 1)) if count > 1 else []
    bounds = [0, *cuts, n]
    return [pages[a:b] for a, b in itertools.pairwise(bounds)]


def _r4(x: float) -> float:
    """x to 4 decimals (boxes stay short in JSON); cheaper than round(x, 4) for x >= 0."""
    return int(x * 10_000 + 0.5) / 10_000


class _Generator:
    """Draws one document's content; every draw happens for every page, in page order."""

    def __init__(
        self, rng: random.Random, ids: IdSource, ref: FileRef, facts: DocumentFacts, seed: int
    ) -> None:
        self.rng = rng
        self.ids = ids
        self.ref = ref
        self.facts = facts
        self.seed = seed

    def ok(self, page: int) -> bool:
        return self.facts.outcomes[page - 1] == PAGE_OK

    # ------------------------------------------------------------------ sheets

    def sheets(self, pages: list[int], pack_sheets: list[PackSheet]) -> tuple[Sheet, ...]:
        plan = self._sheet_plan(len(pages))
        numbered = self.facts.classification in _NUMBERED_CLASSES
        doc_id = self.facts.document_id
        out = []
        for i, (page, (code, dtype, plan_number, name)) in enumerate(
            zip(pages, plan, strict=True)
        ):
            sheet_id = self.ids.new("sheet_")
            discipline = DISCIPLINES[code]
            number = plan_number if numbered else None
            drawn = self._regions(self.rng, dtype, name, number, discipline)
            region_ids = [self.ids.new("region_") for _ in drawn]
            if i < len(pack_sheets):
                # the pack's sheet: drawn from generators of its own, so that a pack does not
                # shift the content of later pages
                p = pack_sheets[i]
                number, name, discipline, dtype = (
                    p.sheetNumber,
                    p.sheetName,
                    p.discipline,
                    p.drawingType,
                )
                prng = random.Random(stable_seed("pack", self.seed, doc_id, page))
                if p.regions is None:
                    drawn = self._regions(prng, dtype, name, number, discipline)
                else:
                    drawn = self._pack_regions(prng, p.regions)
                extra = IdSource(self.seed, doc_id, "pack", page)
                region_ids += [extra.new("region_") for _ in range(len(drawn) - len(region_ids))]
            if not self.ok(page):
                continue
            regions = tuple(
                Region(
                    region_id=rid,
                    sheet_id=sheet_id,
                    file=self.ref,
                    page_number=page,
                    sheet_number=number,
                    region_type=rtype,
                    layout_type=LAYOUT_TYPES[rtype],
                    drawing_type=dtype,
                    discipline=discipline,
                    label=label,
                    text=text,
                    display_box=box,
                    title_box=title_box,
                    artifacts=(
                        Artifact(ArtifactType.VECTOR_CROP, f"regions/{rid}/crop.svg"),
                        Artifact(ArtifactType.EXTRACTED_JSON, f"regions/{rid}/region.json"),
                    ),
                )
                for rid, (rtype, label, text, box, title_box) in zip(
                    region_ids, drawn, strict=False
                )
            )
            out.append(
                Sheet(
                    sheet_id=sheet_id,
                    file=self.ref,
                    page_number=page,
                    sheet_number=number,
                    sheet_name=name,
                    discipline=discipline,
                    drawing_type=dtype,
                    regions=regions,
                    artifacts=(
                        Artifact(ArtifactType.THUMBNAIL, f"sheets/{sheet_id}/thumbnail.png"),
                        Artifact(ArtifactType.VECTOR_CROP, f"sheets/{sheet_id}/sheet.svg"),
                        Artifact(ArtifactType.EXTRACTED_JSON, f"sheets/{sheet_id}/sheet.json"),
                    ),
                )
            )
        return tuple(out)

    def _sheet_plan(self, count: int) -> list[tuple[str, str, str, str]]:
        """(discipline code, drawing type, sheet number, sheet name) for `count` sheets, bound in
        discipline order, each discipline's sheets in series order."""
        rng = self.rng
        if not count:
            return []
        codes = list(DISCIPLINE_WEIGHTS)
        drawn = rng.choices(codes, [DISCIPLINE_WEIGHTS[c] for c in codes], k=count)
        if count >= 6:
            drawn[0] = "G"
        plan = []
        for code in DISCIPLINE_ORDER:
            n = drawn.count(code)
            if not n:
                continue
            weights = SHEET_TYPE_WEIGHTS[code]
            types = rng.choices(list(weights), list(weights.values()), k=n)
            if code == "G":
                types[0] = "cover"
            types.sort(key=DRAWING_TYPE_SERIES.__getitem__)
            per_series: dict[int, int] = {}
            per_template: dict[str, int] = {}
            for dtype in types:
                series = DRAWING_TYPE_SERIES[dtype]
                k = per_series[series] = per_series.get(series, 0) + 1
                number = f"{code}-{series}{k:02d}"
                names = SHEET_NAMES[(code, dtype)]
                template = names[(k - 1) % len(names)]
                used = per_template[template] = per_template.get(template, 0) + 1
                if "{n}" in template:
                    name = template.format(n=used)
                else:
                    name = template if used == 1 else f"{template} {used}"
                plan.append((code, dtype, number, name))
        return plan

    def _regions(
        self,
        rng: random.Random,
        dtype: str,
        name: str,
        number: str | None,
        discipline: str,
    ) -> list[tuple[str, str, str, Box, Box | None]]:
        """(regionType, label, text, displayBox, titleBox) of one sheet: 1-5 regions, the title
        block last."""
        types: list[str]
        if dtype == "cover":
            types = ["schedule"]
        elif dtype == "plan":
            types = ["plan"] + ["detail"] * rng.randint(0, 2)
        elif dtype in ("elevation", "section"):
            types = [dtype] * rng.randint(1, 3)
        elif dtype == "detail":
            types = ["detail"] * rng.randint(2, 4)
        elif dtype == "schedule":
            types = ["schedule"] * rng.randint(1, 2)
        else:  # diagram
            types = ["detail"] * rng.randint(1, 2)
        noun = discipline.replace("_", " ").upper()
        boxes = self._layout(len(types), rng)
        out: list[tuple[str, str, str, Box, Box | None]] = []
        for i, (rtype, box) in enumerate(zip(types, boxes, strict=True), 1):
            if rtype == "plan":
                label = name.upper()
            elif rtype == "elevation":
                label = _ELEVATIONS[(i - 1) % 4]
            elif rtype == "schedule":
                label = "SHEET INDEX" if dtype == "cover" else name.upper()
                if i > 1:
                    label += " (CONT.)"
            else:
                label = f"{rtype.upper()} {i}/{number}" if number else f"{rtype.upper()} {i}"
            notes = REGION_NOTES[rtype]
            if rtype != "schedule" and rng.random() < 0.12:
                text = ""  # graphics only
            else:
                picked = rng.sample(notes, rng.randint(1, 2))
                text = " ".join(n.replace("{d}", noun) for n in picked)
            title_box = None if rng.random() < 0.15 else self._title_box(box)
            out.append((rtype, label, text, box, title_box))
        drawn_by, checked_by = rng.sample(_INITIALS, 2)
        title_text = (
            f"{number or ''} {name.upper()} | SCALE: AS NOTED | DRAWN BY: {drawn_by} | "
            f"CHECKED BY: {checked_by} | REV {rng.randint(0, 4)}"
        ).strip()
        out.append(("title_block", "TITLE BLOCK", title_text, _TITLE_BLOCK, None))
        return out

    @staticmethod
    def _layout(count: int, rng: random.Random) -> list[Box]:
        """`count` boxes in a grid over the drawing area, each inset by a random margin."""
        left, top, right, bottom = _AREA
        cols = 1 if count == 1 else 2
        rows = -(-count // cols)
        w, h = (right - left) / cols, (bottom - top) / rows
        boxes = []
        for i in range(count):
            c, r = i % cols, i // cols
            m = rng.uniform(0.01, 0.03)
            boxes.append(
                Box(
                    _r4(left + c * w + m),
                    _r4(top + r * h + m),
                    _r4(left + (c + 1) * w - m),
                    _r4(top + (r + 1) * h - m),
                )
            )
        return boxes

    @staticmethod
    def _title_box(box: Box) -> Box:
        """The label band under a region's drawing."""
        height = min(0.04, (box.bottom - box.top) / 4)
        return Box(
            box.left,
            _r4(box.bottom - height),
            _r4(box.left + min(0.3, (box.right - box.left) * 0.6)),
            box.bottom,
        )

    def _pack_regions(
        self, rng: random.Random, regions: list[PackRegion]
    ) -> list[tuple[str, str, str, Box, Box | None]]:
        free = [r for r in regions if r.displayBox is None and r.regionType != "title_block"]
        laid = iter(self._layout(len(free), rng)) if free else iter(())
        out: list[tuple[str, str, str, Box, Box | None]] = []
        for r in regions:
            if r.displayBox is not None:
                box = Box(
                    r.displayBox.left, r.displayBox.top, r.displayBox.right, r.displayBox.bottom
                )
            elif r.regionType == "title_block":
                box = _TITLE_BLOCK
            else:
                box = next(laid)
            title = r.titleBox
            title_box = (
                None if title is None else Box(title.left, title.top, title.right, title.bottom)
            )
            out.append((r.regionType, r.label, r.text, box, title_box))
        return out

    # ------------------------------------------------------------------ specifications

    def specifications(
        self, pages: list[int], pack_specs: list[PackSpecification]
    ) -> tuple[Specification, ...]:
        rng = self.rng
        if not pages:
            return ()
        n = len(pages)
        count = min(n, len(MASTERFORMAT), max(1, round(n / rng.uniform(1.5, 3.5))))
        runs = _runs(rng, pages, count)
        chosen = sorted(rng.sample(range(len(MASTERFORMAT)), count))
        out = []
        for i, (run, index) in enumerate(zip(runs, chosen, strict=True)):
            number, title = MASTERFORMAT[index]
            override_text = None
            if i < len(pack_specs):
                p = pack_specs[i]
                number, title, override_text = p.sectionNumber, p.sectionTitle, p.text
            spec = self._specification(run, number, title, override_text)
            if spec is not None:
                out.append(spec)
        return tuple(out)

    def _specification(
        self, run: list[int], number: str, title: str, override_text: str | None
    ) -> Specification | None:
        rng = self.rng
        spec_id = self.ids.new("spec_")
        ok_pages = [p for p in run if self.ok(p)]
        start, end = (ok_pages[0], ok_pages[-1]) if ok_pages else (run[0], run[-1])
        missing = [p for p in run if not self.ok(p)]
        body = self._section(spec_id, number, title, run, start, end, missing, override_text)
        sections = [body]
        children = MASTERFORMAT_CHILDREN.get(number, ())
        if children and len(run) >= 2:
            cn, ct = children[rng.randrange(len(children))]
            sections.append(self._section(spec_id, cn, ct, [end], end, end, [], None))
        if rng.random() < 0.5:
            for k, ((_, part_title), facet) in enumerate(zip(_PARTS, body.facets, strict=True), 1):
                sections.append(
                    SpecSection(
                        section_id=self.ids.new("section_"),
                        spec_id=spec_id,
                        file=self.ref,
                        section_number=f"{k}.0",
                        title=part_title,
                        page_start=facet.page_start,
                        page_end=facet.page_start,
                        outline_only=True,
                        text="",
                        parts=(),
                        products=(),
                        submittals=(),
                        references=(),
                        related_sections=(),
                        quality_requirements=(),
                        execution_requirements=(),
                        warnings=(),
                        facets=(),
                        artifacts=(),
                    )
                )
        if not ok_pages:
            return None
        return Specification(
            specification_id=spec_id,
            file=self.ref,
            section_number=number,
            section_title=title,
            page_start=start,
            page_end=end,
            facets=body.facets,
            sections=tuple(sections),
            artifacts=(
                Artifact(
                    ArtifactType.EXTRACTED_JSON, f"specifications/{spec_id}/specification.json"
                ),
            ),
        )

    def _section(
        self,
        spec_id: str,
        number: str,
        title: str,
        run: list[int],
        start: int,
        end: int,
        missing: list[int],
        override_text: str | None,
    ) -> SpecSection:
        rng = self.rng
        section_id = self.ids.new("section_")
        products_pool, refs_pool = DIVISIONS.get(number[:2], DIVISIONS["01"])
        names = rng.sample(products_pool, min(len(products_pool), rng.randint(1, 3)))
        refs = rng.sample(refs_pool, min(len(refs_pool), rng.randint(1, 2)))
        related = [MASTERFORMAT[i] for i in sorted(rng.sample(range(len(MASTERFORMAT)), 2))]
        related = [r for r in related if r[0] != number][:2]
        # the three parts over the run's pages, kept inside the section's successful range
        n = len(run)
        spans = []
        for k in range(3):
            a = run[min(n - 1, k * n // 3)]
            b = run[min(n - 1, max(k * n // 3, (k + 1) * n // 3 - 1))]
            a, b = min(max(a, start), end), min(max(b, start), end)
            spans.append((a, max(a, b)))
        lower = title.lower()
        submittals = tuple(
            Requirement(chr(65 + i), text, spans[0][0])
            for i, text in enumerate(
                [
                    f"Product Data: For each type of {names[0].lower()}.",
                    f"Shop Drawings: For {lower}, showing layout, details and attachments.",
                ]
            )
        )
        references = tuple(Requirement(chr(65 + i), r, spans[0][0]) for i, r in enumerate(refs))
        quality = (
            Requirement(
                "A",
                f"Installer Qualifications: An entity that employs installers experienced in "
                f"{lower} work.",
                spans[0][1],
            ),
            Requirement("B", f"Comply with {refs[0].split(' - ')[0]}.", spans[0][1]),
        )
        execution = tuple(
            Requirement(chr(65 + i), text, spans[2][0])
            for i, text in enumerate(
                [
                    "Examine substrates and conditions for compliance with requirements for "
                    f"installation tolerances and other conditions affecting {lower}.",
                    *[
                        f"Install {name.lower()} according to the manufacturer's written "
                        "instructions."
                        for name in names
                    ],
                    f"Protect installed {lower} from damage until Substantial Completion.",
                ]
            )
        )
        products = tuple(
            Product(
                name,
                f"{name} as specified in Section {number}.",
                ("Provide products from a single manufacturer.", f"Comply with {refs[-1]}."),
            )
            for name in names
        )
        part_texts = (
            "\n".join(
                [
                    "PART 1 - GENERAL",
                    "1.1 SUMMARY",
                    f"A. Section includes {', '.join(n.lower() for n in names)}.",
                    "1.2 RELATED SECTIONS",
                    *[
                        f'{chr(65 + i)}. Section {rn} "{rt}".'
                        for i, (rn, rt) in enumerate(related)
                    ],
                    "1.3 REFERENCES",
                    *[f"{r.label}. {r.text}" for r in references],
                    "1.4 SUBMITTALS",
                    *[f"{r.label}. {r.text}" for r in submittals],
                    "1.5 QUALITY ASSURANCE",
                    *[f"{r.label}. {r.text}" for r in quality],
                ]
            ),
            "\n".join(
                ["PART 2 - PRODUCTS"]
                + [
                    line
                    for i, p in enumerate(products, 1)
                    for line in (
                        f"2.{i} {p.name.upper()}",
                        f"A. {p.description}",
                        *(f"{chr(66 + j)}. {req}" for j, req in enumerate(p.requirements)),
                    )
                ]
            ),
            "\n".join(
                [
                    "PART 3 - EXECUTION",
                    "3.1 EXAMINATION",
                    f"A. {execution[0].text}",
                    "3.2 INSTALLATION",
                    *[f"{r.label}. {r.text}" for r in execution[1:]],
                ]
            ),
        )
        parts = tuple(
            Part(label, part_title, text, a, b)
            for (label, part_title), text, (a, b) in zip(_PARTS, part_texts, spans, strict=True)
        )
        coverage = ["partial" if any(a <= m <= b for m in missing) else "full" for a, b in spans]
        part_requirements: tuple[tuple[Requirement, ...], ...] = (
            tuple(Requirement(r.label, r.text, r.page_number, "submittal") for r in submittals)
            + tuple(Requirement(r.label, r.text, r.page_number, "quality") for r in quality),
            tuple(
                Requirement(chr(65 + i), req, spans[1][0], "product")
                for i, req in enumerate(dict.fromkeys(q for p in products for q in p.requirements))
            ),
            tuple(Requirement(r.label, r.text, r.page_number, "execution") for r in execution),
        )
        facets = tuple(
            Facet(
                facet_id=self.ids.new("facet_"),
                facet_key=f"part_{k}_{part_title.lower()}",
                facet_kind="part",
                facet_label=f"{label} - {part_title}",
                coverage_kind=coverage[k - 1],
                text=part.text,
                page_start=part.page_start,
                page_end=part.page_end,
                requirements=reqs,
            )
            for k, ((label, part_title), part, reqs) in enumerate(
                zip(_PARTS, parts, part_requirements, strict=True), 1
            )
        )
        text = override_text
        if text is None:
            text = "\n\n".join(
                [f"SECTION {number} - {title.upper()}", *part_texts, f"END OF SECTION {number}"]
            )
        warnings: tuple[Warning, ...] = ()
        if missing:
            warnings = (
                Warning(
                    "pages_not_processed",
                    f"page(s) {', '.join(map(str, missing))} of this section could not be "
                    "processed; its text is incomplete",
                ),
            )
        return SpecSection(
            section_id=section_id,
            spec_id=spec_id,
            file=self.ref,
            section_number=number,
            title=title,
            page_start=start,
            page_end=end,
            outline_only=False,
            text=text,
            parts=parts,
            products=products,
            submittals=submittals,
            references=references,
            related_sections=tuple(related),
            quality_requirements=quality,
            execution_requirements=execution,
            warnings=warnings,
            facets=facets,
            artifacts=(
                Artifact(ArtifactType.EXTRACTED_JSON, f"sections/{section_id}/section.json"),
            ),
        )

    # ------------------------------------------------------------------ docs

    def docs(self, pages: list[int], pack_docs: list[PackDoc]) -> tuple[Doc, ...]:
        rng = self.rng
        if not pages:
            return ()
        n = len(pages)
        count = min(n, max(1, round(n / rng.uniform(1.2, 2.5))))
        runs = _runs(rng, pages, count)
        addenda = self.facts.classification == "addenda"
        running: dict[str, int] = {}
        out = []
        for i, run in enumerate(runs):
            doc_id = self.ids.new("doc_")
            doc_type = "addendum" if addenda else rng.choices(DOC_TYPES, (4, 3, 2, 1))[0]
            number, section_title = MASTERFORMAT[rng.randrange(len(MASTERFORMAT))]
            product = rng.choice(DIVISIONS.get(number[:2], DIVISIONS["01"])[0])
            templates = DOC_TITLES[doc_type]
            template = templates[rng.randrange(len(templates))]
            title: str | None = None
            text: str | None = None
            if i < len(pack_docs):
                p = pack_docs[i]
                doc_type, title, text = p.docType, p.title, p.text
                template = DOC_TITLES[doc_type][0]
            k = running[doc_type] = running.get(doc_type, 0) + 1
            if title is None:
                title = template.format(n=k, s=number, p=product)
            if text is None:
                text = _doc_text(doc_type, title, number, section_title, product)
            ok_pages = [p for p in run if self.ok(p)]
            if not ok_pages:
                continue
            out.append(
                Doc(
                    doc_id=doc_id,
                    file=self.ref,
                    doc_type=doc_type,
                    status="complete",
                    title=title,
                    page_start=ok_pages[0],
                    page_end=ok_pages[-1],
                    text=text,
                    artifacts=(
                        Artifact(ArtifactType.EXTRACTED_JSON, f"docs/{doc_id}/doc.json"),
                        Artifact(ArtifactType.THUMBNAIL, f"docs/{doc_id}/thumbnail.png"),
                    ),
                )
            )
        return tuple(out)


_PARTS = (("PART 1", "GENERAL"), ("PART 2", "PRODUCTS"), ("PART 3", "EXECUTION"))


def _doc_text(doc_type: str, title: str, number: str, section_title: str, product: str) -> str:
    if doc_type == "submittal":
        lines = [
            title,
            f"Specification Section: {number} {section_title}",
            f"Description: {product} as proposed for the project.",
            "Review action: Reviewed - No Exceptions Taken.",
        ]
    elif doc_type == "rfi":
        lines = [
            title,
            f"Reference: Section {number} {section_title}.",
            "Question: The drawings and the specifications disagree; please confirm which "
            "governs.",
            "Response: Provide as specified; the drawings will be revised by ASI.",
        ]
    elif doc_type == "report":
        lines = [
            title,
            f"Scope: observations and recommendations related to {section_title.lower()}.",
            "Findings: conditions were found to be generally in accordance with the documents.",
        ]
    elif doc_type == "schedule":
        lines = [
            title,
            f"Activity: {section_title} - start week 6, duration 15 working days.",
            "Milestone: Substantial Completion per the contract.",
        ]
    else:
        lines = [
            title,
            "This addendum modifies the bidding documents and forms part of the contract.",
            f"Item 1: Section {number} {section_title} - revise as follows.",
        ]
    return "\n".join(lines)
