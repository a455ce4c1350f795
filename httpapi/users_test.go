package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// The roles of the matrix. Each non-operator role is a user holding one
// role in acme.example (VA roles on Engineering); "other" administers
// another Smart Account and must get nowhere in acme.example.
const (
	rOperator = "operator"
	rApprover = "sa_approver"
	rSAAdmin  = "sa_admin"
	rSAUser   = "sa_user"
	rVAAdmin  = "va_admin"
	rVAUser   = "va_user"
	rOther    = "other_sa_admin"
)

var matrixRoles = []string{rOperator, rApprover, rSAAdmin, rSAUser, rVAAdmin, rVAUser, rOther}

// Who may do what, as sets.
var (
	everyone     = matrixRoles
	anyUser      = []string{rApprover, rSAAdmin, rSAUser, rVAAdmin, rVAUser, rOther}
	inAccount    = []string{rOperator, rApprover, rSAAdmin, rSAUser, rVAAdmin, rVAUser}
	licensing    = []string{rOperator, rSAAdmin, rSAUser, rVAAdmin, rVAUser} // on a VA the VA roles hold
	licensingSA  = []string{rOperator, rSAAdmin, rSAUser}                    // the account as a whole
	vaManagers   = []string{rOperator, rSAAdmin, rVAAdmin}
	usersViewers = []string{rOperator, rApprover, rSAAdmin}
	usersAnyView = []string{rOperator, rApprover, rSAAdmin, rVAAdmin}
	saEditors    = []string{rOperator, rApprover, rSAAdmin}
	saAdmins     = []string{rOperator, rSAAdmin}
	// agreementReaders see the licenses of the agreement's VA, or accept
	// agreements for the account (the approver reads what it accepts).
	agreementReaders = []string{rOperator, rApprover, rSAAdmin, rSAUser, rVAAdmin, rVAUser}
	operatorOnly     = []string{rOperator}
)

// matrixCase is one operation of the API: the roles that may call it, and
// a well-formed request in scope (on acme.example, VA roles' VA) made
// fresh for each role, so that one role's success does not change what
// the next role meets.
type matrixCase struct {
	allow  []string
	public bool // takes no credentials: not subject to roles
	req    func(m *matrix, role string) request
}

