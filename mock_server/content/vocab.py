"""The words synthetic content is made of: disciplines, sheet names, region notes, MasterFormat
sections, doc titles. Data only; `generate.py` draws from it with a seeded random."""

from __future__ import annotations

__all__ = [
    "DISCIPLINES",
    "DISCIPLINE_ORDER",
    "DISCIPLINE_WEIGHTS",
    "DIVISIONS",
    "DOC_TITLES",
    "DOC_TYPES",
    "DRAWING_TYPES",
    "DRAWING_TYPE_SERIES",
    "LAYOUT_TYPES",
    "MASTERFORMAT",
    "MASTERFORMAT_CHILDREN",
    "REGION_NOTES",
    "REGION_TYPES",
    "SHEET_NAMES",
    "SHEET_TYPE_WEIGHTS",
]

# sheet-number prefix -> discipline, in the order a drawing set is bound
DISCIPLINES: dict[str, str] = {
    "G": "general",
    "C": "civil",
    "L": "landscape",
    "A": "architectural",
    "S": "structural",
    "M": "mechanical",
    "P": "plumbing",
    "E": "electrical",
    "FP": "fire_protection",
}
DISCIPLINE_ORDER: tuple[str, ...] = tuple(DISCIPLINES)
# how often a drawing page belongs to each discipline (G only ever as the cover of a larger set)
DISCIPLINE_WEIGHTS: dict[str, float] = {
    "C": 1.0,
    "L": 0.5,
    "A": 5.0,
    "S": 3.0,
    "M": 2.0,
    "P": 1.5,
    "E": 2.0,
    "FP": 0.5,
}

REGION_TYPES: tuple[str, ...] = (
    "plan",
    "detail",
    "section",
    "elevation",
    "schedule",
    "title_block",
)
DRAWING_TYPES: tuple[str, ...] = (
    "cover",
    "plan",
    "elevation",
    "section",
    "detail",
    "schedule",
    "diagram",
)
# the hundreds digit of a sheet number by drawing type (A-101 a plan, A-501 a detail sheet)
DRAWING_TYPE_SERIES: dict[str, int] = {
    "cover": 0,
    "plan": 1,
    "elevation": 2,
    "section": 3,
    "diagram": 4,
    "detail": 5,
    "schedule": 6,
}
# region type -> layout type (the docs filter regions by a layoutType they do not enumerate)
LAYOUT_TYPES: dict[str, str] = {
    "plan": "viewport",
    "detail": "viewport",
    "section": "viewport",
    "elevation": "viewport",
    "schedule": "table",
    "title_block": "title_block",
}

# per discipline, the drawing types its sheets have and how often
SHEET_TYPE_WEIGHTS: dict[str, dict[str, float]] = {
    "G": {"plan": 1.0, "schedule": 1.0},
    "C": {"plan": 4.0, "detail": 1.5, "section": 0.5},
    "L": {"plan": 3.0, "detail": 1.0},
    "A": {"plan": 5.0, "elevation": 1.5, "section": 1.5, "detail": 2.0, "schedule": 1.0},
    "S": {"plan": 4.0, "section": 1.0, "detail": 2.0, "schedule": 0.7},
    "M": {"plan": 4.0, "detail": 1.0, "schedule": 1.0, "diagram": 0.5},
    "P": {"plan": 3.0, "diagram": 1.0, "detail": 0.7, "schedule": 0.7},
    "E": {"plan": 4.0, "diagram": 1.0, "schedule": 1.0, "detail": 0.5},
    "FP": {"plan": 3.0, "detail": 0.7},
}

