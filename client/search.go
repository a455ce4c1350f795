package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/smartlic/smartlic"
)

var _ smartlic.SearchService = (*Client)(nil)

// Search finds instances, tokens and deposits across the caller's accounts.
func (c *Client) Search(ctx context.Context, in smartlic.SearchQuery) (smartlic.SearchResults, error) {
	q := url.Values{"q": {in.Q}}
	for k, v := range map[string]string{"sa": in.SA, "va": in.VA, "kind": in.Kind, "license": in.License, "after": in.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if in.Rollup {
		q.Set("rollup", "true")
	}
	if in.Limit != 0 {
		q.Set("limit", strconv.Itoa(in.Limit))
	}
	var v smartlic.SearchResults
	err := c.call(ctx, http.MethodGet, request{query: q, out: &v}, "api/v1/search")
	return v, err
}
