"""Source search on one project of 10,000 regions and 1,000 specification sections.

    python -m benchmarks.bench_search [--quick] [--regions N] [--sections N] [--queries N]
                                      [--corpus synthetic|content] [--http]

Builds a `SourceIndex` from synthetic but plausible construction text (its own generator:
drawing notes by discipline, CSI MasterFormat sections with parts as facets, a long tail of
product and standard names), then runs a few hundred varied queries the way an integrator's
users type them: single words, natural-language phrases full of "the", "at", "of", quoted
phrases, sheet and section numbers, rare product names, filters, punctuation and non-ASCII.
Prints one JSON object: search p50/p99 (ms), queries/s, build time, chunk count. Runs pinned to
one CPU when the platform allows it. Latency is the CPU time of each search call (what one core
spends on it, unaffected by other processes on a shared machine, and the same as wall time on an
idle core); queries/s is queries per CPU-second. Wall-clock figures are printed beside them.
Speed is measured here, never asserted in tests.

`--corpus content` builds the sources the way the server does instead: documents from the
content package's generator (`mock_server.content`), mapped by `mock_server.indexing`, cut at
exactly N regions and N sections. `--http` also times the same queries through
`POST /projects/{projectId}/source-search` of an in-process server (its index filled with the
same sources), from a keep-alive client in the same process: wall time per request, client and
server sharing the machine, and the process's CPU time per request (client and server
together); the machine's load average is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.child import run_child
from mock_server.search import (
    SearchFilters,
    SearchSource,
    SourceFacet,
    SourceIndex,
    region_uri,
    specification_uri,
)

__all__ = [
    "BenchQuery",
    "content_sources",
    "generate_queries",
    "generate_sources",
    "measure_search",
    "time_http",
    "time_search",
]


def _words(text: str) -> list[str]:
    return text.split()


PROJECT = "proj_01jbench0000000000000000000"

MATERIALS = _words(
    "concrete rebar reinforcement gypsum board insulation batt rigid vapor retarder membrane "
    "waterproofing roofing flashing sealant steel joist deck anchor bolt weld plate angle channel "
    "door frame hardware glazing curtain wall storefront mullion louver duct diffuser grille "
    "damper pipe valve pump boiler chiller sprinkler standpipe conduit panelboard feeder "
    "receptacle luminaire lavatory drain cleanout masonry brick block mortar grout lintel coping "
    "canopy stair railing handrail guardrail plywood sheathing blocking nailer fastener screw "
    "tile carpet terrazzo sealer primer coating paint epoxy caulk backer rod firestopping "
    "fireproofing acoustical ceiling grid stud track header sill jamb threshold weatherstripping "
    "closer hinge lockset gasket shim "
)
PLACES = _words(
    "exterior wall interior partition corridor stair shaft roof parapet foundation footing slab "
    "on grade elevated slab column beam opening penetration ceiling soffit lobby restroom "
    "mechanical room electrical room janitor closet loading dock vestibule elevator pit canopy "
    "balcony plaza curb ramp "
)
ACTIONS = _words(
    "provide install verify coordinate seal extend align maintain protect patch repair replace "
    "remove relocate anchor fasten fill slope "
)
QUALIFIERS = _words(
    "typical continuous minimum maximum fire-rated one-hour two-hour galvanized stainless "
    "pressure-treated non-combustible moisture-resistant acoustical insulated prefinished "
    "factory-applied field-applied concealed exposed "
)
STOP = _words("the a an of at to in on and or with for as per from by all each where ")
DISCIPLINES = [("A", "architectural"), ("S", "structural"), ("M", "mechanical"),
               ("E", "electrical"), ("P", "plumbing"), ("C", "civil")]  # fmt: skip
REGION_TYPES = ["plan", "detail", "section", "elevation", "schedule", "title_block", "note"]
LAYOUTS = ["full_sheet", "viewport", "table", "text_block"]
SECTIONS = [
    ("03 30 00", "Cast-in-Place Concrete"), ("04 20 00", "Unit Masonry"),
    ("05 12 00", "Structural Steel Framing"), ("05 31 00", "Steel Decking"),
    ("06 10 00", "Rough Carpentry"), ("07 21 00", "Thermal Insulation"),
    ("07 27 00", "Air Barriers"), ("07 52 00", "Modified Bituminous Membrane Roofing"),
    ("07 84 00", "Firestopping"), ("07 92 00", "Joint Sealants"),
    ("08 11 13", "Hollow Metal Doors and Frames"), ("08 44 13", "Glazed Aluminum Curtain Walls"),
    ("08 71 00", "Door Hardware"), ("09 21 16", "Gypsum Board Assemblies"),
    ("09 51 13", "Acoustical Panel Ceilings"), ("09 91 23", "Interior Painting"),
    ("21 13 13", "Wet-Pipe Sprinkler Systems"), ("22 11 16", "Domestic Water Piping"),
    ("23 31 13", "Metal Ducts"), ("26 05 19", "Low-Voltage Electrical Conductors"),
]  # fmt: skip
PARTS = [("part_1_general", "Part 1 General"), ("part_2_products", "Part 2 Products"),
         ("part_3_execution", "Part 3 Execution"), ("submittals", "Submittals"),
         ("quality_assurance", "Quality Assurance")]  # fmt: skip


def _long_tail(rnd: random.Random, n: int) -> list[str]:
    """Product names, standards and model numbers: the rare words real documents are full of."""
    out = []
    for _ in range(n):
        kind = rnd.random()
        if kind < 0.4:
            out.append(f"ASTM {rnd.choice('ABCDEF')}{rnd.randint(1, 1999)}")
        elif kind < 0.6:
            out.append(f"UL {rnd.choice('UVWXYZ')}{rnd.randint(100, 999)}")
        elif kind < 0.8:
            series = rnd.choice(["PX", "QL", "TR", "HV", "SK"])
            out.append(f"Model {series}-{rnd.randint(10, 9999)}")
        else:
            out.append(rnd.choice(["Hilti", "Simpson", "Tremco", "Sika", "USG", "Kawneer",
                                   "Carlisle", "Armstrong", "Rockwool", "Dow"])
                       + f" {rnd.randint(100, 999)}")  # fmt: skip
    return out


def _sentence(rnd: random.Random, tail: list[str]) -> str:
    words = [rnd.choice(ACTIONS).capitalize()]
    for _ in range(rnd.randint(1, 3)):
        if rnd.random() < 0.5:
            words.append(rnd.choice(QUALIFIERS))
        words.append(rnd.choice(MATERIALS))
        words.append(rnd.choice(STOP))
    words += [rnd.choice(STOP), rnd.choice(PLACES)]
    if rnd.random() < 0.35:
        words += ["per", rnd.choice(tail)]
    if rnd.random() < 0.2:
        words += [f"at {rnd.randint(8, 48)} in. o.c."]
    return " ".join(words) + "."


def _paragraph(rnd: random.Random, tail: list[str], sentences: int) -> str:
    return " ".join(_sentence(rnd, tail) for _ in range(sentences))


def content_sources(
    n_regions: int = 10_000, n_sections: int = 1_000, *, seed: int = 1
) -> list[SearchSource]:
    """The server's own sources: plan sets and project manuals of 200 pages each from the
    content package's generator, mapped as the server maps them, cut at exactly `n_regions`
    regions and `n_sections` specification sections."""
    from mock_server.content import generate_document
    from mock_server.content.facts import PAGE_OK, DocumentFacts
    from mock_server.indexing import document_sources

    pages = 200
    wanted = {"region": n_regions, "specification": n_sections}
    kept: dict[str, list[SearchSource]] = {"region": [], "specification": []}
    for kind, classification, name in (
        ("region", "plans", "Drawings Vol {n}.pdf"),
        ("specification", "specifications", "Project Manual Vol {n}.pdf"),
    ):
        n = 0
        while len(kept[kind]) < wanted[kind]:
            n += 1
            facts = DocumentFacts(
                job_id="job_" + "0" * 26,
                project_id=PROJECT,
                document_id=f"doc_{kind[:4]}{n:022d}",
                file_id=f"file_{kind[:4]}{n:022d}",
                file_name=name.format(n=n),
                classification=classification,
                content_type="application/pdf",
                size=pages * 100_000,
                status="completed",
                kinds=bytes([kind == "region"]) * pages,
                outcomes=bytes([PAGE_OK]) * pages,
            )
            document = generate_document(facts, seed=seed)
            kept[kind] += [s for s in document_sources(PROJECT, document) if s.type == kind]
    return kept["region"][:n_regions] + kept["specification"][:n_sections]


def generate_sources(
    n_regions: int = 10_000, n_sections: int = 1_000, *, seed: int = 1
) -> list[SearchSource]:
    rnd = random.Random(seed)
    tail = _long_tail(rnd, 4_000)
    out: list[SearchSource] = []
    sheets_per_discipline = max(1, n_regions // (len(DISCIPLINES) * 8))
    for i in range(n_regions):
        letter, drawing_type = DISCIPLINES[i % len(DISCIPLINES)]
        sheet_no = f"{letter}-{100 + (i // len(DISCIPLINES)) % sheets_per_discipline}"
        page = 1 + i // 8
        region_type = rnd.choice(REGION_TYPES)
        label = f"{rnd.randint(1, 12)} {region_type.upper()} - {rnd.choice(PLACES).upper()}"
        rid = f"reg_{i:026d}"
        text = _paragraph(rnd, tail, rnd.randint(1, 6))
        if rnd.random() < 0.2:
            text += f" See {rnd.choice(DISCIPLINES)[0]}-{rnd.randint(100, 600)}."
        out.append(
            SearchSource(
                uri=region_uri(PROJECT, rid),
                type="region",
                title=label,
                text=text,
                source={"regionId": rid, "sheetNumber": sheet_no, "pageNumber": page},
                keywords=(sheet_no,),
                region_type=region_type,
                layout_type=rnd.choice(LAYOUTS),
                drawing_type=drawing_type,
                sheet_number=sheet_no,
                file_name=f"{drawing_type.capitalize()} Drawings Set {1 + i % 3}.pdf",
                classification="plans",
                page_start=page,
            )
        )
    page = 1
    for j in range(n_sections):
        number, title = SECTIONS[j % len(SECTIONS)]
        if j >= len(SECTIONS):  # more sections than the base list: numbered variants
            number = f"{number[:6]}{j % 97:02d}"
        sid = f"spec_{j:025d}"
        facets = []
        for k, (key, facet_label) in enumerate(PARTS):
            facets.append(
                SourceFacet(
                    facet_id=f"fac_{j:020d}{k:05d}",
                    label=facet_label,
                    source_text=_paragraph(rnd, tail, rnd.randint(4, 20)),
                    extra={"facetKey": key, "facetKind": "part"},
                )
            )
        pages = rnd.randint(2, 12)
        out.append(
            SearchSource(
                uri=specification_uri(PROJECT, number, sid),
                type="specification",
                title=f"{number} {title}",
                text=f"SECTION {number} - {title.upper()}\n"
                + "\n".join(f"{f.label.upper()}\n{f.source_text}" for f in facets),
                source={"specificationId": sid, "sectionNumber": number, "sectionTitle": title},
                keywords=(number,),
                facets=tuple(facets),
                file_name="Project Manual Vol 1.pdf",
                classification="specifications",
                page_start=page,
                page_end=page + pages - 1,
            )
        )
        page += pages
    return out


@dataclass(frozen=True, slots=True)
class BenchQuery:
    query: str
    max_hits: int = 10
    entity_types: tuple[str, ...] | None = None
    filters: SearchFilters = field(default_factory=SearchFilters)


def generate_queries(sources: list[SearchSource], n: int, *, seed: int = 2) -> list[BenchQuery]:
    rnd = random.Random(seed)
    regions = [s for s in sources if s.type == "region"]
    specs = [s for s in sources if s.type == "specification"]
    out: list[BenchQuery] = []
    for i in range(n):
        kind = i % 20
        hits = rnd.choice([5, 10, 10, 20, 50])
        if kind < 5:  # one word
            q = BenchQuery(rnd.choice(MATERIALS + PLACES), hits)
        elif kind < 10:  # natural language, stop words included
            q = BenchQuery(
                f"{rnd.choice(MATERIALS)} {rnd.choice(STOP)} {rnd.choice(QUALIFIERS)} "
                f"{rnd.choice(PLACES)}",
                hits,
            )
        elif kind == 10:  # a phrase copied from a document
            words = rnd.choice(sources).text.split()
            k = rnd.randrange(max(1, len(words) - 3))
            q = BenchQuery('"' + " ".join(words[k : k + 3]) + '"', hits)
        elif kind == 11:
            q = BenchQuery(rnd.choice(regions).sheet_number or "A-101", hits)
        elif kind == 12:
            number = rnd.choice(specs).keywords[0]
            q = BenchQuery(rnd.choice([number, number.replace(" ", "")]), hits)
        elif kind == 13:  # a rare product or standard, with context words
            tail = [w for w in rnd.choice(specs).facets[1].source_text.split(" per ")[1:]]
            q = BenchQuery((tail[0].split(".")[0] if tail else "ASTM C150") + " compliance", hits)
        elif kind == 14:
            q = BenchQuery(
                f"{rnd.choice(MATERIALS)} {rnd.choice(PLACES)}",
                hits,
                filters=SearchFilters(region_type=rnd.choice(REGION_TYPES)),
            )
        elif kind == 15:
            q = BenchQuery(
                rnd.choice(MATERIALS),
                hits,
                filters=SearchFilters(sheet_number=rnd.choice(regions).sheet_number),
            )
        elif kind == 16:
            q = BenchQuery(
                f"{rnd.choice(QUALIFIERS)} {rnd.choice(MATERIALS)}",
                hits,
                entity_types=("specification",),
                filters=SearchFilters(file_name="manual", page_number=rnd.randint(1, 3000)),
            )
        elif kind == 17:
            q = BenchQuery(
                f"the {rnd.choice(MATERIALS)} of the {rnd.choice(PLACES)}",
                hits,
                entity_types=("region",),
                filters=SearchFilters(drawing_type=rnd.choice(DISCIPLINES)[1]),
            )
        elif kind == 18:  # what users really type
            q = BenchQuery(
                rnd.choice(
                    [
                        'fire-rated (1 hr) partition* NOT "corridor"',
                        'R-19 batt insulation @ 16" o.c.',
                        "béton armé / concrete",
                        "what is the spec for door hardware?",
                        "AND OR NEAR(",
                        "::: *** ^^^",
                        "sprinkler 🚒 head",
                    ]
                ),
                hits,
            )
        else:  # a long question
            q = BenchQuery(
                " ".join(rnd.choice(MATERIALS + PLACES + STOP + QUALIFIERS) for _ in range(12)),
                hits,
            )
        out.append(q)
    return out


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def time_search(
    n_regions: int = 10_000,
    n_sections: int = 1_000,
    n_queries: int = 400,
    *,
    rounds: int = 3,
    corpus: str = "synthetic",
    http: bool = False,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    make = content_sources if corpus == "content" else generate_sources
    sources = make(n_regions, n_sections)
    generated = time.perf_counter() - t0
    index = SourceIndex()
    t0 = time.perf_counter()
    index.add(sources)
    build = time.perf_counter() - t0
    queries = generate_queries(sources, n_queries)
    for q in queries[:50]:  # warm SQLite's page cache and Python's
        index.search(q.query, max_hits=q.max_hits, entity_types=q.entity_types, filters=q.filters)
    cpu: list[float] = []  # per query: CPU time of the search call (ms)
    wall: list[float] = []  # per query: wall time (ms)
    hits = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for q in queries:
            c, w = time.thread_time(), time.perf_counter()
            r = index.search(
                q.query, max_hits=q.max_hits, entity_types=q.entity_types, filters=q.filters
            )
            cpu.append((time.thread_time() - c) * 1000)
            wall.append((time.perf_counter() - w) * 1000)
            hits += r.hit_count
    elapsed = time.perf_counter() - started
    busy = sum(cpu) / 1000
    slowest = sorted(zip(cpu, [q.query for q in queries] * rounds, strict=True))[-5:]
    extra = time_http(sources, queries) if http else {}
    return {
        **extra,
        "corpus": corpus,
        # CPU time per query: what one core spends, whatever else the machine runs
        "source_search_p50_ms": statistics.median(cpu),
        "source_search_p99_ms": _percentile(cpu, 99),
        "source_search_max_ms": max(cpu),
        "source_search_qps": len(cpu) / busy,  # queries per CPU-second of one core
        "wall_p50_ms": statistics.median(wall),
        "wall_p99_ms": _percentile(wall, 99),
        "wall_qps": len(wall) / elapsed,
        "queries": len(cpu),
        "distinct_queries": len(queries),
        "mean_hits": hits / len(cpu),
        "regions": n_regions,
        "sections": n_sections,
        "chunks": index.chunk_count,
        "build_s": build,
        "generate_s": generated,
        "slowest": [[round(t, 2), q] for t, q in slowest],
        "cpu_pinned": _pinned,
    }


def time_http(sources: list[SearchSource], queries: list[BenchQuery]) -> dict[str, Any]:
    """Wall ms per `POST /projects/{projectId}/source-search` of `queries`, through an
    in-process server whose project's index holds `sources` (one keep-alive client)."""
    import requests

    from mock_server import MockConfig
    from mock_server.testing import MockServerThread

    config = MockConfig(clock="manual", port=0, polling="off", seed=1)
    with MockServerThread(config) as server:
        http = requests.Session()
        headers = {"Authorization": "Bearer pgk_bench"}
        base = server.url + "/api/open/v1"
        made = http.post(f"{base}/projects", json={"name": "bench"}, headers=headers, timeout=30)
        pid = made.json()["project"]["id"]
        uri_project = PROJECT

        def fill() -> None:
            # the bench sources name their own project in their URIs; the index does not care
            server.state.search.indexes.add(pid, sources)
            assert uri_project

        server.call(fill)
        url = f"{base}/projects/{pid}/source-search"
        bodies = []
        for q in queries:
            f = q.filters
            body: dict[str, Any] = {"query": q.query, "maxHits": q.max_hits}
            if q.entity_types:
                body["entityTypes"] = list(q.entity_types)
            for key, value in (
                ("regionType", f.region_type),
                ("layoutType", f.layout_type),
                ("drawingType", f.drawing_type),
                ("sheetNumber", f.sheet_number),
                ("fileName", f.file_name),
                ("pageNumber", f.page_number),
                ("classification", f.classification),
            ):
                if value is not None:
                    body[key] = value
            bodies.append(json.dumps(body).encode())
        post = {"headers": {**headers, "Content-Type": "application/json"}, "timeout": 30}
        for b in bodies[:50]:
            http.post(url, data=b, **post)
        wall: list[float] = []
        started, cpu_started = time.perf_counter(), time.process_time()
        for b in bodies:
            t = time.perf_counter()
            answer = http.post(url, data=b, **post)
            wall.append((time.perf_counter() - t) * 1000)
            assert answer.status_code == 200, answer.text[:200]
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    return {
        # CPU of client and server together (one process), per request
        "http_cpu_ms_per_request": cpu * 1000 / len(wall),
        "http_p50_ms": statistics.median(wall),
        "http_p99_ms": _percentile(wall, 99),
        "http_rps": len(wall) / elapsed,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


_pinned = False


def _pin_one_cpu() -> None:
    global _pinned
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        _pinned = True


def measure_search(
    *, quick: bool = False, corpus: str = "synthetic", http: bool = False
) -> dict[str, Any]:
    """Run `time_search` in a child process (pinned to one CPU) and return its figures."""
    args = [sys.executable, "-m", "benchmarks.bench_search", "--corpus", corpus]
    args += (["--quick"] if quick else []) + (["--http"] if http else [])
    data: dict[str, Any] = run_child(args)
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/bench_search.py", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="200 queries, 1 round")
    ap.add_argument("--regions", type=int, default=10_000)
    ap.add_argument("--sections", type=int, default=1_000)
    ap.add_argument("--queries", type=int, default=None)
    ap.add_argument("--corpus", choices=("synthetic", "content"), default="synthetic")
    ap.add_argument("--http", action="store_true", help="also time the queries over HTTP")
    args = ap.parse_args(argv)
    _pin_one_cpu()
    n = args.queries or (200 if args.quick else 400)
    data = time_search(
        args.regions,
        args.sections,
        n,
        rounds=1 if args.quick else 3,
        corpus=args.corpus,
        http=args.http,
    )
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
