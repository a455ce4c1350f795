package wire

import (
	"fmt"

	"github.com/smartlic/smartlic"
)

// TrustFileRequest lists the UDIs of an offline trust file.
type TrustFileRequest struct {
	UDIs []string `json:"udis" minItems:"1" maxItems:"10000" doc:"UDIs as PID:SN"`
}

// Parse parses the UDIs.
func (r TrustFileRequest) Parse() ([]smartlic.UDI, error) {
	out := make([]smartlic.UDI, len(r.UDIs))
	for i, s := range r.UDIs {
		u, err := smartlic.ParseUDI(fmt.Sprintf("udis[%d]", i), s)
		if err != nil {
			return nil, err
		}
		out[i] = u
	}
	return out, nil
}