# (discipline, drawing type) -> sheet names; "{n}" is a level number
SHEET_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("G", "cover"): ("Cover Sheet",),
    ("G", "plan"): ("Code Analysis and Life Safety Plan", "Accessibility Plan"),
    ("G", "schedule"): ("Sheet Index and Abbreviations", "General Notes and Symbols"),
    ("C", "plan"): (
        "Site Plan",
        "Grading and Drainage Plan",
        "Utility Plan",
        "Erosion Control Plan",
    ),
    ("C", "detail"): ("Civil Details", "Paving and Curb Details"),
    ("C", "section"): ("Site Sections",),
    ("L", "plan"): ("Landscape Plan", "Irrigation Plan", "Hardscape Plan"),
    ("L", "detail"): ("Planting Details", "Site Furnishing Details"),
    ("A", "plan"): (
        "Level {n} Floor Plan",
        "Level {n} Reflected Ceiling Plan",
        "Roof Plan",
        "Enlarged Restroom Plans",
        "Level {n} Finish Plan",
    ),
    ("A", "elevation"): ("Exterior Elevations", "Interior Elevations", "Building Elevations"),
    ("A", "section"): ("Building Sections", "Wall Sections", "Stair Sections"),
    ("A", "detail"): (
        "Exterior Details",
        "Door and Window Details",
        "Stair Details",
        "Roof Details",
    ),
    ("A", "schedule"): ("Door Schedule", "Window Schedule", "Room Finish Schedule"),
    ("S", "plan"): ("Foundation Plan", "Level {n} Framing Plan", "Roof Framing Plan"),
    ("S", "section"): ("Structural Sections",),
    ("S", "detail"): (
        "Typical Concrete Details",
        "Steel Connection Details",
        "Foundation Details",
    ),
    ("S", "schedule"): ("Column and Footing Schedules", "Structural General Notes"),
    ("M", "plan"): ("Level {n} HVAC Plan", "Mechanical Roof Plan", "Level {n} Piping Plan"),
    ("M", "detail"): ("Mechanical Details",),
    ("M", "schedule"): ("Mechanical Schedules", "Mechanical Legend and Notes"),
    ("M", "diagram"): ("Chilled Water Flow Diagram", "Controls Diagrams"),
    ("P", "plan"): ("Level {n} Plumbing Plan", "Underground Plumbing Plan"),
    ("P", "diagram"): ("Plumbing Riser Diagrams", "Domestic Water Riser Diagram"),
    ("P", "detail"): ("Plumbing Details",),
    ("P", "schedule"): ("Plumbing Fixture Schedule",),
    ("E", "plan"): ("Level {n} Lighting Plan", "Level {n} Power Plan", "Electrical Site Plan"),
    ("E", "diagram"): ("Single Line Diagram", "Fire Alarm Riser Diagram"),
    ("E", "schedule"): ("Panel Schedules", "Lighting Fixture Schedule"),
    ("E", "detail"): ("Electrical Details",),
    ("FP", "plan"): ("Level {n} Fire Protection Plan",),
    ("FP", "detail"): ("Fire Protection Details",),
}

# region type -> notes a region of that type may carry ("{d}" is the discipline's noun)
REGION_NOTES: dict[str, tuple[str, ...]] = {
    "plan": (
        "ALL DIMENSIONS ARE TO FACE OF STUD UNLESS NOTED OTHERWISE.",
        "VERIFY ALL EXISTING CONDITIONS IN FIELD PRIOR TO START OF {d} WORK.",
        "SEE ENLARGED PLANS FOR ADDITIONAL INFORMATION.",
        "COORDINATE LOCATIONS OF {d} EQUIPMENT WITH ARCHITECTURAL REFLECTED CEILING PLANS.",
        "PROVIDE FIRE-RATED ASSEMBLIES AT ALL CORRIDOR WALLS AS INDICATED.",
    ),
    "detail": (
        "PROVIDE CONT. BEAD OF SEALANT AT ALL EXTERIOR JOINTS.",
        "PROVIDE R-19 BATT INSULATION AT ALL EXTERIOR STUD WALLS.",
        "ANCHOR BOLTS: 3/4 IN. DIA. x 12 IN. EMBED AT 48 IN. O.C. MAX.",
        "FLASHING TO LAP MIN. 4 IN. OVER WEATHER BARRIER.",
        "ALL WELDS E70XX ELECTRODES UNLESS NOTED OTHERWISE.",
        "SEAL ALL PENETRATIONS THROUGH RATED ASSEMBLIES WITH LISTED FIRESTOP SYSTEM.",
    ),
    "section": (
        "TOP OF SLAB EL. 100'-0\" TYP.",
        "CONCRETE SLAB ON GRADE OVER 10 MIL VAPOR RETARDER OVER 4 IN. GRANULAR FILL.",
        "METAL DECK ON STEEL JOISTS AT 6'-0\" O.C.",
        "PROVIDE CONTINUOUS INSULATION AT FOUNDATION WALLS.",
    ),
    "elevation": (
        "BRICK VENEER, RUNNING BOND, TYP.",
        "ALUMINUM STOREFRONT SYSTEM, CLEAR ANODIZED FINISH.",
        "PREFINISHED METAL COPING, COLOR TO MATCH PANEL.",
        "CONTROL JOINTS AT 20'-0\" O.C. MAX.",
    ),
    "schedule": (
        "HOLLOW METAL FRAME, 16 GA., WELDED. HARDWARE SET 4.",
        "ALL FIXTURES TO BE LOW-FLOW, WATERSENSE LABELED.",
        "PANEL LP-1: 208Y/120V, 3PH, 4W, 225A MLO.",
        "RTU-1: 10 TON, 4,000 CFM, GAS HEAT 150 MBH.",
        "C1: W10x33, BASE PLATE 14x14x3/4.",
    ),
}

