"""Public request and response bodies (API.md part A) as pydantic models.

Request models validate what clients send (`http.body.read_json`); response models describe what
the server answers (handlers build plain dicts through `serialize.py`; tests check them against
these) and feed the OpenAPI document.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from ..content.query import CLASSIFICATIONS
from ..http.body import JsonInt

__all__ = [
    "CLASSIFICATIONS",
    "WEBHOOK_URL_PATTERN",
    "ArtifactModel",
    "Billing",
    "BoxModel",
    "Classification",
    "CompleteUploadsRequest",
    "CreateJobRequest",
    "CreateProjectRequest",
    "DirectUpload",
    "DirectUploadRecord",
    "DocEntityModel",
    "DocEntityResponse",
    "DocsListResponse",
    "FacetModel",
    "FailedUpload",
    "FileEntityModel",
    "FileEntityResponse",
    "FilesListResponse",
    "FormFileMetadata",
    "FormMetadata",
    "FormUpload",
    "FormUploadResponse",
    "JobBilling",
    "JobCreateResponse",
    "JobError",
    "JobFileModel",
    "JobLimits",
    "JobModel",
    "JobResponse",
    "JobsResponse",
    "MultipartPart",
    "MultipartUpload",
    "PageInfo",
    "PartInstruction",
    "PartModel",
    "ProductModel",
    "ProjectCreateResponse",
    "ProjectModel",
    "ProjectResponse",
    "ProjectRuntime",
    "ProjectsResponse",
    "RegionEntityModel",
    "RegionEntityResponse",
    "RegionsListResponse",
    "RegisterFile",
    "RegisterUploadsRequest",
    "RegisterUploadsResponse",
    "RelatedSectionModel",
    "RequirementModel",
    "ResultDoc",
    "ResultDocument",
    "ResultError",
    "ResultEvidence",
    "ResultJob",
    "ResultJobError",
    "ResultOutlineSection",
    "ResultResponse",
    "ResultSheet",
    "ResultSpecification",
    "ResultUsage",
    "ResultWarningModel",
    "SectionEntityModel",
    "SectionEntityResponse",
    "SectionFacetModel",
    "SectionsListResponse",
    "SheetEntityModel",
    "SheetEntityResponse",
    "SheetsListResponse",
    "SpecificationEntityModel",
    "SpecificationEntityResponse",
    "SpecificationsListResponse",
    "UploadContentRequest",
    "UploadContentResponse",
    "UploadInstruction",
    "WarningModel",
]

Classification = Literal["plans", "specifications", "documents", "addenda", "mixed", "other"]
_SHA256 = r"^[0-9a-f]{64}$"


class _Request(BaseModel):
    # Plangrep ignores fields it does not know; so does the mock (clients stay portable).
    model_config = ConfigDict(extra="ignore", strict=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


# --------------------------------------------------------------------------- public requests


class CreateProjectRequest(_Request):
    name: str = Field(min_length=1, max_length=180, description="unique in the organisation")


# An absolute http(s) URL with a host; the handler checks it with this same pattern, so what the
# OpenAPI document accepts and what the server accepts agree (written for ECMA-262 and Python).
# The host is an RFC 3986 reg-name or IPv4 address (international names in punycode; no IPv6
# literals: no pattern can tell `[::1]` from `[1::2::3]`, which Python's URL parser refuses).
# No space, control or whitespace character, spelled out: `\s` means one set in Python (with
# \x85, without \ufeff) and another in ECMA-262 (the other way round), and the fuzzer found a URL
# the document accepted and the server refused.
_NOT_IN_URL = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
WEBHOOK_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://"
    r"[A-Za-z0-9._~%!$&'()*+,;=-]+"
    r"(:[0-9]{1,5})?"
    r"([/?#][^" + _NOT_IN_URL + r"]*)?$"
)


class CreateJobRequest(_Request):
    externalId: str | None = Field(None, max_length=180)
    webhookUrl: str | None = Field(
        None,
        max_length=2048,
        description="absolute http(s) URL (https with strict URLs)",
        json_schema_extra={"pattern": WEBHOOK_URL_PATTERN},
    )


class DirectUpload(_Request):
    documentId: str
    uploadToken: str


class MultipartPart(_Request):
    partNumber: JsonInt = Field(ge=1, le=10_000)
    etag: str = Field(alias="etag", min_length=1)


class MultipartUpload(_Request):
    """The docs' entry is `{documentId, uploadId, uploadToken}`; a part list, where a client
    sends one, is checked against the parts storage returned (the mock knows which it stored)."""

    documentId: str
    uploadId: str
    uploadToken: str | None = Field(
        None, description="the registration's uploadToken; checked when given"
    )
    parts: list[MultipartPart] | None = Field(
        None,
        description="optional (not in Plangrep's docs): each listed part's ETag is checked",
    )


class FailedUpload(_Request):
    documentId: str
    reason: str | None = Field(None, max_length=1000)


class CompleteUploadsRequest(_Request):
    documentIds: list[str] | None = Field(None, max_length=100)
    directUploads: list[DirectUpload] | None = Field(None, max_length=100)
    multipartUploads: list[MultipartUpload] | None = Field(None, max_length=100)
    failedUploads: list[FailedUpload] | None = Field(None, max_length=100)


class FormFileMetadata(_Request):
    partName: str = Field(min_length=1, max_length=64)
    fileName: str = Field(min_length=1, max_length=255)
    contentType: str = Field("application/pdf", min_length=1, max_length=255)
    classification: Classification | None = None
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")


class FormMetadata(_Request):
    clientUploadFlowId: str | None = Field(None, max_length=256)
    files: list[FormFileMetadata] | None = None  # more than 100: limit_exceeded


# --------------------------------------------------------------------------- public responses


# --------------------------------------------------------------------------- public responses


class JobLimits(BaseModel):
    maxDeclaredBytes: int
    maxFiles: int


class JobBilling(BaseModel):
    creditsReserved: int
    creditsDebited: int


class JobFileModel(BaseModel):
    id: str
    documentId: str
    fileName: str
    status: str


class JobError(BaseModel):
    code: str
    message: str


JobStatusName = Literal[
    "provisioning",
    "awaiting_uploads",
    "uploading",
    "preflighting",
    "blocked_insufficient_credits",
    "processing",
    "completed",
    "completed_with_errors",
    "failed",
    "cancelled",
    "expired",
]


class JobModel(BaseModel):
    id: str = Field(pattern=r"^job_[a-z0-9]{26}$")
    externalId: str | None
    status: JobStatusName
    projectId: str
    limits: JobLimits
    pageCount: int
    successfulPageCount: int
    billing: JobBilling
    files: list[JobFileModel]
    resultUrl: str | None
    error: JobError | None
    createdAt: str
    updatedAt: str
    completedAt: str | None
    expiresAt: str


class JobResponse(BaseModel):
    job: JobModel


class JobCreateResponse(BaseModel):
    job: JobModel
    idempotent: bool | None = Field(None, description="present and true on a replay")
    webhookSigningSecret: str | None = Field(
        None, pattern=r"^wss_", description="only in the first response, never on a replay"
    )


class JobsResponse(BaseModel):
    jobs: list[JobModel]


class ProjectRuntime(BaseModel):
    status: Literal["starting", "running"]
    upgradeStatus: Literal["none", "in_progress"] = Field(
        description="none, as the API reference shows; in_progress while a runtime upgrade "
        "runs (a scenario's project_upgrade); the project stays usable"
    )


class ProjectModel(BaseModel):
    id: str = Field(pattern=r"^proj_[a-z0-9]{26}$")
    name: str
    projectKind: Literal["open_api"]
    status: Literal["provisioning", "ready"]
    runtime: ProjectRuntime
    createdAt: str
    updatedAt: str


class Billing(BaseModel):
    availableCredits: int
    creditsCharged: int
    requiredCredits: int


class ProjectCreateResponse(BaseModel):
    project: ProjectModel
    billing: Billing


class ProjectResponse(BaseModel):
    project: ProjectModel


class ProjectsResponse(BaseModel):
    projects: list[ProjectModel]


class FormUpload(_Response):
    documentId: str
    fileId: str
    fileName: str
    contentType: str
    fileSize: int
    partName: str
    status: str


class FormUploadResponse(BaseModel):
    job: JobModel
    status: Literal["uploaded", "skipped"]
    uploads: list[FormUpload]


# --------------------------------------------------------------------------- registered uploads


class _LaxRequest(BaseModel):
    # the registration bodies are not strict: Plangrep's examples send numbers as numbers
    model_config = ConfigDict(extra="ignore")


# What `_safe_name` accepts, for the OpenAPI document: no slash, backslash or control character,
# not blank, not `.` or `..` (found by fuzzing: the document allowed names the server refused).
_FILE_NAME_SCHEMA: JsonDict = {
    "pattern": r"^[^/\\\x00-\x1f]*[^/\\\x00-\x1f\s][^/\\\x00-\x1f]*$",
    "not": {"enum": [".", ".."]},
}


class RegisterFile(_LaxRequest):
    fileName: str = Field(min_length=1, max_length=255, json_schema_extra=_FILE_NAME_SCHEMA)
    contentType: str = Field(min_length=1, max_length=255)
    fileSize: JsonInt = Field(ge=0, description="exact size in bytes")
    sha256: str = Field(pattern=_SHA256, description="64 lowercase hex characters")
    classification: Classification | None = None

    @field_validator("fileName")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if "/" in name or "\\" in name:
            raise ValueError("a file name cannot contain / or \\")
        if name in (".", "..") or ".." in name.split("."):
            raise ValueError("a file name cannot be . or .. or contain ..")
        if any(ord(c) < 32 for c in name):
            raise ValueError("a file name cannot contain NUL or control characters")
        if not name.strip():
            raise ValueError("a file name cannot be blank")
        return name


class RegisterUploadsRequest(_LaxRequest):
    # more than 100 files is limit_exceeded (checked by the handler), not a validation error
    files: list[RegisterFile] = Field(min_length=1, description="1 to 100 files")


class UploadContentRequest(_LaxRequest):
    uploadToken: str = Field(min_length=1, max_length=256)
    contentBase64: str = Field(description="the file's bytes, standard base64")
    sha256: str | None = Field(None, pattern=_SHA256)


class PartInstruction(BaseModel):
    partNumber: int
    size: int
    url: str


class UploadInstruction(BaseModel):
    documentId: str
    uploadMode: Literal["direct_put", "multipart"]
    uploadToken: str
    expiresAt: str
    uploadUrl: str | None = Field(None, description="direct_put only")
    headers: dict[str, str] | None = Field(None, description="direct_put only")
    uploadId: str | None = Field(None, description="multipart only")
    partSize: int | None = Field(None, description="multipart only")
    parts: list[PartInstruction] | None = Field(None, description="multipart only")


class RegisterUploadsResponse(BaseModel):
    job: JobModel
    uploads: list[UploadInstruction]


class DirectUploadRecord(BaseModel):
    documentId: str
    uploadToken: str


class UploadContentResponse(BaseModel):
    status: Literal["uploaded"]
    documentId: str
    fileName: str
    fileSize: int
    contentType: str
    uploadMode: Literal["direct_put"]
    directUpload: DirectUploadRecord


# --------------------------------------------------------------------------- results


class ResultJobError(BaseModel):
    code: str
    message: str


class ResultJob(BaseModel):
    id: str
    status: Literal["completed", "completed_with_errors"]
    externalId: str | None
    createdAt: str
    completedAt: str
    expiresAt: str
    resultUrl: str | None
    error: ResultJobError | None


class ResultUsage(BaseModel):
    pageCount: int
    successfulPageCount: int
    drawingPageCount: int
    documentPageCount: int
    successfulDrawingPageCount: int
    successfulDocumentPageCount: int
    drawingCreditsPerPage: int
    documentCreditsPerPage: int
    creditsDebited: int


# --------------------------------------------------------------------------- entities


class ArtifactModel(BaseModel):
    type: Literal["thumbnail", "extracted_json", "vector_crop"]
    url: str = Field(description="the artifact route of the job or project, with its path=")


class BoxModel(BaseModel):
    left: float = Field(ge=0, le=1)
    top: float = Field(ge=0, le=1)
    right: float = Field(ge=0, le=1)
    bottom: float = Field(ge=0, le=1)


class FileEntityModel(_Response):
    fileId: str
    fileName: str
    classification: str | None
    status: str
    pageCount: int
    artifacts: list[ArtifactModel] | None = Field(None, description="left out with compact")


class SheetEntityModel(_Response):
    sheetId: str
    fileId: str
    fileName: str
    pageNumber: int = Field(ge=1)
    sheetNumber: str | None
    sheetName: str
    sheetDisplayName: str
    artifacts: list[ArtifactModel] | None = Field(None, description="left out with compact")


class RegionEntityModel(_Response):
    regionId: str
    sheetId: str
    fileId: str
    fileName: str
    pageNumber: int = Field(ge=1)
    sheetNumber: str | None
    regionType: str = Field(description="defined by the mock: what regionType filters on")
    drawingType: str = Field(description="defined by the mock: the sheet's drawing type")
    layoutType: str = Field(description="defined by the mock: what layoutType filters on")
    label: str
    text: str = Field(description='"" when the region has no text')
    displayBox: BoxModel
    titleBox: BoxModel | None
    artifacts: list[ArtifactModel] | None = Field(None, description="left out with compact")


class FacetModel(_Response):
    facetId: str
    facetKey: str
    facetKind: str
    facetLabel: str
    coverageKind: str
    text: str = Field(max_length=50_000)
    pageStart: int
    pageEnd: int


class SpecificationEntityModel(_Response):
    specificationId: str
    fileId: str
    fileName: str
    sectionNumber: str
    sectionTitle: str
    pageStart: int
    pageEnd: int
    facets: list[FacetModel]
    artifacts: list[ArtifactModel] | None = Field(None, description="left out with compact")


class RequirementModel(_Response):
    label: str
    text: str
    pageNumber: int


class PartModel(_Response):
    label: str
    title: str
    text: str
    pageStart: int
    pageEnd: int


class ProductModel(_Response):
    name: str
    description: str
    requirements: list[str]


class RelatedSectionModel(BaseModel):
    sectionNumber: str
    title: str


class WarningModel(BaseModel):
    code: str
    message: str


class SectionFacetModel(_Response):
    facetId: str
    facetKey: str
    facetKind: str
    facetLabel: str
    coverageKind: str
    facetText: str
    requirements: list[RequirementModel]
    pageStart: int
    pageEnd: int


class SectionEntityModel(_Response):
    sectionId: str
    specId: str
    sectionNumber: str
    title: str
    pageStart: int
    pageEnd: int
    text: str
    textLength: int
    parts: list[PartModel]
    products: list[ProductModel]
    submittals: list[RequirementModel]
    references: list[RequirementModel]
    relatedSections: list[RelatedSectionModel]
    qualityRequirements: list[RequirementModel]
    executionRequirements: list[RequirementModel]
    warnings: list[WarningModel]
    facets: list[SectionFacetModel]
    artifacts: list[ArtifactModel] | None = Field(None, description="left out with compact")


class DocEntityModel(_Response):
    docId: str
    fileId: str
    fileName: str
    docType: str
    status: str
    artifacts: list[ArtifactModel] | None = Field(None, description="left out with compact")


class PageInfo(BaseModel):
    startCursor: str | None
    endCursor: str | None
    hasPreviousPage: bool
    hasNextPage: bool


class _ListEnvelope(BaseModel):
    total: int = Field(ge=0, description="every entity that passes the filters")
    limit: int = Field(ge=1, le=500)
    cursor: str | None = Field(description="the cursor of this request, echoed")
    nextCursor: str | None = Field(description="null on the last page")
    returnedCount: int = Field(ge=0)
    hasMore: bool
    pageInfo: PageInfo


class FilesListResponse(_ListEnvelope):
    files: list[FileEntityModel]


class SheetsListResponse(_ListEnvelope):
    sheets: list[SheetEntityModel]


class RegionsListResponse(_ListEnvelope):
    regions: list[RegionEntityModel]


class SpecificationsListResponse(_ListEnvelope):
    specifications: list[SpecificationEntityModel]


class SectionsListResponse(_ListEnvelope):
    sections: list[SectionEntityModel]


class DocsListResponse(_ListEnvelope):
    docs: list[DocEntityModel]


class FileEntityResponse(BaseModel):
    file: FileEntityModel


class SheetEntityResponse(BaseModel):
    sheet: SheetEntityModel


class RegionEntityResponse(BaseModel):
    region: RegionEntityModel


class SpecificationEntityResponse(BaseModel):
    specification: SpecificationEntityModel


class SectionEntityResponse(BaseModel):
    section: SectionEntityModel


class DocEntityResponse(BaseModel):
    doc: DocEntityModel


# --------------------------------------------------------------------------- result elements


class ResultSheet(_Response):
    sheetId: str
    sheetNumber: str | None
    sheetName: str
    sheetDisplayName: str
    pageNumber: int
    drawingType: str
    discipline: str
    artifacts: list[ArtifactModel]


class ResultOutlineSection(BaseModel):
    sectionId: str
    sectionNumber: str
    title: str
    pageStart: int
    pageEnd: int
    outlineOnly: bool = Field(description="an outline-only heading (1.0): no section read")


class ResultSpecification(SpecificationEntityModel):
    sections: list[ResultOutlineSection] = Field(description="defined by the mock: the outline")


class ResultDoc(_Response):
    docId: str
    docType: str
    title: str
    status: str
    pageStart: int
    pageEnd: int
    artifacts: list[ArtifactModel]


class ResultEvidence(_Response):
    id: str
    type: Literal["region"]
    regionType: str
    text: str
    regionId: str
    sheetId: str
    documentId: str
    fileName: str
    pageNumber: int
    sheetNumber: str | None


class ResultWarningModel(BaseModel):
    code: str = Field(description="sheet_number_not_detected or section_incomplete (mock)")
    message: str
    documentId: str
    fileName: str
    pageNumber: int | None


class ResultDocument(BaseModel):
    documentId: str
    fileName: str
    classification: str
    contentType: str
    fileSize: int
    status: str
    pageCount: int
    successfulPageCount: int
    failedPageCount: int
    error: ResultJobError | None
    artifacts: list[ArtifactModel]
    sheets: list[ResultSheet]
    specifications: list[ResultSpecification] | None = Field(
        description="a list for specifications and mixed files, else null"
    )
    docs: list[ResultDoc] | None = Field(
        description="a list for documents, addenda and mixed files, else null"
    )


class ResultError(BaseModel):
    code: str = Field(description="page_failed or upload_failed")
    message: str
    documentId: str
    fileName: str
    pageNumber: int | None = Field(description="1-based within the document; null for a file")


class ResultResponse(BaseModel):
    schemaVersion: Literal["v1"]
    job: ResultJob
    usage: ResultUsage
    documents: list[ResultDocument]
    evidence: list[ResultEvidence]
    warnings: list[ResultWarningModel]
    errors: list[ResultError]
    generatedAt: str
