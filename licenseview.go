package smartlic

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// PoolSort orders a license view. Every order ends on the license tag,
// which is unique within a view, so pages never overlap or skip a row.
type PoolSort string

const (
	SortByTag       PoolSort = "tag"       // A to Z
	SortBySeverity  PoolSort = "status"    // most severe status first (PoolStatuses)
	SortByAvailable PoolSort = "available" // fewest available first: the largest overage leads
)

// PoolSorts are the orders a license view accepts.
var PoolSorts = []PoolSort{SortByTag, SortBySeverity, SortByAvailable}

// PoolQuery narrows, orders and pages a license view. Zero values show
// every row, by tag, a page of DefaultPageLimit.
type PoolQuery struct {
	Status PoolStatus // only rows with this status
	Search string     // only rows whose tag or name contains this, ignoring case
	Sort   PoolSort
	Limit  int    // 1..MaxPageLimit; 0 means DefaultPageLimit
	After  string // Next of the previous page
}

// MaxPoolSearch bounds PoolQuery.Search.
const MaxPoolSearch = 100

// PoolPage is one page of a license view.
type PoolPage struct {
	Items []Pool `json:"items"`
	// Next is the cursor of the next page (PoolQuery.After); empty on the
	// last page.
	Next string `json:"next"`
	// Total is how many rows match the filter, on every page.
	Total int `json:"total"`
}

// PoolSummary is a license view in numbers: its rows counted by status.
type PoolSummary struct {
	LicenseTypes int          `json:"license_types"` // rows of the view
	ByStatus     StatusCounts `json:"by_status"`
	Purchased    int64        `json:"purchased"`
	InUse        int64        `json:"in_use"`
	Overage      int64        `json:"overage"` // the rows' overages added up
	// ShortVirtualAccounts is how many Virtual Accounts are insufficient in
	// at least one license type (a rolled-up or account-wide view).
	ShortVirtualAccounts int `json:"short_virtual_accounts"`
}

// StatusCounts counts rows by PoolStatus.
type StatusCounts struct {
	Insufficient int `json:"insufficient"`
	Expired      int `json:"expired"`
	Expiring     int `json:"expiring"`
	InCompliance int `json:"in_compliance"`
	Empty        int `json:"empty"`
}

// Of returns the count of one status.
func (c StatusCounts) Of(s PoolStatus) int {
	switch s {
	case Insufficient:
		return c.Insufficient
	case Expired:
		return c.Expired
	case Expiring:
		return c.Expiring
	case InCompliance:
		return c.InCompliance
	case Empty:
		return c.Empty
	}
	return 0
}

func (c *StatusCounts) add(s PoolStatus) {
	switch s {
	case Insufficient:
		c.Insufficient++
	case Expired:
		c.Expired++
	case Expiring:
		c.Expiring++
	case InCompliance:
		c.InCompliance++
	case Empty:
		c.Empty++
	}
}

// SummarizePools counts the rows of a view.
func SummarizePools(pools []Pool) PoolSummary {
	s := PoolSummary{LicenseTypes: len(pools)}
	short := map[string]bool{}
	for _, p := range pools {
		s.ByStatus.add(p.Status)
		s.Purchased += p.Purchased
		s.InUse += p.InUse
		s.Overage += p.Overage
		for _, va := range p.ShortVirtualAccounts {
			short[va] = true
		}
		if len(p.ShortVirtualAccounts) == 0 && p.Status == Insufficient {
			short[p.VirtualAccountID] = true
		}
	}
	s.ShortVirtualAccounts = len(short)
	return s
}