// roleMatrix is the expected table, keyed by operationId. An operation of
// the OpenAPI document missing here fails TestRoleMatrix.
var roleMatrix = map[string]matrixCase{
	"health":             {public: true},
	"device-keys":        {public: true},
	"device-register":    {public: true},
	"device-authorize":   {public: true},
	"device-renew":       {public: true},
	"device-deregister":  {public: true},
	"device-convert":     {public: true},
	"device-slac":        {public: true},
	"device-slac-return": {public: true},
	"device-trust":       {public: true},
	"device-policy-mode": {public: true},
	"device-usage":       {public: true},
	// Using Policy's files (routes_usage.go; helpers in usage_test.go).
	"upload-usage-file": {allow: licensingSA, req: func(m *matrix, _ string) request { return m.usageFileUpload() }},
	"list-usage-files":  {allow: licensingSA, req: fixed("GET", "/api/v1/accounts/acme.example/usage-files", "")},
	"get-usage-file-ack": {allow: licensingSA, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: "/api/v1/accounts/acme.example/usage-files/" + m.usageUpload() + "/ack"}
	}},
	"generate-trust-file": {allow: licensing, req: func(m *matrix, _ string) request {
		return m.post(vaPath("Engineering")+"/trust-files", `{"udis":["C9300-24T:TRUST%05d"]}`, m.n())
	}},
	"login": {public: true},
	// The device sign-in's codes are its credentials (routes_deviceauth.go).
	"start-device-authorization": {public: true},
	"poll-device-authorization":  {public: true},
	"logout":                     {public: true},
	"oauth-token":                {public: true},

	// Catalogue: the vendor's to change, everyone's to read.
	"list-license-types": {allow: everyone, req: fixed("GET", "/api/v1/catalog/license-types", "")},
	"get-license-type":   {allow: everyone, req: fixed("GET", "/api/v1/catalog/license-types/network-advantage", "")},
	"create-license-type": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return m.post("/api/v1/catalog/license-types", `{"tag":"lt-%d","name":"LT","term":"perpetual","enforcement":"unenforced"}`, m.n())
	}},
	"delete-license-type": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return request{method: "DELETE", path: "/api/v1/catalog/license-types/" + m.freshLicenseType()}
	}},
	"list-products": {allow: everyone, req: fixed("GET", "/api/v1/catalog/products", "")},
	"get-product":   {allow: everyone, req: fixed("GET", "/api/v1/catalog/products/C9300-24T", "")},
	"create-product": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return m.post("/api/v1/catalog/products", `{"pid":"P-%d","name":"P"}`, m.n())
	}},
	"update-product": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return m.send("PATCH", "/api/v1/catalog/products/"+m.freshProduct(), `{"name":"Renamed"}`)
	}},
	"delete-product": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return request{method: "DELETE", path: "/api/v1/catalog/products/" + m.freshProduct()}
	}},
	"list-classic-skus": {allow: everyone, req: fixed("GET", "/api/v1/catalog/classic-skus", "")},
	"get-classic-sku":   {allow: everyone, req: fixed("GET", "/api/v1/catalog/classic-skus/L-NA-1", "")},
	"create-classic-sku": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return m.post("/api/v1/catalog/classic-skus", `{"sku":"L-%d","license":"network-advantage"}`, m.n())
	}},
	"delete-classic-sku": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return request{method: "DELETE", path: "/api/v1/catalog/classic-skus/" + m.freshSKU()}
	}},

	// Smart Accounts.
	"list-smart-accounts": {allow: everyone, req: fixed("GET", "/api/v1/accounts", "")},
	"create-smart-account": {allow: everyone, req: func(m *matrix, _ string) request {
		return m.post("/api/v1/accounts", `{"name":"New","domain":"new-%d.example"}`, m.n())
	}},
	"get-smart-account":    {allow: inAccount, req: fixed("GET", "/api/v1/accounts/acme.example", "")},
	"update-smart-account": {allow: saEditors, req: fixed("PATCH", "/api/v1/accounts/acme.example", `{"name":"Acme Corp"}`)},
	"approve-smart-account": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return request{method: "POST", path: "/api/v1/accounts/" + m.freshRequestedAccount() + "/approve"}
	}},
	"deny-smart-account": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return m.post("/api/v1/accounts/"+m.freshRequestedAccount()+"/deny", `{"reason":"attempt %d"}`, m.n())
	}},
	"list-account-licenses":      {allow: licensingSA, req: fixed("GET", "/api/v1/accounts/acme.example/licenses", "")},
	"summarize-account-licenses": {allow: licensingSA, req: fixed("GET", "/api/v1/accounts/acme.example/licenses/summary", "")},

	// Virtual Accounts, in the VA roles' subtree.
	"list-virtual-accounts": {allow: inAccount, req: fixed("GET", "/api/v1/accounts/acme.example/virtual-accounts", "")},
	"create-virtual-account": {allow: vaManagers, req: func(m *matrix, _ string) request {
		return m.post(vaPath(""), `{"name":"VA %d","parent":"Engineering"}`, m.n())
	}},
	"get-virtual-account": {allow: inAccount, req: fixed("GET", vaPath("Engineering"), "")},
	"update-virtual-account": {allow: vaManagers, req: func(m *matrix, _ string) request {
		return m.send("PATCH", vaPath(m.freshVA()), `{"description":"changed"}`)
	}},
	"delete-virtual-account": {allow: vaManagers, req: func(m *matrix, _ string) request { return request{method: "DELETE", path: vaPath(m.freshVA())} }},

	// Licensing in a VA.
	"list-deposits":      {allow: licensing, req: fixed("GET", vaPath("Engineering")+"/deposits", "")},
	"create-deposit":     {allow: operatorOnly, req: fixed("POST", vaPath("Engineering")+"/deposits", `{"order_number":"O-2","license":"network-advantage","quantity":1}`)},
	"list-licenses":      {allow: licensing, req: fixed("GET", vaPath("Engineering")+"/licenses?rollup=true", "")},
	"summarize-licenses": {allow: licensing, req: fixed("GET", vaPath("Engineering")+"/licenses/summary?rollup=true", "")},
	"list-tokens":        {allow: licensing, req: fixed("GET", vaPath("Engineering")+"/tokens", "")},
	"create-token":       {allow: licensing, req: fixed("POST", vaPath("Engineering")+"/tokens", `{"description":"matrix","expires_in_days":7}`)},
	"get-token": {allow: licensing, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: vaPath("Engineering") + "/tokens/" + m.token}
	}},
	"revoke-token": {allow: licensing, req: func(m *matrix, _ string) request {
		return request{method: "POST", path: vaPath("Engineering") + "/tokens/" + m.freshToken() + "/revoke"}
	}},
	"get-account-token": {allow: licensing, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: "/api/v1/accounts/acme.example/tokens/" + m.token}
	}},
	"revoke-account-token": {allow: licensing, req: func(m *matrix, _ string) request {
		return request{method: "POST", path: "/api/v1/accounts/acme.example/tokens/" + m.freshToken() + "/revoke"}
	}},
	"list-instances": {allow: licensing, req: fixed("GET", vaPath("Engineering")+"/instances", "")},
	"get-instance": {allow: licensing, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: vaPath("Engineering") + "/instances/" + m.instance}
	}},
	"remove-instance": {allow: licensing, req: func(m *matrix, _ string) request {
		return request{method: "DELETE", path: vaPath("Engineering") + "/instances/" + m.freshInstance()}
	}},
	"get-account-instance": {allow: licensing, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: "/api/v1/accounts/acme.example/instances/" + m.instance}
	}},
	"remove-account-instance": {allow: licensing, req: func(m *matrix, _ string) request {
		return request{method: "DELETE", path: "/api/v1/accounts/acme.example/instances/" + m.freshInstance()}
	}},

	// Transfers and agreements.
	"create-transfer": {allow: licensing, req: fixed("POST", "/api/v1/accounts/acme.example/transfers", `{"from":"Engineering","to":"Lab","license":"network-advantage","quantity":1}`)},
	"list-transfers":  {allow: licensingSA, req: fixed("GET", "/api/v1/accounts/acme.example/transfers", "")},
	"create-agreement": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return m.post(vaPath("Engineering")+"/agreements", `{"number":"EA-%d","ends_at":"2027-01-05T00:00:00Z","lines":[{"license":"network-advantage","quantity":5}]}`, m.n())
	}},
	"list-agreements": {allow: agreementReaders, req: fixed("GET", vaPath("Engineering")+"/agreements", "")},
	"accept-agreement": {allow: saEditors, req: func(m *matrix, _ string) request {
		return request{method: "POST", path: "/api/v1/accounts/acme.example/agreements/" + m.freshAgreement() + "/accept"}
	}},
	"agreement-true-forward": {allow: agreementReaders, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: "/api/v1/accounts/acme.example/agreements/" + m.agreement + "/true-forward"}
	}},

	// Reporting policies (Using Policy): SA and VA administrators set them
	// on their scope; readers of the scope read them; the default is the
	// operator's to change and everyone's to read.
	"list-policies":      {allow: licensing, req: fixed("GET", "/api/v1/accounts/acme.example/policies", "")},
	"get-account-policy": {allow: licensingSA, req: func(m *matrix, _ string) request { m.accountPolicy(); return fixed("GET", policyPath(""), "")(m, "") }},
	"set-account-policy": {allow: saAdmins, req: fixed("PUT", policyPath(""), matrixPolicy)},
	"delete-account-policy": {allow: saAdmins, req: func(m *matrix, _ string) request {
		m.accountPolicy()
		return request{method: "DELETE", path: policyPath("")}
	}},
	"account-policy-history": {allow: licensingSA, req: fixed("GET", policyPath("")+"/history", "")},
	"get-va-policy": {allow: licensing, req: func(m *matrix, _ string) request {
		m.vaPolicy("Engineering")
		return request{method: "GET", path: policyPath("Engineering")}
	}},
	"set-va-policy": {allow: vaManagers, req: fixed("PUT", policyPath("Engineering"), matrixPolicy)},
	"delete-va-policy": {allow: vaManagers, req: func(m *matrix, _ string) request {
		va := m.freshVA()
		m.vaPolicy(va)
		return request{method: "DELETE", path: policyPath(va)}
	}},
	"va-policy-history":      {allow: licensing, req: fixed("GET", policyPath("Engineering")+"/history", "")},
	"get-effective-policy":   {allow: licensing, req: fixed("GET", vaPath("Engineering")+"/policy", "")},
	"get-default-policy":     {allow: everyone, req: fixed("GET", "/api/v1/policies/default", "")},
	"set-default-policy":     {allow: operatorOnly, req: fixed("PUT", "/api/v1/policies/default", matrixPolicy)},
	"reset-default-policy":   {allow: operatorOnly, req: fixed("DELETE", "/api/v1/policies/default", "")},
	"default-policy-history": {allow: everyone, req: fixed("GET", "/api/v1/policies/default/history", "")},

	// Reports and alerts, asked for the VA roles' VA.
	"report-usage":     {allow: licensing, req: fixed("GET", "/api/v1/accounts/acme.example/reports/usage?va=Engineering", "")},
	"report-true-up":   {allow: licensing, req: fixed("GET", "/api/v1/accounts/acme.example/reports/true-up?va=Engineering&from=2026-01-01&to=2026-01-05", "")},
	"report-expiring":  {allow: licensing, req: fixed("GET", "/api/v1/accounts/acme.example/reports/expiring?va=Engineering", "")},
	"report-instances": {allow: licensing, req: fixed("GET", "/api/v1/accounts/acme.example/reports/instances?va=Engineering", "")},
	"search":           {allow: licensing, req: fixed("GET", "/api/v1/search?sa=acme.example&va=Engineering&kind=instances", "")},
	"list-alerts":      {allow: licensing, req: fixed("GET", "/api/v1/accounts/acme.example/alerts?va=Engineering", "")},
	"license-history":  {allow: licensing, req: fixed("GET", "/api/v1/accounts/acme.example/licenses/network-advantage/history?va=Engineering", "")},

	// Notifications of the account.
	"list-notification-preferences": {allow: saAdmins, req: fixed("GET", "/api/v1/accounts/acme.example/notification-preferences", "")},
	"set-notification-preference":   {allow: saAdmins, req: fixed("PUT", "/api/v1/accounts/acme.example/notification-preferences/alerts@acme.example", `{"frequency":"daily"}`)},
	"delete-notification-preference": {allow: saAdmins, req: func(m *matrix, _ string) request {
		return request{method: "DELETE", path: "/api/v1/accounts/acme.example/notification-preferences/" + m.freshPreference()}
	}},
	"list-webhooks":  {allow: saAdmins, req: fixed("GET", "/api/v1/accounts/acme.example/webhooks", "")},
	"create-webhook": {allow: saAdmins, req: fixed("POST", "/api/v1/accounts/acme.example/webhooks", `{"url":"https://hooks.acme.example/x"}`)},
	"delete-webhook": {allow: saAdmins, req: func(m *matrix, _ string) request {
		return request{method: "DELETE", path: "/api/v1/accounts/acme.example/webhooks/" + m.freshWebhook()}
	}},
	"list-webhook-deliveries": {allow: saAdmins, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: "/api/v1/accounts/acme.example/webhooks/" + m.webhook + "/deliveries"}
	}},

	// PAKs: deposited by the vendor, seen account-wide, converted into a VA.
	"deposit-pak": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return m.post("/api/v1/accounts/acme.example/paks", `{"number":"PAK-M-%d","order_number":"O-1","lines":[{"sku":"L-NA-1","quantity":1}]}`, m.n())
	}},
	"list-paks": {allow: licensingSA, req: fixed("GET", "/api/v1/accounts/acme.example/paks", "")},
	"get-pak": {allow: licensingSA, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: "/api/v1/accounts/acme.example/paks/" + m.pak}
	}},
	"list-pak-conversions": {allow: licensingSA, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: "/api/v1/accounts/acme.example/paks/" + m.pak + "/conversions"}
	}},
	"convert-pak": {allow: licensing, req: func(m *matrix, _ string) request {
		return m.send("POST", "/api/v1/accounts/acme.example/paks/"+m.freshPAK()+"/convert", `{"va":"Engineering"}`)
	}},

	// Export control: the vendor decides, the account's members see it;
	// SLACs are licensing of the VA they were issued from.
	"get-export-control":   {allow: inAccount, req: fixed("GET", "/api/v1/accounts/acme.example/export-control", "")},
	"set-export-control":   {allow: operatorOnly, req: fixed("PATCH", "/api/v1/accounts/acme.example/export-control", `{"allowed":true}`)},
	"list-export-controls": {allow: operatorOnly, req: fixed("GET", "/api/v1/export-controls", "")},
	"list-slacs":           {allow: licensing, req: fixed("GET", "/api/v1/accounts/acme.example/slacs?va=Engineering", "")},
	"get-slac": {allow: licensing, req: func(m *matrix, _ string) request {
		return request{method: "GET", path: "/api/v1/accounts/acme.example/slacs/" + m.theSLAC()}
	}},

	// Events: the account's log for those who may view it, the vendor's
	// chains for the operator.
	"list-events":       {allow: saEditors, req: fixed("GET", "/api/v1/accounts/acme.example/events", "")},
	"export-events":     {allow: saEditors, req: fixed("GET", "/api/v1/accounts/acme.example/events/export", "")},
	"verify-events":     {allow: saEditors, req: fixed("GET", "/api/v1/accounts/acme.example/events/verify", "")},
	"verify-all-events": {allow: operatorOnly, req: fixed("GET", "/api/v1/events/verify", "")},
	"event-heads":       {allow: saEditors, req: fixed("GET", "/api/v1/accounts/acme.example/events/head", "")},
	"all-event-heads":   {allow: operatorOnly, req: fixed("GET", "/api/v1/events/head", "")},
	"verify-events-against": {allow: saEditors, req: func(m *matrix, _ string) request {
		return m.send("POST", "/api/v1/accounts/acme.example/events/verify", m.eventHeads("acme.example"))
	}},
	"verify-all-events-against": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return m.send("POST", "/api/v1/events/verify", m.eventHeads(""))
	}},

	// Users and roles.
	"create-user": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return m.post("/api/v1/users", `{"email":"new-%d@acme.example","name":"New","password":"a long enough password"}`, m.n())
	}},
	"list-users": {allow: operatorOnly, req: fixed("GET", "/api/v1/users", "")},
	"get-user":   {allow: usersAnyView, req: fixed("GET", "/api/v1/users/member@acme.example", "")},
	"disable-user": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return request{method: "POST", path: "/api/v1/users/" + m.freshUser() + "/disable"}
	}},
	"whoami":     {allow: everyone, req: fixed("GET", "/api/v1/me", "")},
	"list-roles": {allow: usersViewers, req: fixed("GET", "/api/v1/accounts/acme.example/roles", "")},
	"grant-role": {allow: vaManagers, req: func(m *matrix, _ string) request {
		return m.post("/api/v1/accounts/acme.example/roles", `{"user":"%s","role":"va_user","va":"Lab"}`, m.freshMember())
	}},
	"invite-user": {allow: vaManagers, req: func(m *matrix, _ string) request {
		return m.post("/api/v1/accounts/acme.example/invitations", `{"email":"invited-%d@acme.example","role":"va_user","va":"Lab"}`, m.n())
	}},
	"list-invitations": {allow: usersAnyView, req: fixed("GET", "/api/v1/accounts/acme.example/invitations", "")},
	"revoke-invitation": {allow: vaManagers, req: func(m *matrix, _ string) request {
		return request{method: "POST", path: "/api/v1/accounts/acme.example/invitations/" + m.freshInvitation() + "/revoke"}
	}},
	"accept-invitation": {public: true},
	"revoke-role": {allow: vaManagers, req: func(m *matrix, _ string) request {
		return request{method: "DELETE", path: "/api/v1/accounts/acme.example/roles/" + m.freshRole()}
	}},
	"request-access":       {allow: anyUser, req: fixed("POST", "/api/v1/accounts/acme.example/access-requests", `{"message":"let me in"}`)},
	"list-access-requests": {allow: usersAnyView, req: fixed("GET", "/api/v1/accounts/acme.example/access-requests", "")},
	"approve-access-request": {allow: vaManagers, req: func(m *matrix, _ string) request {
		return m.send("POST", "/api/v1/accounts/acme.example/access-requests/"+m.freshAccessRequest()+"/approve", `{"role":"va_user","va":"Engineering"}`)
	}},
	"deny-access-request": {allow: vaManagers, req: func(m *matrix, _ string) request {
		return request{method: "POST", path: "/api/v1/accounts/acme.example/access-requests/" + m.freshAccessRequest() + "/deny"}
	}},

	// Personal API keys belong to users.
	"create-api-key": {allow: anyUser, req: fixed("POST", "/api/v1/me/api-keys", `{"name":"matrix"}`)},
	"list-api-keys":  {allow: anyUser, req: fixed("GET", "/api/v1/me/api-keys", "")},
	"revoke-api-key": {allow: everyone, req: func(m *matrix, role string) request {
		return request{method: "POST", path: "/api/v1/me/api-keys/" + m.freshKey(role) + "/revoke"}
	}},

	// Single sign-on bindings belong to users too.
	"list-identities": {allow: anyUser, req: fixed("GET", "/api/v1/me/identities", "")},
	"unlink-identity": {allow: anyUser, req: func(m *matrix, role string) request {
		return request{method: "DELETE", path: "/api/v1/me/identities/" + m.freshIdentity(role)}
	}},

	// OAuth clients.
	"create-vendor-oauth-client": {allow: operatorOnly, req: fixed("POST", "/api/v1/oauth-clients", `{"name":"billing"}`)},
	"list-vendor-oauth-clients":  {allow: operatorOnly, req: fixed("GET", "/api/v1/oauth-clients", "")},
	"revoke-vendor-oauth-client": {allow: operatorOnly, req: func(m *matrix, _ string) request {
		return request{method: "POST", path: "/api/v1/oauth-clients/" + m.freshClient("") + "/revoke"}
	}},
	"create-oauth-client": {allow: saAdmins, req: fixed("POST", "/api/v1/accounts/acme.example/oauth-clients", `{"name":"erp","scopes":["read"]}`)},
	"list-oauth-clients":  {allow: usersViewers, req: fixed("GET", "/api/v1/accounts/acme.example/oauth-clients", "")},
	"revoke-oauth-client": {allow: saAdmins, req: func(m *matrix, _ string) request {
		return request{method: "POST", path: "/api/v1/accounts/acme.example/oauth-clients/" + m.freshClient("acme.example") + "/revoke"}
	}},
}

