package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

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

// TestUsageFileOddBytes uploads usage files as the device saved them
// (application/octet-stream, which the request body's text check leaves to
// the file's parser): a report whose kid hides a right-to-left override or
// a NUL is rejected naming kid, and nothing of it reaches the stored ACK
// file; a file that is not UTF-8 or not a usage file is refused whole.
func TestUsageFileOddBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.account("acme.example")
	sig := base64.StdEncoding.EncodeToString(make([]byte, 64))
	upload := func(body string) answer {
		return e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/usage-files?name=odd.json", body: body, contentType: "application/octet-stream"})
	}
	for _, kid := range []string{"abc\u202egpj.exe", "abc\u0000def", "zero\u200bwidth"} {
		quoted, _ := json.Marshal(kid)
		a := upload(fmt.Sprintf(`{"type":"smartlic.usage-file/v1","reports":[{"type":"smartlic.rum-report/v1","kid":%s,"payload":"e30=","sig":%q}]}`, quoted, sig))
		if strings.Contains(kid, "\u0000") {
			wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "reports[0].kid") // not text: the file is refused
		} else {
			wantError(t, a, http.StatusForbidden, smartlic.EWrongAccount, "file") // the report is refused, and then nothing in it is this account's
		}
		if strings.Contains(string(a.body), kid) {
			t.Errorf("kid %q is echoed: %s", kid, a.body)
		}
	}
	wantError(t, upload("{\"type\":\"smartlic.usage-file/v1\",\"reports\":[{\"kid\":\"\xff\"}]}"), http.StatusBadRequest, smartlic.EInvalid, "reports[0].kid")
	wantError(t, upload(`{"type":"smartlic.usage-file/v1","reports":[{"kid":"a\u0000b"}]}`), http.StatusBadRequest, smartlic.EInvalid, "reports[0].kid")
	wantError(t, upload(`{"type":"smartlic.usage-file/v1","reports":[{"sig":"not base64!"}]}`), http.StatusBadRequest, smartlic.EInvalid, "reports[0].sig")
	wantError(t, upload(`{"type":"smartlic.usage-file/v1","reports":[`), http.StatusBadRequest, smartlic.EInvalid, "file")
	wantError(t, upload(`{"type":"smartlic.trust-file/v1","trust_codes":[]}`), http.StatusBadRequest, smartlic.EInvalid, "type")
	if list := e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/usage-files"}); strings.Contains(string(list.body), "odd.json") {
		t.Errorf("a refused file was recorded: %s", list.body)
	}
}
