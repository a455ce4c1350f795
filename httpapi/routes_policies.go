package httpapi

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type policyVAPath struct {
	SA string `path:"sa" doc:"Smart Account id or domain"`
	VA string `path:"va" doc:"Virtual Account id or name"`
}

type policyVABody struct {
	SA   string `path:"sa" doc:"Smart Account id or domain"`
	VA   string `path:"va" doc:"Virtual Account id or name"`
	Body wire.PolicyRequest
}

type policySABody struct {
	SA   string `path:"sa" doc:"Smart Account id or domain"`
	Body wire.PolicyRequest
}

type policyHistoryQuery struct {
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Versions per page"`
	After string `query:"after" maxLength:"20" doc:"Cursor: the next value of the previous page (a version number)"`
}

type policySAHistory struct {
	SA    string `path:"sa" doc:"Smart Account id or domain"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Versions per page"`
	After string `query:"after" maxLength:"20" doc:"Cursor: the next value of the previous page (a version number)"`
}

type policyVAHistory struct {
	SA    string `path:"sa" doc:"Smart Account id or domain"`
	VA    string `path:"va" doc:"Virtual Account id or name"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Versions per page"`
	After string `query:"after" maxLength:"20" doc:"Cursor: the next value of the previous page (a version number)"`
}

type defaultPolicyBody struct {
	Body wire.PolicyRequest
}

// registerPolicyRoutes adds Smart Licensing Using Policy's reporting
// policies: the account's custom ones (on the account or a VA), the policy
// in force for a VA, and the vendor default.
func (s *Server) registerPolicyRoutes() {
	svc := s.svc
	const policies = "/api/v1/accounts/{sa}/policies"
	handle(s, route{method: get, path: policies, id: "list-policies", tag: "policies",
		summary: "The default policy in force and the account's custom policies (the account's, then each Virtual Account's)"},
		func(ctx context.Context, in *saPath) (*body[wire.Items[smartlic.Policy]], error) {
			return all(svc.ListPolicies(ctx, in.SA))
		})

	const account = policies + "/account"
	handle(s, route{method: get, path: account, id: "get-account-policy", tag: "policies",
		summary: "The custom policy set on the Smart Account (404 when none is: the default applies)"},
		func(ctx context.Context, in *saPath) (*body[smartlic.Policy], error) {
			return one(svc.GetPolicy(ctx, in.SA, ""))
		})
	handle(s, route{method: http.MethodPut, path: account, id: "set-account-policy", tag: "policies",
		summary: "Set the Smart Account's policy: a new version (SA administrators)"},
		func(ctx context.Context, in *policySABody) (*body[smartlic.Policy], error) {
			return one(svc.SetPolicy(ctx, in.SA, "", in.Body.Input()))
		})
	handle(s, route{method: del, path: account, id: "delete-account-policy", tag: "policies", status: http.StatusNoContent,
		summary: "Remove the Smart Account's policy: the default applies again (history kept)"},
		func(ctx context.Context, in *saPath) (*struct{}, error) {
			return none(svc.DeletePolicy(ctx, in.SA, ""))
		})
	handle(s, route{method: get, path: account + "/history", id: "account-policy-history", tag: "policies",
		summary: "Every version of the Smart Account's policy, newest first"},
		func(ctx context.Context, in *policySAHistory) (*body[wire.Page[smartlic.Policy]], error) {
			return page(svc.PolicyHistory(ctx, in.SA, "", smartlic.Page{Limit: in.Limit, After: in.After}))
		})

	const va = policies + "/va/{va}"
	handle(s, route{method: get, path: va, id: "get-va-policy", tag: "policies",
		summary: "The custom policy set on a Virtual Account itself (404 when none is: it inherits)"},
		func(ctx context.Context, in *policyVAPath) (*body[smartlic.Policy], error) {
			return one(svc.GetPolicy(ctx, in.SA, in.VA))
		})
	handle(s, route{method: http.MethodPut, path: va, id: "set-va-policy", tag: "policies",
		summary: "Set a Virtual Account's policy, inherited by the VAs below it without their own: a new version"},
		func(ctx context.Context, in *policyVABody) (*body[smartlic.Policy], error) {
			return one(svc.SetPolicy(ctx, in.SA, in.VA, in.Body.Input()))
		})
	handle(s, route{method: del, path: va, id: "delete-va-policy", tag: "policies", status: http.StatusNoContent,
		summary: "Remove a Virtual Account's policy: it inherits again (history kept)"},
		func(ctx context.Context, in *policyVAPath) (*struct{}, error) {
			return none(svc.DeletePolicy(ctx, in.SA, in.VA))
		})
	handle(s, route{method: get, path: va + "/history", id: "va-policy-history", tag: "policies",
		summary: "Every version of a Virtual Account's policy, newest first"},
		func(ctx context.Context, in *policyVAHistory) (*body[wire.Page[smartlic.Policy]], error) {
			return page(svc.PolicyHistory(ctx, in.SA, in.VA, smartlic.Page{Limit: in.Limit, After: in.After}))
		})

	handle(s, route{method: get, path: "/api/v1/accounts/{sa}/virtual-accounts/{va}/policy", id: "get-effective-policy", tag: "policies",
		summary: "The policy in force for a Virtual Account: its own, its nearest ancestor's, the Smart Account's or the default"},
		func(ctx context.Context, in *policyVAPath) (*body[smartlic.PolicyInForce], error) {
			return one(svc.EffectivePolicy(ctx, in.SA, in.VA))
		})

	const def = "/api/v1/policies/default"
	handle(s, route{method: get, path: def, id: "get-default-policy", tag: "policies",
		summary: "The vendor's default policy in force (the built-in, or the operator's edit)"},
		func(ctx context.Context, _ *struct{}) (*body[smartlic.Policy], error) {
			return one(svc.GetDefaultPolicy(ctx))
		})
	handle(s, route{method: http.MethodPut, path: def, id: "set-default-policy", tag: "policies",
		summary: "Edit the default policy: a new version (vendor operator)"},
		func(ctx context.Context, in *defaultPolicyBody) (*body[smartlic.Policy], error) {
			return one(svc.SetDefaultPolicy(ctx, in.Body.Input()))
		})
	handle(s, route{method: del, path: def, id: "reset-default-policy", tag: "policies",
		summary: "Reset the default policy to the built-in values: a new version (vendor operator)"},
		func(ctx context.Context, _ *struct{}) (*body[smartlic.Policy], error) {
			return one(svc.ResetDefaultPolicy(ctx))
		})
	handle(s, route{method: get, path: def + "/history", id: "default-policy-history", tag: "policies",
		summary: "The stored versions of the default policy, newest first (version 1, the built-in, is not stored)"},
		func(ctx context.Context, in *policyHistoryQuery) (*body[wire.Page[smartlic.Policy]], error) {
			return page(svc.DefaultPolicyHistory(ctx, smartlic.Page{Limit: in.Limit, After: in.After}))
		})
}
