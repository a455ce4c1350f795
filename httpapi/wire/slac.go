package wire

// SLACIssue issues a SLAC for a device's offline request code.
type SLACIssue struct {
	RequestCode    string `json:"request_code" minLength:"1" maxLength:"1000" doc:"The device's SLAC request code (SQ1-…)"`
	License        string `json:"license,omitempty" maxLength:"64" doc:"The export-controlled license tag; when given it must be the one the request code asks for"`
	VirtualAccount string `json:"virtual_account,omitempty" maxLength:"100" doc:"Virtual Account id or name whose license the SLAC holds; the device's own VA when it is registered in the Smart Account, else DEFAULT"`
}

// SLACReturnCode carries a device's SLAC return code.
type SLACReturnCode struct {
	Code string `json:"code" minLength:"1" maxLength:"1000" doc:"The device's SLAC return code (SR1-…)"`
}

// SLACCancel closes a SLAC without the device's return.
type SLACCancel struct {
	Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"Why, for the event log (the device is lost or destroyed, say)"`
}
