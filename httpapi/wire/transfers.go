package wire

import (
	"time"

	"github.com/smartlic/smartlic"
)

// TransferRequest moves licenses (license and quantity) or product
// instances (instances) between two Virtual Accounts of a Smart Account.
type TransferRequest struct {
	From      string   `json:"from" minLength:"1" maxLength:"100" doc:"Source Virtual Account id or name"`
	To        string   `json:"to" minLength:"1" maxLength:"100" doc:"Destination Virtual Account id or name"`
	License   string   `json:"license,omitempty" maxLength:"64" doc:"License type tag or id, for a license transfer"`
	Quantity  int64    `json:"quantity,omitempty" minimum:"0" maximum:"1000000000" doc:"Licenses to move, for a license transfer"`
	Deposit   string   `json:"deposit,omitempty" maxLength:"100" doc:"Take the licenses from this deposit (lot) only; by default the lots ending first go first"`
	Instances []string `json:"instances,omitempty" maxItems:"1000" doc:"Instance ids or UDIs (PID:SN), for an instance transfer"`
}

// Input is the root form of the request.
func (r TransferRequest) Input() smartlic.TransferInput {
	return smartlic.TransferInput{From: r.From, To: r.To, License: r.License, Quantity: r.Quantity, Deposit: r.Deposit, Instances: r.Instances}
}

// FromTransferInput is the request body of in.
func FromTransferInput(in smartlic.TransferInput) TransferRequest {
	return TransferRequest{From: in.From, To: in.To, License: in.License, Quantity: in.Quantity, Deposit: in.Deposit, Instances: in.Instances}
}

// AgreementLineRequest is one license type of an agreement's suite.
type AgreementLineRequest struct {
	License  string `json:"license" minLength:"1" maxLength:"64" doc:"License type tag"`
	Quantity int64  `json:"quantity" minimum:"1" maximum:"1000000000"`
}

// AgreementRequest deposits an Enterprise Agreement into a Virtual Account.
type AgreementRequest struct {
	Number   string                 `json:"number" minLength:"1" maxLength:"64" doc:"Agreement number, unique in the Smart Account"`
	StartsAt *time.Time             `json:"starts_at,omitempty" doc:"Start of the term; defaults to now"`
	EndsAt   time.Time              `json:"ends_at" doc:"End of the term"`
	Lines    []AgreementLineRequest `json:"lines" minItems:"1" maxItems:"100" doc:"The suite: license types and purchased counts"`
}

// Input is the root form of the request.
func (r AgreementRequest) Input() smartlic.AgreementInput {
	in := smartlic.AgreementInput{Number: r.Number, StartsAt: r.StartsAt, EndsAt: r.EndsAt}
	for _, l := range r.Lines {
		in.Lines = append(in.Lines, smartlic.AgreementLine{LicenseTag: l.License, Quantity: l.Quantity})
	}
	return in
}

// FromAgreementInput is the request body of in.
func FromAgreementInput(in smartlic.AgreementInput) AgreementRequest {
	r := AgreementRequest{Number: in.Number, StartsAt: in.StartsAt, EndsAt: in.EndsAt, Lines: []AgreementLineRequest{}}
	for _, l := range in.Lines {
		r.Lines = append(r.Lines, AgreementLineRequest{License: l.LicenseTag, Quantity: l.Quantity})
	}
	return r
}
