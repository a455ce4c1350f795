package web

import (
	"net/http"

	"github.com/smartlic/smartlic"
)

// licenseTypeView is one license type in a Smart Account: its pool in each
// Virtual Account the caller works in, the deposits that fill them and
// the instances that use it.
type licenseTypeView struct {
	Shell
	License   smartlic.LicenseType
	Pools     []vaPool
	Deposits  []vaDeposit
	Instances []smartlic.InstanceHit
	Pager     Pager
}

type vaPool struct {
	VA   smartlic.VirtualAccount
	Pool smartlic.Pool
}

type vaDeposit struct {
	VA      smartlic.VirtualAccount
	Deposit smartlic.Deposit
}

// maxDepositsShown bounds the deposits listed per VA on the page.
const maxDepositsShown = smartlic.MaxPageLimit

func (h *Handler) licenseTypePage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	sh, err := h.accountShell(w, r, s, sa)
	if err != nil {
		return err
	}
	lt, err := h.svc.GetLicenseType(r.Context(), r.PathValue("tag"))
	if err != nil {
		return err
	}
	sh.Title = lt.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Licenses"}, NavLink{Label: lt.Name, Current: true})
	v := &licenseTypeView{Shell: sh, License: lt}
	for _, va := range reachableVAs(sh.Tree) {
		pools, err := h.svc.ListPools(r.Context(), sh.SA.ID, va.ID, false)
		if err != nil {
			return err
		}
		for _, p := range pools {
			if p.LicenseTypeID == lt.ID {
				v.Pools = append(v.Pools, vaPool{VA: va, Pool: p})
			}
		}
		deps, _, err := h.svc.ListDeposits(r.Context(), sh.SA.ID, va.ID, smartlic.Page{Limit: maxDepositsShown})
		if err != nil {
			return err
		}
		for _, d := range deps {
			if d.LicenseTypeID == lt.ID {
				v.Deposits = append(v.Deposits, vaDeposit{VA: va, Deposit: d})
			}
		}
	}
	after := r.URL.Query().Get("after")
	res, err := h.svc.Search(r.Context(), smartlic.SearchQuery{SA: sh.SA.ID, License: lt.ID, Limit: instancesPerPage, After: after})
	if err != nil {
		return err
	}
	v.Instances, v.Pager = res.Instances, pager(r, after, res.Next)
	return h.render(w, r, http.StatusOK, "licensetype", v)
}
