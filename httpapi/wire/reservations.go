package wire

import "github.com/smartlic/smartlic"

// ReservationLicense is one license type and quantity to reserve.
type ReservationLicense struct {
	Tag      string `json:"tag" minLength:"1" maxLength:"64" doc:"License type tag"`
	Quantity int64  `json:"quantity" minimum:"1" maximum:"1000000000" doc:"Licenses to reserve"`
}

// ReservationRequest reserves licenses for a device's request code.
type ReservationRequest struct {
	VirtualAccount string               `json:"virtual_account,omitempty" maxLength:"100" doc:"Virtual Account id or name whose pool the licenses come from; DEFAULT when empty"`
	RequestCode    string               `json:"request_code" minLength:"1" maxLength:"1000" doc:"The device's request code (RQ1-…)"`
	Licenses       []ReservationLicense `json:"licenses,omitempty" maxItems:"20" doc:"License types and quantities (Specific License Reservation)"`
	Permanent      bool                 `json:"permanent,omitempty" doc:"Permanent License Reservation: every license the product supports, no expiry (needs the vendor's permission); licenses must be empty"`
}

// Input is the root form of the request.
func (r ReservationRequest) Input() smartlic.ReservationInput {
	return smartlic.ReservationInput{VirtualAccount: r.VirtualAccount, RequestCode: r.RequestCode, Licenses: licenseRequests(r.Licenses), Permanent: r.Permanent}
}

// FromReservationInput is the request body of in.
func FromReservationInput(in smartlic.ReservationInput) ReservationRequest {
	return ReservationRequest{VirtualAccount: in.VirtualAccount, RequestCode: in.RequestCode, Licenses: FromLicenseRequests(in.Licenses), Permanent: in.Permanent}
}

func licenseRequests(ls []ReservationLicense) []smartlic.LicenseRequest {
	out := make([]smartlic.LicenseRequest, len(ls))
	for i, l := range ls {
		out[i] = smartlic.LicenseRequest{Tag: l.Tag, Quantity: l.Quantity}
	}
	return out
}

// FromLicenseRequests is the wire form of ls.
func FromLicenseRequests(ls []smartlic.LicenseRequest) []ReservationLicense {
	out := make([]ReservationLicense, len(ls))
	for i, l := range ls {
		out[i] = ReservationLicense{Tag: l.Tag, Quantity: l.Quantity}
	}
	return out
}

// ReservationUpdate replaces a reservation's licenses.
type ReservationUpdate struct {
	Licenses []ReservationLicense `json:"licenses" minItems:"1" maxItems:"20" doc:"The new license types and quantities"`
}

// LicenseRequests is the root form of the update.
func (u ReservationUpdate) LicenseRequests() []smartlic.LicenseRequest {
	return licenseRequests(u.Licenses)
}

// ReservationCode carries a device's return or confirmation code.
type ReservationCode struct {
	Code string `json:"code" minLength:"1" maxLength:"1000" doc:"The device's return (RR1-…) or confirmation (RC1-…) code"`
}

// ReservationCancel closes a reservation without a return code.
type ReservationCancel struct {
	Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"Why, for the event log (the device is lost, say)"`
}