// Normalize applies the defaults and checks every field, naming the one
// that is wrong.
func (q PoolQuery) Normalize() (PoolQuery, error) {
	if q.Sort == "" {
		q.Sort = SortByTag
	}
	if !slices.Contains(PoolSorts, q.Sort) {
		return q, Invalid("sort", "must be one of tag, status, available (got %q)", q.Sort)
	}
	if q.Status != "" && !slices.Contains(PoolStatuses, q.Status) {
		return q, Invalid("status", "must be one of insufficient, expired, expiring, in_compliance, empty (got %q)", q.Status)
	}
	q.Search = strings.TrimSpace(q.Search)
	if len(q.Search) > MaxPoolSearch {
		return q, Invalid("q", "must be at most %d characters (got %d)", MaxPoolSearch, len(q.Search))
	}
	if q.Limit == 0 {
		q.Limit = DefaultPageLimit
	}
	if q.Limit < 1 || q.Limit > MaxPageLimit {
		return q, Invalid("limit", "must be between 1 and %d (got %d)", MaxPageLimit, q.Limit)
	}
	if q.After != "" {
		if _, err := q.cursor(); err != nil {
			return q, err
		}
	}
	return q, nil
}

// poolKey is where a row sits in an order: the sort's own key, then the tag.
type poolKey struct {
	rank int64
	tag  string
}

func (q PoolQuery) keyOf(p Pool) poolKey {
	switch q.Sort {
	case SortBySeverity:
		return poolKey{int64(slices.Index(PoolStatuses, p.Status)), p.LicenseTag}
	case SortByAvailable:
		return poolKey{p.Available, p.LicenseTag}
	}
	return poolKey{0, p.LicenseTag}
}

func (k poolKey) compare(o poolKey) int {
	return cmp.Or(cmp.Compare(k.rank, o.rank), strings.Compare(k.tag, o.tag))
}

// The cursor is "<sort>:<rank>:<tag>", the key of the last row shown. A
// tag holds no ':' (ValidateTag), so it splits unambiguously, and a cursor
// of one order cannot be replayed against another.
func (q PoolQuery) cursorOf(p Pool) string {
	k := q.keyOf(p)
	return fmt.Sprintf("%s:%d:%s", q.Sort, k.rank, k.tag)
}

func (q PoolQuery) cursor() (poolKey, error) {
	bad := Invalid("after", "is not a cursor of this order (sort=%s): pass the next value of the previous page", q.Sort)
	sort, rest, ok := strings.Cut(q.After, ":")
	if !ok || PoolSort(sort) != q.Sort {
		return poolKey{}, bad
	}
	rank, tag, ok := strings.Cut(rest, ":")
	n, err := strconv.ParseInt(rank, 10, 64)
	if !ok || err != nil || tag == "" {
		return poolKey{}, bad
	}
	return poolKey{n, tag}, nil
}

// Matches reports whether a row passes the query's filters.
func (q PoolQuery) Matches(p Pool) bool {
	if q.Status != "" && p.Status != q.Status {
		return false
	}
	if q.Search == "" {
		return true
	}
	s := strings.ToLower(q.Search)
	return strings.Contains(strings.ToLower(p.LicenseTag), s) || strings.Contains(strings.ToLower(p.LicenseName), s)
}

// PagePools filters, orders and cuts one page out of a whole view. q must
// be normalized. pools is not modified: it may be a view kept for other
// readers. Rows are ordered by their keys alone, so a page of a view of
// ten thousand rows sorts small keys, not the rows, and copies only the
// rows it returns.
func PagePools(pools []Pool, q PoolQuery) PoolPage {
	type keyed struct {
		k poolKey
		i int
	}
	matched := make([]keyed, 0, len(pools))
	for i, p := range pools {
		if q.Matches(p) {
			matched = append(matched, keyed{q.keyOf(p), i})
		}
	}
	slices.SortFunc(matched, func(a, b keyed) int { return a.k.compare(b.k) })
	page := PoolPage{Total: len(matched), Items: []Pool{}}
	start := 0
	if q.After != "" {
		after, _ := q.cursor()
		start, _ = slices.BinarySearchFunc(matched, after, func(m keyed, k poolKey) int {
			// Rows equal to the cursor were shown: they sort before it.
			if c := m.k.compare(k); c != 0 {
				return c
			}
			return -1
		})
	}
	end := min(start+q.Limit, len(matched))
	for _, m := range matched[start:end] {
		page.Items = append(page.Items, pools[m.i])
	}
	if end < len(matched) && end > start {
		page.Next = q.cursorOf(pools[matched[end-1].i])
	}
	return page
}