func fixed(method, path, body string) func(*matrix, string) request {
	return func(*matrix, string) request { return request{method: method, path: path, body: body} }
}

func vaPath(va string) string {
	p := "/api/v1/accounts/acme.example/virtual-accounts"
	if va != "" {
		p += "/" + url.PathEscape(va)
	}
	return p
}

// matrix is the world the role matrix runs in.
type matrix struct {
	t    *testing.T
	e    *env
	op   context.Context // the operator, for setting things up through the manager
	keys map[string]string
	seq  int

	token, instance, agreement, webhook, pak string
	slac                                     string // made on first use (slac_test.go)
}

func (m *matrix) n() int { m.seq++; return m.seq }

func (m *matrix) post(path, format string, args ...any) request {
	return m.send("POST", path, fmt.Sprintf(format, args...))
}

func (m *matrix) send(method, path, body string) request {
	return request{method: method, path: path, body: body}
}

func ok[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

const matrixPassword = "a long enough password"

// userKey creates a user, grants it roles in sa, and returns a personal
// API key acting as it, made the way a user makes one: signed in.
func (m *matrix) userKey(email, sa string, roles ...smartlic.RoleInput) string {
	m.t.Helper()
	ok[smartlic.User](m.t)(m.e.mgr.CreateUser(m.op, smartlic.UserInput{Email: email, Name: email, Password: matrixPassword}))
	for _, r := range roles {
		r.User = email
		ok[smartlic.RoleAssignment](m.t)(m.e.mgr.GrantRole(m.op, sa, r))
	}
	return ok[smartlic.UserAPIKey](m.t)(m.e.mgr.CreateAPIKey(m.signIn(email), smartlic.APIKeyInput{Name: "matrix"})).Secret
}

func (m *matrix) signIn(email string) context.Context {
	m.t.Helper()
	l := ok[smartlic.Login](m.t)(m.e.mgr.Login(context.Background(), email, matrixPassword))
	a, _, err := m.e.mgr.AuthenticateSession(context.Background(), l.Secret)
	if err != nil {
		m.t.Fatal(err)
	}
	return smartlic.WithActor(context.Background(), a)
}

func newMatrix(t *testing.T) *matrix { return newMatrixOn(t, storetest.OpenSQLite) }

func newMatrixOn(t *testing.T, open func(*testing.T) *store.DB) *matrix {
	e := newEnvOn(t, open)
	m := &matrix{t: t, e: e, keys: map[string]string{rOperator: e.key}}
	m.op = smartlic.WithActor(context.Background(), ok[smartlic.Actor](t)(e.mgr.Authenticate(context.Background(), e.key)))
	mgr, op := e.mgr, m.op
	ok[smartlic.LicenseType](t)(mgr.CreateLicenseType(op, smartlic.LicenseType{Tag: "network-advantage", Name: "Network Advantage", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
	ok[smartlic.Product](t)(mgr.CreateProduct(op, smartlic.Product{PID: "C9300-24T", Name: "Catalyst", LicenseTypes: []string{"network-advantage"}}))
	ok[smartlic.ClassicSKU](t)(mgr.CreateClassicSKU(op, smartlic.ClassicSKUInput{SKU: "L-NA-1", License: "network-advantage"}))
	for _, d := range []string{"acme.example", "other.example"} {
		ok[smartlic.SmartAccount](t)(mgr.CreateSmartAccount(op, smartlic.SmartAccount{Name: d, Domain: d, Status: smartlic.SAActive}))
	}
	ok[smartlic.VirtualAccount](t)(mgr.CreateVirtualAccount(op, "acme.example", smartlic.VirtualAccountInput{Name: "Engineering"}))
	ok[smartlic.VirtualAccount](t)(mgr.CreateVirtualAccount(op, "acme.example", smartlic.VirtualAccountInput{Name: "Lab", Parent: "Engineering"}))
	ok[smartlic.VirtualAccount](t)(mgr.CreateVirtualAccount(op, "acme.example", smartlic.VirtualAccountInput{Name: "Sales"}))
	ok[smartlic.Deposit](t)(mgr.CreateDeposit(op, "acme.example", "Engineering", smartlic.DepositInput{OrderNumber: "O-1", License: "network-advantage", Quantity: 1000}))
	m.token = ok[smartlic.Token](t)(mgr.CreateToken(op, "acme.example", "Engineering", smartlic.TokenInput{Description: "fixture", ExpiresInDays: 30})).ID
	m.instance = m.freshInstance()
	m.agreement = ok[smartlic.Agreement](t)(mgr.CreateAgreement(op, "acme.example", "Engineering", smartlic.AgreementInput{
		Number: "EA-1", EndsAt: epoch.AddDate(1, 0, 0), Lines: []smartlic.AgreementLine{{LicenseTag: "network-advantage", Quantity: 5}}})).ID
	m.webhook = m.freshWebhook()
	m.pak = m.freshPAK()

	role := func(r, va string) smartlic.RoleInput { return smartlic.RoleInput{Role: r, VA: va} }
	m.keys[rApprover] = m.userKey("approver@acme.example", "acme.example", role(smartlic.RoleSAApprover, ""))
	m.keys[rSAAdmin] = m.userKey("admin@acme.example", "acme.example", role(smartlic.RoleSAAdmin, ""))
	m.keys[rSAUser] = m.userKey("user@acme.example", "acme.example", role(smartlic.RoleSAUser, ""))
	m.keys[rVAAdmin] = m.userKey("va-admin@acme.example", "acme.example", role(smartlic.RoleVAAdmin, "Engineering"))
	m.keys[rVAUser] = m.userKey("va-user@acme.example", "acme.example", role(smartlic.RoleVAUser, "Engineering"))
	m.keys[rOther] = m.userKey("admin@other.example", "other.example", role(smartlic.RoleSAAdmin, ""))
	m.userKey("member@acme.example", "acme.example", role(smartlic.RoleVAUser, "Lab"))
	return m
}

// Fresh things, made by the operator, for operations that use them up.

func (m *matrix) freshLicenseType() string {
	tag := fmt.Sprintf("fresh-%d", m.n())
	ok[smartlic.LicenseType](m.t)(m.e.mgr.CreateLicenseType(m.op, smartlic.LicenseType{Tag: tag, Name: tag, Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
	return tag
}

func (m *matrix) freshProduct() string {
	pid := fmt.Sprintf("FRESH-%d", m.n())
	ok[smartlic.Product](m.t)(m.e.mgr.CreateProduct(m.op, smartlic.Product{PID: pid, Name: pid}))
	return pid
}

func (m *matrix) freshSKU() string {
	sku := fmt.Sprintf("L-FRESH-%d", m.n())
	ok[smartlic.ClassicSKU](m.t)(m.e.mgr.CreateClassicSKU(m.op, smartlic.ClassicSKUInput{SKU: sku, License: "network-advantage"}))
	return sku
}

func (m *matrix) freshRequestedAccount() string {
	d := fmt.Sprintf("requested-%d.example", m.n())
	ok[smartlic.SmartAccount](m.t)(m.e.mgr.CreateSmartAccount(m.op, smartlic.SmartAccount{Name: d, Domain: d}))
	return d
}

func (m *matrix) freshVA() string {
	name := fmt.Sprintf("Fresh %d", m.n())
	ok[smartlic.VirtualAccount](m.t)(m.e.mgr.CreateVirtualAccount(m.op, "acme.example", smartlic.VirtualAccountInput{Name: name, Parent: "Engineering"}))
	return name
}

// matrixPolicy is a valid policy request body.
const matrixPolicy = `{"name":"Matrix","classes":{"unenforced_perpetual":{"first_report_days":365,"reporting_frequency_days":0,"report_after_change_days":90,"ack_required":true},"unenforced_subscription":{"first_report_days":90,"reporting_frequency_days":90,"report_after_change_days":90,"ack_required":true},"enforced":{"first_report_days":0,"reporting_frequency_days":0,"report_after_change_days":0,"ack_required":true},"export_controlled":{"first_report_days":0,"reporting_frequency_days":0,"report_after_change_days":0,"ack_required":true}}}`

func policyPath(va string) string {
	if va == "" {
		return "/api/v1/accounts/acme.example/policies/account"
	}
	return "/api/v1/accounts/acme.example/policies/va/" + url.PathEscape(va)
}

func (m *matrix) policyInput() smartlic.PolicyInput {
	d := smartlic.DefaultPolicy()
	return smartlic.PolicyInput{Name: "Matrix", Rules: d.Rules}
}

// accountPolicy and vaPolicy make sure a custom policy is set there, so
// that reading or deleting it can succeed.
func (m *matrix) accountPolicy() {
	ok[smartlic.Policy](m.t)(m.e.mgr.SetPolicy(m.op, "acme.example", "", m.policyInput()))
}

func (m *matrix) vaPolicy(va string) {
	ok[smartlic.Policy](m.t)(m.e.mgr.SetPolicy(m.op, "acme.example", va, m.policyInput()))
}

func (m *matrix) freshToken() string {
	return ok[smartlic.Token](m.t)(m.e.mgr.CreateToken(m.op, "acme.example", "Engineering", smartlic.TokenInput{Description: "fresh", ExpiresInDays: 1})).ID
}

func (m *matrix) freshInstance() string {
	m.t.Helper()
	tok := ok[smartlic.Token](m.t)(m.e.mgr.CreateToken(m.op, "acme.example", "Engineering", smartlic.TokenInput{Description: "device", ExpiresInDays: 1}))
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		m.t.Fatal(err)
	}
	udi := smartlic.UDI{PID: "C9300-24T", SN: fmt.Sprintf("FOC%05d", m.n())}
	env, err := sign.Seal(smartlic.TypeRegisterRequest, base64.RawURLEncoding.EncodeToString(pub), priv, smartlic.RegisterRequest{
		Token: tok.Secret, UDI: udi, Hostname: "sw", PublicKey: pub, SentAt: m.e.clock.Now()})
	if err != nil {
		m.t.Fatal(err)
	}
	ok[smartlic.Envelope](m.t)(m.e.mgr.Register(context.Background(), env))
	return udi.String()
}

func (m *matrix) freshWebhook() string {
	return ok[smartlic.Webhook](m.t)(m.e.mgr.CreateWebhook(m.op, "acme.example", smartlic.WebhookInput{URL: fmt.Sprintf("https://hooks.acme.example/%d", m.n())})).ID
}

func (m *matrix) freshPreference() string {
	email := fmt.Sprintf("watcher-%d@acme.example", m.n())
	ok[smartlic.NotificationPreference](m.t)(m.e.mgr.SetNotificationPreference(m.op, "acme.example", smartlic.NotificationPreferenceInput{Email: email, Frequency: smartlic.Daily}))
	return email
}

func (m *matrix) freshPAK() string {
	return ok[smartlic.PAK](m.t)(m.e.mgr.DepositPAK(m.op, "acme.example", smartlic.PAKInput{Number: fmt.Sprintf("PAK-%d", m.n()), OrderNumber: "O-1",
		Lines: []smartlic.PAKLineInput{{SKU: "L-NA-1", Quantity: 2}}})).Number
}

func (m *matrix) freshAgreement() string {
	return ok[smartlic.Agreement](m.t)(m.e.mgr.CreateAgreement(m.op, "acme.example", "Engineering", smartlic.AgreementInput{
		Number: fmt.Sprintf("EA-A%d", m.n()), EndsAt: epoch.AddDate(1, 0, 0), Lines: []smartlic.AgreementLine{{LicenseTag: "network-advantage", Quantity: 1}}})).ID
}

func (m *matrix) freshUser() string {
	email := fmt.Sprintf("fresh-%d@acme.example", m.n())
	ok[smartlic.User](m.t)(m.e.mgr.CreateUser(m.op, smartlic.UserInput{Email: email, Name: email, Password: matrixPassword}))
	return email
}

// freshMember is a new user already in acme.example (a VA user of Sales),
// to whom administrators may grant more.
func (m *matrix) freshMember() string {
	email := m.freshUser()
	ok[smartlic.RoleAssignment](m.t)(m.e.mgr.GrantRole(m.op, "acme.example", smartlic.RoleInput{User: email, Role: smartlic.RoleVAUser, VA: "Sales"}))
	return email
}

func (m *matrix) freshInvitation() string {
	return ok[smartlic.Invitation](m.t)(m.e.mgr.InviteUser(m.op, "acme.example", smartlic.InvitationInput{
		Email: fmt.Sprintf("fresh-invite-%d@acme.example", m.n()), Role: smartlic.RoleVAUser, VA: "Lab"})).ID
}

func (m *matrix) freshRole() string {
	return ok[smartlic.RoleAssignment](m.t)(m.e.mgr.GrantRole(m.op, "acme.example", smartlic.RoleInput{User: m.freshUser(), Role: smartlic.RoleVAUser, VA: "Lab"})).ID
}

func (m *matrix) freshAccessRequest() string {
	return ok[smartlic.AccessRequest](m.t)(m.e.mgr.RequestAccess(m.signIn(m.freshUser()), "acme.example", "please")).ID
}

// freshKey is a key of the role's own user (of some user for the operator,
// who may revoke anyone's).
func (m *matrix) freshKey(role string) string {
	a := ok[smartlic.Actor](m.t)(m.e.mgr.Authenticate(context.Background(), m.keys[role]))
	if a.UserID == "" {
		return ok[smartlic.UserAPIKey](m.t)(m.e.mgr.CreateAPIKey(m.signIn("member@acme.example"), smartlic.APIKeyInput{Name: "fresh"})).ID
	}
	return ok[smartlic.UserAPIKey](m.t)(m.e.mgr.CreateAPIKey(smartlic.WithActor(context.Background(), a), smartlic.APIKeyInput{Name: "fresh"})).ID
}

// freshIdentity binds the role's user (a member's, for the operator, who
// has none) to a new subject at a new provider.
func (m *matrix) freshIdentity(role string) string {
	a := ok[smartlic.Actor](m.t)(m.e.mgr.Authenticate(context.Background(), m.keys[role]))
	email := a.Email
	if a.UserID == "" {
		email = "member@acme.example"
	}
	iss := fmt.Sprintf("https://idp-%d.example", m.n())
	l := ok[smartlic.Login](m.t)(m.e.mgr.SignInWithOIDC(context.Background(), smartlic.OIDCClaims{Issuer: iss, Subject: "s", Email: email, EmailVerified: true}))
	as := smartlic.WithActor(context.Background(), smartlic.Actor{Email: l.User.Email, Role: "user", UserID: l.User.ID, Kind: smartlic.ActorSession})
	for _, id := range ok[[]smartlic.UserIdentity](m.t)(m.e.mgr.ListIdentities(as)) {
		if id.Issuer == iss {
			return id.ID
		}
	}
	m.t.Fatalf("no identity at %s", iss)
	return ""
}

func (m *matrix) freshClient(sa string) string {
	return ok[smartlic.OAuthClient](m.t)(m.e.mgr.CreateOAuthClient(m.op, sa, smartlic.OAuthClientInput{Name: "fresh"})).ID
}

// snapshot is what the operator sees of everything a request could
// change; a refused request must leave it as it was.
func (m *matrix) snapshot() string {
	m.t.Helper()
	mgr, op, p := m.e.mgr, m.op, smartlic.Page{Limit: 1000}
	var parts []any
	add := func(v any, err error) {
		if err != nil {
			m.t.Fatalf("snapshot: %v", err)
		}
		parts = append(parts, v)
	}
	add2 := func(v any, _ string, err error) { add(v, err) }
	add2(mgr.ListSmartAccounts(op, smartlic.SmartAccountFilter{}, p))
	add2(mgr.ListLicenseTypes(op, p))
	add2(mgr.ListProducts(op, p))
	add2(mgr.ListClassicSKUs(op, p))
	add2(mgr.ListUsers(op, p))
	add2(mgr.ListOAuthClients(op, "", p))
	for _, sa := range []string{"acme.example", "other.example"} {
		add2(mgr.ListVirtualAccounts(op, sa, p))
		add2(mgr.ListRoles(op, sa, "", p))
		add2(mgr.ListAccessRequests(op, sa, p))
		add2(mgr.ListInvitations(op, sa, p))
		add2(mgr.ListOAuthClients(op, sa, p))
		add2(mgr.ListTransfers(op, sa, p))
		add2(mgr.ListPAKs(op, sa, p))
		add(mgr.ListAccountPools(op, sa))
		add(mgr.ListWebhooks(op, sa))
		add(mgr.ListNotificationPreferences(op, sa))
		evs, _, err := mgr.ListEvents(op, sa, smartlic.EventFilter{}, p)
		add(len(evs), err)
	}
	evs, _, err := mgr.ListEvents(op, smartlic.VendorChain, smartlic.EventFilter{}, p)
	add(len(evs), err)
	for _, va := range []string{"Engineering", "Lab"} {
		add2(mgr.ListTokens(op, "acme.example", va, p))
		add2(mgr.ListInstances(op, "acme.example", va, p))
		add2(mgr.ListDeposits(op, "acme.example", va, p))
		add2(mgr.ListAgreements(op, "acme.example", va, p))
	}
	b, err := json.Marshal(parts)
	if err != nil {
		m.t.Fatal(err)
	}
	return string(b)
}

// TestRoleMatrix calls every operation of the API as each role and checks
// that the allowed ones succeed and the others are refused with 403
// forbidden, having changed nothing. It runs on both stores: the role
// checks read roles and VA ancestry through the store.
func TestRoleMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		testRoleMatrix(t, newMatrixOn(t, open))
	})
}

func testRoleMatrix(t *testing.T, m *matrix) {
	doc, err := m.e.srv.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Security    []any  `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	var ids []string
	documented := map[string]bool{}
	for path, item := range spec.Paths {
		for method, op := range item {
			documented[op.OperationID] = true
			c, ok := roleMatrix[op.OperationID]
			switch {
			case !ok:
				t.Errorf("%s %s (%s) is not in the role matrix: add its row to roleMatrix", strings.ToUpper(method), path, op.OperationID)
				continue
			case c.public != (len(op.Security) == 0):
				t.Errorf("%s: public in the matrix = %v, but its security is %v", op.OperationID, c.public, op.Security)
				continue
			}
			ids = append(ids, op.OperationID)
		}
	}
	for id := range roleMatrix {
		if !documented[id] {
			t.Errorf("the role matrix has a row for %s, which the API does not have", id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := roleMatrix[id]
		if c.public {
			continue
		}
		for _, role := range matrixRoles {
			r := c.req(m, role)
			r.auth = "Bearer " + m.keys[role]
			allowed := slices.Contains(c.allow, role)
			var before string
			if !allowed {
				before = m.snapshot()
			}
			a := m.e.do(r)
			switch {
			case allowed && (a.status < 200 || a.status > 299):
				t.Errorf("%s as %s: %d %s; want success (%s %s)", id, role, a.status, a.body, r.method, r.path)
			case !allowed && a.status != http.StatusForbidden:
				t.Errorf("%s as %s: %d %s; want 403 forbidden (%s %s)", id, role, a.status, a.body, r.method, r.path)
			case !allowed:
				if e := a.errorBody(t); e.Code != smartlic.EForbidden {
					t.Errorf("%s as %s: code %q, want forbidden", id, role, e.Code)
				}
				if after := m.snapshot(); after != before {
					t.Errorf("%s as %s was refused but changed something", id, role)
				}
			}
		}
	}
}

// TestListSmartAccountsByRole checks that a user sees only the Smart
// Accounts it holds a role in.
func TestListSmartAccountsByRole(t *testing.T) {
	m := newMatrix(t)
	for role, want := range map[string][]string{
		rOperator: {"acme.example", "other.example"},
		rSAUser:   {"acme.example"},
		rVAUser:   {"acme.example"},
		rOther:    {"other.example"},
	} {
		a := m.e.do(request{method: "GET", path: "/api/v1/accounts", auth: "Bearer " + m.keys[role]})
		wantStatus(t, a, http.StatusOK)
		var page struct{ Items []smartlic.SmartAccount }
		a.decode(t, &page)
		var got []string
		for _, sa := range page.Items {
			got = append(got, sa.Domain)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s sees %v, want %v", role, got, want)
		}
	}
}

func TestLoginSessionAndCSRF(t *testing.T) {
	m := newMatrix(t)
	e := m.e
	login := func(email, pw string) answer {
		return e.do(request{method: "POST", path: "/api/v1/auth/login", auth: "-", body: fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw)})
	}
	// Wrong password and unknown user: one answer.
	wrong, unknown := login("admin@acme.example", "not the password!"), login("ghost@acme.example", "not the password!")
	ew := wantError(t, wrong, http.StatusUnauthorized, smartlic.EUnauthorized, "")
	eu := wantError(t, unknown, http.StatusUnauthorized, smartlic.EUnauthorized, "")
	if ew.Message != eu.Message {
		t.Errorf("wrong password says %q, unknown user %q", ew.Message, eu.Message)
	}

	a := login("admin@acme.example", matrixPassword)
	wantStatus(t, a, http.StatusOK)
	var l struct {
		CSRFToken string        `json:"csrf_token"`
		User      smartlic.User `json:"user"`
	}
	a.decode(t, &l)
	if strings.Contains(string(a.body), "argon2") || strings.Contains(string(a.body), "sls_") {
		t.Fatalf("login answer leaks a secret: %s", a.body)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == httpapi.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || l.CSRFToken == "" {
		t.Fatalf("session cookie %+v, csrf %q", cookie, l.CSRFToken)
	}
	withSession := func(r request, csrf string) answer {
		r.auth = "-"
		r.header = http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}}
		if csrf != "" {
			r.header.Set(httpapi.CSRFHeader, csrf)
		}
		return e.do(r)
	}
	// Reads need no CSRF token; changes do, and the right one.
	wantStatus(t, withSession(request{method: "GET", path: "/api/v1/me"}, ""), http.StatusOK)
	create := request{method: "POST", path: vaPath(""), body: `{"name":"By session"}`}
	before := m.snapshot()
	wantError(t, withSession(create, ""), http.StatusForbidden, smartlic.EForbidden, httpapi.CSRFHeader)
	wantError(t, withSession(create, l.CSRFToken+"x"), http.StatusForbidden, smartlic.EForbidden, httpapi.CSRFHeader)
	if m.snapshot() != before {
		t.Error("a request without the CSRF token changed something")
	}
	wantStatus(t, withSession(create, l.CSRFToken), http.StatusCreated)

	// Idle sessions end; so do logged-out ones.
	e.clock.Advance(31 * time.Minute)
	wantError(t, withSession(request{method: "GET", path: "/api/v1/me"}, ""), http.StatusUnauthorized, smartlic.EUnauthorized, "")
	a = login("admin@acme.example", matrixPassword)
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == httpapi.SessionCookie {
			cookie = c
		}
	}
	a.decode(t, &l)
	wantStatus(t, withSession(request{method: "GET", path: "/api/v1/me"}, ""), http.StatusOK)
	out := withSession(request{method: "POST", path: "/api/v1/auth/logout"}, l.CSRFToken)
	wantStatus(t, out, http.StatusNoContent)
	wantError(t, withSession(request{method: "GET", path: "/api/v1/me"}, ""), http.StatusUnauthorized, smartlic.EUnauthorized, "")
}

func TestOAuthTokenEndpoint(t *testing.T) {
	m := newMatrix(t)
	e := m.e
	c := ok[smartlic.OAuthClient](t)(e.mgr.CreateOAuthClient(m.op, "acme.example", smartlic.OAuthClientInput{Name: "erp", Scopes: []string{"read", "write"}}))
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.Secret}, "scope": {"read"}}
	a := e.do(request{method: "POST", path: "/api/v1/oauth/token", auth: "-", contentType: "application/x-www-form-urlencoded", body: form.Encode()})
	wantStatus(t, a, http.StatusOK)
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", a.header.Get("Cache-Control"))
	}
	var g smartlic.TokenGrant
	a.decode(t, &g)
	if g.TokenType != "Bearer" || g.Scope != "read" || g.ExpiresIn != 3600 {
		t.Fatalf("grant = %+v", g)
	}
	bearer := "Bearer " + g.AccessToken
	wantStatus(t, e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/licenses", auth: bearer}), http.StatusOK)
	// Read scope: no changes.
	wantError(t, e.do(request{method: "POST", path: vaPath("Engineering") + "/tokens", auth: bearer, body: `{"description":"x","expires_in_days":1}`}), http.StatusForbidden, smartlic.EForbidden, "")
	wantError(t, e.do(request{method: "GET", path: "/api/v1/accounts/other.example", auth: bearer}), http.StatusForbidden, smartlic.EForbidden, "")

	// JSON and HTTP Basic work too.
	j := e.do(request{method: "POST", path: "/api/v1/oauth/token", auth: "-",
		body: fmt.Sprintf(`{"grant_type":"client_credentials","client_id":%q,"client_secret":%q}`, c.ClientID, c.Secret)})
	wantStatus(t, j, http.StatusOK)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ClientID)+":"+url.QueryEscape(c.Secret)))
	wantStatus(t, e.do(request{method: "POST", path: "/api/v1/oauth/token", auth: basic, contentType: "application/x-www-form-urlencoded", body: "grant_type=client_credentials"}), http.StatusOK)
	// Wrong secret, wrong grant.
	form.Set("client_secret", c.Secret+"x")
	wantError(t, e.do(request{method: "POST", path: "/api/v1/oauth/token", auth: "-", contentType: "application/x-www-form-urlencoded", body: form.Encode()}), http.StatusUnauthorized, smartlic.EUnauthorized, "client_secret")
	form.Set("grant_type", "password")
	wantError(t, e.do(request{method: "POST", path: "/api/v1/oauth/token", auth: "-", contentType: "application/x-www-form-urlencoded", body: form.Encode()}), http.StatusBadRequest, smartlic.EInvalid, "grant_type")

	// Tokens expire.
	e.clock.Advance(time.Hour)
	wantError(t, e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/licenses", auth: bearer}), http.StatusUnauthorized, smartlic.EUnauthorized, "")
}

func TestAuthRateLimits(t *testing.T) {
	e := newEnv(t)
	login := func(email string) answer {
		return e.do(request{method: "POST", path: "/api/v1/auth/login", auth: "-", body: fmt.Sprintf(`{"email":%q,"password":"guess guess guess"}`, email)})
	}
	// One account guessed at: the burst, then 429 with Retry-After.
	var limited answer
	for i := 0; ; i++ {
		a := login("victim@example.com")
		if a.status == http.StatusTooManyRequests {
			limited = a
			if i < 5 {
				t.Fatalf("limited after %d attempts: too tight for people", i)
			}
			break
		}
		wantStatus(t, a, http.StatusUnauthorized)
		if i > 50 {
			t.Fatal("no rate limit after 50 wrong passwords")
		}
	}
	wantError(t, limited, http.StatusTooManyRequests, httpapi.CodeRateLimited, "")
	if ra := limited.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q", ra)
	}
	// The same IP is limited for other accounts too, and on the token endpoint separately.
	for i := 0; i < 50; i++ {
		a := login(fmt.Sprintf("other-%d@example.com", i))
		if a.status == http.StatusTooManyRequests {
			break
		}
		if i == 49 {
			t.Fatal("one IP guessed at 50 accounts without being limited")
		}
	}
	tok := e.do(request{method: "POST", path: "/api/v1/oauth/token", auth: "-", contentType: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&client_id=slc_x&client_secret=slcs_y"})
	wantStatus(t, tok, http.StatusUnauthorized)
}
