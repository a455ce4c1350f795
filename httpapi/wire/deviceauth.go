package wire

// DeviceAuthRequest starts a device sign-in (smartlic login --web).
type DeviceAuthRequest struct {
	Name string `json:"name" maxLength:"200" doc:"Name of the personal API key the device asks for, e.g. \"cli on laptop\""`
}

// DeviceTokenRequest is a device's poll for its key (RFC 8628 §3.4).
type DeviceTokenRequest struct {
	DeviceCode string `json:"device_code" maxLength:"200" doc:"The device_code of the start answer"`
}
