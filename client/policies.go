package client

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

var _ smartlic.PolicyService = (*Client)(nil)

const policiesSeg = "policies"

// policyPath addresses the Smart Account's policy (vaKey "") or a VA's.
func policyPath(saKey, vaKey string, rest ...any) []any {
	parts := []any{accounts, sa(saKey), policiesSeg}
	if vaKey == "" {
		parts = append(parts, "account")
	} else {
		parts = append(parts, "va", va(vaKey))
	}
	return append(parts, rest...)
}

func (c *Client) ListPolicies(ctx context.Context, saKey string) ([]smartlic.Policy, error) {
	v, err := get[wire.Items[smartlic.Policy]](ctx, c, accounts, sa(saKey), policiesSeg)
	return v.Items, err
}

func (c *Client) GetPolicy(ctx context.Context, saKey, vaKey string) (smartlic.Policy, error) {
	return get[smartlic.Policy](ctx, c, policyPath(saKey, vaKey)...)
}

func (c *Client) EffectivePolicy(ctx context.Context, saKey, vaKey string) (smartlic.PolicyInForce, error) {
	return get[smartlic.PolicyInForce](ctx, c, accounts, sa(saKey), vas, va(vaKey), "policy")
}

func (c *Client) SetPolicy(ctx context.Context, saKey, vaKey string, in smartlic.PolicyInput) (smartlic.Policy, error) {
	return send[smartlic.Policy](ctx, c, http.MethodPut, wire.FromPolicyInput(in), policyPath(saKey, vaKey)...)
}

func (c *Client) DeletePolicy(ctx context.Context, saKey, vaKey string) error {
	return c.remove(ctx, policyPath(saKey, vaKey)...)
}

func (c *Client) PolicyHistory(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.Policy, string, error) {
	return list[smartlic.Policy](ctx, c, p, policyPath(saKey, vaKey, "history")...)
}

const defaultPolicySeg = "api/v1/policies/default"

func (c *Client) GetDefaultPolicy(ctx context.Context) (smartlic.Policy, error) {
	return get[smartlic.Policy](ctx, c, defaultPolicySeg)
}

func (c *Client) SetDefaultPolicy(ctx context.Context, in smartlic.PolicyInput) (smartlic.Policy, error) {
	return send[smartlic.Policy](ctx, c, http.MethodPut, wire.FromPolicyInput(in), defaultPolicySeg)
}

func (c *Client) ResetDefaultPolicy(ctx context.Context) (smartlic.Policy, error) {
	return send[smartlic.Policy](ctx, c, http.MethodDelete, nil, defaultPolicySeg)
}

func (c *Client) DefaultPolicyHistory(ctx context.Context, p smartlic.Page) ([]smartlic.Policy, string, error) {
	return list[smartlic.Policy](ctx, c, p, defaultPolicySeg, "history")
}