# Level-2 and level-3 MasterFormat sections (number, title), in number order
MASTERFORMAT: tuple[tuple[str, str], ...] = (
    ("01 10 00", "Summary"),
    ("01 25 00", "Substitution Procedures"),
    ("01 33 00", "Submittal Procedures"),
    ("01 40 00", "Quality Requirements"),
    ("01 77 00", "Closeout Procedures"),
    ("02 41 00", "Demolition"),
    ("03 10 00", "Concrete Forming and Accessories"),
    ("03 20 00", "Concrete Reinforcing"),
    ("03 30 00", "Cast-in-Place Concrete"),
    ("03 40 00", "Precast Concrete"),
    ("04 20 00", "Unit Masonry"),
    ("05 12 00", "Structural Steel Framing"),
    ("05 31 00", "Steel Decking"),
    ("05 40 00", "Cold-Formed Metal Framing"),
    ("05 50 00", "Metal Fabrications"),
    ("06 10 00", "Rough Carpentry"),
    ("06 40 00", "Architectural Woodwork"),
    ("07 21 00", "Thermal Insulation"),
    ("07 27 00", "Air Barriers"),
    ("07 54 00", "Thermoplastic Membrane Roofing"),
    ("07 62 00", "Sheet Metal Flashing and Trim"),
    ("07 92 00", "Joint Sealants"),
    ("08 11 13", "Hollow Metal Doors and Frames"),
    ("08 14 16", "Flush Wood Doors"),
    ("08 41 13", "Aluminum-Framed Entrances and Storefronts"),
    ("08 71 00", "Door Hardware"),
    ("08 80 00", "Glazing"),
    ("09 21 16", "Gypsum Board Assemblies"),
    ("09 30 00", "Tiling"),
    ("09 51 13", "Acoustical Panel Ceilings"),
    ("09 65 13", "Resilient Base and Accessories"),
    ("09 91 23", "Interior Painting"),
    ("10 14 00", "Signage"),
    ("10 28 00", "Toilet, Bath, and Laundry Accessories"),
    ("21 13 13", "Wet-Pipe Sprinkler Systems"),
    ("22 11 16", "Domestic Water Piping"),
    ("22 40 00", "Plumbing Fixtures"),
    ("23 05 93", "Testing, Adjusting, and Balancing for HVAC"),
    ("23 31 13", "Metal Ducts"),
    ("23 74 13", "Packaged, Outdoor, Central-Station Air-Handling Units"),
    ("26 05 19", "Low-Voltage Electrical Power Conductors and Cables"),
    ("26 24 16", "Panelboards"),
    ("26 51 19", "LED Interior Lighting"),
    ("27 10 00", "Structured Cabling"),
    ("28 46 00", "Fire Detection and Alarm"),
    ("31 20 00", "Earth Moving"),
    ("32 12 16", "Asphalt Paving"),
    ("33 41 00", "Subdrainage"),
)
# sections that a specification may carry as further CSI-like sections of its own
MASTERFORMAT_CHILDREN: dict[str, tuple[tuple[str, str], ...]] = {
    "03 30 00": (("03 35 00", "Concrete Finishing"), ("03 39 00", "Concrete Curing")),
    "05 12 00": (("05 12 13", "Architecturally-Exposed Structural Steel Framing"),),
    "07 21 00": (("07 21 13", "Board Insulation"), ("07 21 16", "Blanket Insulation")),
    "08 71 00": (("08 71 13", "Automatic Door Operators"),),
    "09 21 16": (("09 22 16", "Non-Structural Metal Framing"),),
    "26 24 16": (("26 24 13", "Switchboards"),),
}

