package wire

import (
	"time"

	"github.com/smartlic/smartlic"
)

// ClassicSKURequest adds a classic SKU and its smart license equivalent to
// the catalogue.
type ClassicSKURequest struct {
	SKU         string `json:"sku" minLength:"1" maxLength:"64" doc:"Classic SKU, e.g. L-C3850-24-S-E"`
	Description string `json:"description,omitempty" maxLength:"2000"`
	License     string `json:"license,omitempty" doc:"Tag or id of the smart license type it converts to; absent when it has no smart equivalent"`
	Ratio       int64  `json:"ratio,omitempty" minimum:"0" maximum:"10000" doc:"Smart licenses per classic unit; defaults to 1"`
	TermDays    int    `json:"term_days,omitempty" minimum:"0" maximum:"3650" doc:"Term of the converted licenses when the license type is a subscription; required then, refused otherwise"`
}

// Input is the root form of the request.
func (r ClassicSKURequest) Input() smartlic.ClassicSKUInput {
	return smartlic.ClassicSKUInput{SKU: r.SKU, Description: r.Description, License: r.License, Ratio: r.Ratio, TermDays: r.TermDays}
}

// FromClassicSKUInput is the request body of in.
func FromClassicSKUInput(in smartlic.ClassicSKUInput) ClassicSKURequest {
	return ClassicSKURequest{SKU: in.SKU, Description: in.Description, License: in.License, Ratio: in.Ratio, TermDays: in.TermDays}
}

// PAKRequest deposits a PAK into a Smart Account.
type PAKRequest struct {
	Number      string           `json:"number" minLength:"1" maxLength:"64" doc:"PAK number, unique across the vendor"`
	OrderNumber string           `json:"order_number" minLength:"1" maxLength:"64"`
	Lines       []PAKLineRequest `json:"lines" minItems:"1" maxItems:"200"`
}

// PAKLineRequest is one SKU line of a PAK.
type PAKLineRequest struct {
	SKU       string               `json:"sku" minLength:"1" maxLength:"64"`
	Quantity  int64                `json:"quantity" minimum:"1" maximum:"1000000"`
	Fulfilled []FulfillmentRequest `json:"fulfilled,omitempty" maxItems:"1000" doc:"Devices units of this line are node-locked to"`
}

// FulfillmentRequest says Count units of a line are installed on a device.
type FulfillmentRequest struct {
	UDI   smartlic.UDI `json:"udi"`
	Count int64        `json:"count" minimum:"1" maximum:"1000000"`
}

// Input is the root form of the request.
func (r PAKRequest) Input() smartlic.PAKInput {
	in := smartlic.PAKInput{Number: r.Number, OrderNumber: r.OrderNumber}
	for _, l := range r.Lines {
		line := smartlic.PAKLineInput{SKU: l.SKU, Quantity: l.Quantity}
		for _, f := range l.Fulfilled {
			line.Fulfilled = append(line.Fulfilled, smartlic.FulfillmentInput{UDI: f.UDI, Count: f.Count})
		}
		in.Lines = append(in.Lines, line)
	}
	return in
}

// FromPAKInput is the request body of in.
func FromPAKInput(in smartlic.PAKInput) PAKRequest {
	r := PAKRequest{Number: in.Number, OrderNumber: in.OrderNumber, Lines: []PAKLineRequest{}}
	for _, l := range in.Lines {
		line := PAKLineRequest{SKU: l.SKU, Quantity: l.Quantity}
		for _, f := range l.Fulfilled {
			line.Fulfilled = append(line.Fulfilled, FulfillmentRequest{UDI: f.UDI, Count: f.Count})
		}
		r.Lines = append(r.Lines, line)
	}
	return r
}

// ConvertRequest converts a PAK, or part of it, into smart licenses.
type ConvertRequest struct {
	VA     string               `json:"va" minLength:"1" doc:"Id or name of the Virtual Account that receives the smart licenses"`
	Lines  []ConvertLineRequest `json:"lines,omitempty" maxItems:"200" doc:"Lines to convert; absent converts every unconverted unit"`
	EndsAt *time.Time           `json:"ends_at,omitempty" doc:"End of converted subscription licenses; defaults to the SKU's term from now"`
}

// ConvertLineRequest converts units of one line, named by number or SKU.
type ConvertLineRequest struct {
	Line     int    `json:"line,omitempty" minimum:"0" doc:"Line number (1, 2, …)"`
	SKU      string `json:"sku,omitempty" maxLength:"64" doc:"SKU of the line, instead of or besides its number"`
	Quantity int64  `json:"quantity,omitempty" minimum:"0" maximum:"1000000" doc:"Units to convert; 0 or absent converts all that remain"`
}

// Input is the root form of the request.
func (r ConvertRequest) Input() smartlic.ConvertInput {
	in := smartlic.ConvertInput{VA: r.VA, EndsAt: r.EndsAt}
	for _, l := range r.Lines {
		in.Lines = append(in.Lines, smartlic.ConvertLineInput{Line: l.Line, SKU: l.SKU, Quantity: l.Quantity})
	}
	return in
}

// FromConvertInput is the request body of in.
func FromConvertInput(in smartlic.ConvertInput) ConvertRequest {
	r := ConvertRequest{VA: in.VA, EndsAt: in.EndsAt}
	for _, l := range in.Lines {
		r.Lines = append(r.Lines, ConvertLineRequest{Line: l.Line, SKU: l.SKU, Quantity: l.Quantity})
	}
	return r
}
