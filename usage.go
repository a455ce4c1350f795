package smartlic

import (
	"context"
	"time"
)

// UsageMark is the newest measurement the manager has seen of one license
// of one instance: a report that arrives late, with an older measurement,
// never sets the usage back.
type UsageMark struct {
	Tag           string    `json:"tag"`
	MeasuredUntil time.Time `json:"measured_until"`
	Count         int64     `json:"count"`
}

// UsageClaim is a report an ingestion accepts: its instance, its id and
// the hash of what the instance signed.
type UsageClaim struct {
	InstanceID, ReportID, Hash string
}

// ClaimResult says whether a UsageClaim recorded its report id, or else
// the hash of the report recorded under that id before.
type ClaimResult struct {
	Claimed   bool
	PriorHash string
}

// InstanceMark is a UsageMark of one instance.
type InstanceMark struct {
	InstanceID string
	UsageMark
}

// UsageChange is a change of one instance's usage lines: the lines it
// has in the store (read in the same write transaction, under its lock)
// and the lines it is to have.
type UsageChange struct {
	InstanceID    string
	Before, After []Usage
}

// UsageUpload is an offline usage file uploaded to a Smart Account and
// the ACK file it got.
type UsageUpload struct {
	ID             string       `json:"id"`
	SmartAccountID string       `json:"smart_account_id"`
	FileName       string       `json:"file_name"`
	UploadedBy     string       `json:"uploaded_by"`
	UploadedAt     time.Time    `json:"uploaded_at"`
	Summary        UsageSummary `json:"summary"`
	// Ack is the ACK file as JSON; only GetUsageUpload fills it.
	Ack []byte `json:"-"`
}

// UsageTx is the storage of Using Policy's reports.
type UsageTx interface {
	// ClaimUsageReports records, at at, that the instances' reports with
	// these ids (and hashes of what they signed) were accepted; the answer
	// has a result per claim, in order. A claim whose id was recorded
	// before, by an earlier transaction or an earlier claim of the list,
	// is not Claimed and carries the hash recorded then: the same hash is
	// a copy, another one a different report under a used id. It also
	// returns the marks of the claims' instances as UsageMarksOf would,
	// read with the claims (on PostgreSQL in the same round trip).
	ClaimUsageReports(ctx context.Context, claims []UsageClaim, at time.Time) ([]ClaimResult, map[string][]UsageMark, error)
	// UsageMarksOf returns the marks of the instances, by instance id.
	UsageMarksOf(ctx context.Context, instanceIDs []string) (map[string][]UsageMark, error)
	// SetUsageMarks inserts or replaces each instance's mark of its tag.
	SetUsageMarks(ctx context.Context, marks []InstanceMark) error
	// ChangeUsage writes the usage changes of many instances, touching only
	// the lines that differ: a line of After that Before lacks, or holds
	// with another tag, count or status, is written; a line of Before that
	// After lacks is deleted. A change whose lines are all the same writes
	// nothing, and is not checked.
	ChangeUsage(ctx context.Context, changes []UsageChange) error
	// UpdateReportingTimes writes the reporting times of many instances
	// (last contact, first use, last report, last ACK, last usage change)
	// and nothing else: UpdateReporting without hostname, key and trust.
	UpdateReportingTimes(ctx context.Context, insts []Instance) error
	// InsertUsageUpload records an upload with its ACK file.
	InsertUsageUpload(ctx context.Context, u UsageUpload) error
	// ListUsageUploads lists a Smart Account's uploads, oldest first,
	// without their ACK files.
	ListUsageUploads(ctx context.Context, saID string, p Page) ([]UsageUpload, error)
	// GetUsageUpload reads one upload with its ACK file.
	GetUsageUpload(ctx context.Context, id string) (UsageUpload, error)
}

// UsageService is Smart Licensing Using Policy as the API exposes it: the
// device side (trust, online reports, the move from registration) and the
// account side (offline usage files, trust files).
type UsageService interface {
	// RequestTrust answers a signed trust request with a signed trust code.
	RequestTrust(ctx context.Context, req Envelope) (Envelope, error)
	// ReportUsage ingests reports sent online and answers an ACK file.
	ReportUsage(ctx context.Context, f UsageFile) (AckFile, error)
	// MoveToPolicy moves a registered instance to Using Policy and
	// answers a trust code bound to its registered key.
	MoveToPolicy(ctx context.Context, req Envelope) (Envelope, error)

	// UploadUsageFile ingests an offline usage file (its raw bytes, as
	// uploaded) into a Smart Account and returns the ACK file.
	UploadUsageFile(ctx context.Context, sa, name string, data []byte) (AckFile, error)
	ListUsageUploads(ctx context.Context, sa string, p Page) ([]UsageUpload, string, error)
	// GetUsageUploadAck returns the ACK file of an earlier upload.
	GetUsageUploadAck(ctx context.Context, sa, id string) (AckFile, error)
	// GenerateTrustFile issues offline trust codes for UDIs in a VA.
	GenerateTrustFile(ctx context.Context, sa, va string, udis []UDI) (TrustFile, error)
}