# division -> (products, reference standards)
DIVISIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "01": (
        ("Temporary facilities", "Project record documents"),
        (
            "ASTM E329 - Agencies Engaged in Construction Inspection, Testing, "
            "or Special Inspection",
        ),
    ),
    "02": (
        ("Demolition debris containers", "Temporary shoring"),
        ("ANSI/ASSP A10.6 - Safety Requirements for Demolition Operations",),
    ),
    "03": (
        ("Portland cement", "Normal-weight aggregate", "Deformed reinforcing bars", "Form liners"),
        (
            "ACI 301 - Specifications for Structural Concrete",
            "ASTM C94/C94M - Ready-Mixed Concrete",
            "ASTM A615/A615M - Deformed and Plain Carbon-Steel Bars for Concrete Reinforcement",
        ),
    ),
    "04": (
        ("Concrete masonry units", "Mortar and grout", "Masonry joint reinforcement"),
        ("ASTM C90 - Loadbearing Concrete Masonry Units", "TMS 602 - Specification for Masonry"),
    ),
    "05": (
        ("Wide-flange shapes", "High-strength bolts", "Steel deck", "Shop primer"),
        (
            "AISC 360 - Specification for Structural Steel Buildings",
            "AWS D1.1/D1.1M - Structural Welding Code - Steel",
            "ASTM A992/A992M - Structural Steel Shapes",
        ),
    ),
    "06": (
        ("Dimension lumber", "Plywood sheathing", "Fire-retardant-treated blocking"),
        ("DOC PS 1 - Structural Plywood", "AWI Architectural Woodwork Standards"),
    ),
    "07": (
        ("Polyisocyanurate board insulation", "TPO membrane", "Silicone joint sealant"),
        (
            "ASTM C1289 - Faced Rigid Cellular Polyisocyanurate Thermal Insulation Board",
            "ASTM C920 - Elastomeric Joint Sealants",
            "ASTM E2357 - Air Leakage of Air Barrier Assemblies",
        ),
    ),
    "08": (
        ("Hollow metal frames", "Flush wood doors", "Insulating glass units", "Mortise locksets"),
        (
            "ANSI/SDI A250.8 - Specifications for Standard Steel Doors and Frames",
            "ANSI/BHMA A156.13 - Mortise Locks and Latches",
            "ASTM E1300 - Load Resistance of Glass in Buildings",
        ),
    ),
    "09": (
        ("Gypsum board, Type X", "Porcelain tile", "Acoustical ceiling panels", "Latex paint"),
        (
            "ASTM C1396/C1396M - Gypsum Board",
            "ASTM C840 - Application and Finishing of Gypsum Board",
            "ANSI A108 - Installation of Ceramic Tile",
        ),
    ),
    "10": (
        ("Room identification signs", "Grab bars", "Toilet tissue dispensers"),
        ("ICC A117.1 - Accessible and Usable Buildings and Facilities",),
    ),
    "21": (
        ("Pendent sprinklers", "Schedule 10 steel pipe", "Alarm check valve"),
        ("NFPA 13 - Standard for the Installation of Sprinkler Systems",),
    ),
    "22": (
        ("Type L copper tube", "Water closets", "Lavatory faucets", "Ball valves"),
        (
            "ASTM B88 - Seamless Copper Water Tube",
            "ASME A112.19.2 - Ceramic Plumbing Fixtures",
            "NSF 61 - Drinking Water System Components",
        ),
    ),
    "23": (
        ("Galvanized sheet metal ductwork", "Rooftop air-handling units", "Balancing dampers"),
        (
            "SMACNA HVAC Duct Construction Standards",
            "ASHRAE 90.1 - Energy Standard for Buildings",
            "AABC National Standards for Total System Balance",
        ),
    ),
    "26": (
        ("THHN/THWN-2 conductors", "Panelboards", "LED troffers", "Grounding electrodes"),
        (
            "NFPA 70 - National Electrical Code",
            "UL 67 - Panelboards",
            "NECA 1 - Good Workmanship in Electrical Construction",
        ),
    ),
    "27": (
        ("Category 6 cable", "Patch panels", "Equipment racks"),
        ("TIA-568 - Commercial Building Telecommunications Cabling Standard",),
    ),
    "28": (
        ("Addressable fire alarm control unit", "Smoke detectors", "Horn-strobes"),
        ("NFPA 72 - National Fire Alarm and Signaling Code",),
    ),
    "31": (
        ("Structural fill", "Drainage course", "Geotextile fabric"),
        ("ASTM D1557 - Laboratory Compaction Characteristics of Soil (Modified Effort)",),
    ),
    "32": (
        ("Asphalt binder", "Aggregate base course", "Pavement markings"),
        ("AASHTO M 320 - Performance-Graded Asphalt Binder",),
    ),
    "33": (
        ("Perforated PVC drain pipe", "Filter fabric", "Cleanouts"),
        ("ASTM F758 - Smooth-Wall PVC Underdrain Systems",),
    ),
}

DOC_TYPES: tuple[str, ...] = ("submittal", "rfi", "report", "schedule")
# doc type -> titles; "{n}" a running number, "{s}" a MasterFormat section, "{p}" a product
DOC_TITLES: dict[str, tuple[str, ...]] = {
    "submittal": (
        "Submittal {s}-{n:03d} - {p} Product Data",
        "Submittal {s}-{n:03d} - {p} Shop Drawings",
        "Submittal {s}-{n:03d} - {p} Samples",
    ),
    "rfi": (
        "RFI-{n:03d} - Clarify footing depth at grid C/4",
        "RFI-{n:03d} - Conflict between duct and beam at Level 2 corridor",
        "RFI-{n:03d} - Confirm door hardware set at stair doors",
        "RFI-{n:03d} - Substitution request for {p}",
    ),
    "report": (
        "Geotechnical Investigation Report",
        "Structural Calculations",
        "Energy Compliance Report",
        "Special Inspection Report No. {n}",
        "Hazardous Materials Survey",
    ),
    "schedule": (
        "Baseline Construction Schedule",
        "Three-Week Look-Ahead Schedule No. {n}",
        "Submittal Schedule",
    ),
    "addendum": ("Addendum No. {n}",),
}
