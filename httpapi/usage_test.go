package httpapi_test

import (
	"encoding/base64"
	"fmt"

	"github.com/smartlic/smartlic"
)

// usageFileUpload is a request uploading a usage file with one report of
// the matrix's (classic) instance: the upload succeeds, the report is
// rejected (the instance is not under policy).
func (m *matrix) usageFileUpload() request {
	m.t.Helper()
	body := m.usageFileBody()
	return request{method: "POST", path: "/api/v1/accounts/acme.example/usage-files?name=matrix.json", body: body}
}

func (m *matrix) usageFileBody() string {
	m.t.Helper()
	inst := ok[smartlic.Instance](m.t)(m.e.mgr.GetInstance(m.op, "acme.example", "Engineering", m.instance))
	sig := base64.StdEncoding.EncodeToString(make([]byte, 64))
	return fmt.Sprintf(`{"type":"smartlic.usage-file/v1","reports":[{"type":"smartlic.rum-report/v1","kid":%q,"payload":"e30=","sig":%q}]}`, inst.ID, sig)
}

// usageUpload uploads a usage file through the manager and returns its id.
func (m *matrix) usageUpload() string {
	m.t.Helper()
	file := ok[smartlic.AckFile](m.t)(m.e.mgr.UploadUsageFile(m.op, "acme.example", "matrix.json", []byte(m.usageFileBody())))
	return file.UploadID
}
