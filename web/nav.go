package web

import (
	"net/url"
	"slices"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
)

// NavLink is one entry of the navigation, the inventory tabs or the
// breadcrumbs.
type NavLink struct {
	Label   string
	Path    string
	Current bool
}

// section is one entry of the main navigation. Path is under /sa/{sa}
// unless the section is the vendor's; "{va}" is the first Virtual Account
// the user can reach. Match is the prefix of the paths that belong to the
// section ("" for the exact path). Which roles see it is a permission of
// the manager's role table (manager.RoleAllows), never a list of roles
// kept here: hiding a link is courtesy, the service call behind the page
// is what refuses. A new section is one line here and its handlers in
// routes.go.
type section struct {
	label, path, match string
	needs              []manager.Permission // any of them, on the Smart Account or one of its VAs
	// saOnly: the page's service calls check the Smart Account as a whole,
	// which VA roles never grant, so only roles of the account count.
	saOnly bool
	vendor bool // the vendor operator only
}

var sections = []section{
	{label: "Dashboard", path: "", needs: []manager.Permission{manager.PermLicenseView}},
	{label: "Inventory", path: "/va/{va}/general", match: "/va/", needs: []manager.Permission{manager.PermAccountView}},
	{label: "Alerts", path: "/alerts", match: "/alerts", needs: []manager.Permission{manager.PermLicenseView}},
	{label: "Reports", path: "/reports/usage", match: "/reports/", needs: []manager.Permission{manager.PermLicenseView}},
	{label: "Transfers", path: "/transfers", match: "/transfers", needs: []manager.Permission{manager.PermLicenseManage}},
	{label: "Reservations", path: "/reservations", match: "/reservations", needs: []manager.Permission{manager.PermLicenseManage}},
	{label: "Export authorization", path: "/slacs", match: "/slacs", needs: []manager.Permission{manager.PermLicenseView}},
	{label: "Conversions", path: "/conversions", match: "/conversions", needs: []manager.Permission{manager.PermLicenseManage}, saOnly: true},
	{label: "Policies", path: "/policies", match: "/policies", needs: []manager.Permission{manager.PermLicenseView}},
	{label: "Usage files", path: "/usage-files", match: "/usage-files", needs: []manager.Permission{manager.PermLicenseView}},
	{label: "Agreements", path: "/agreements", match: "/agreements", needs: []manager.Permission{manager.PermLicenseView, manager.PermAgreementAccept}},
	{label: "Administration", path: "/admin/vas", match: "/admin/", needs: []manager.Permission{manager.PermUsersView, manager.PermVAManage, manager.PermNotifyManage}},
	{label: "Vendor", path: "/vendor/catalog", match: "/vendor/", vendor: true},
}

// inventoryTabs are the tabs of one Virtual Account, as the seed names
// them.
var inventoryTabs = []struct{ label, tab string }{
	{"Dashboard", "dashboard"},
	{"General", "general"},
	{"Licenses", "licenses"},
	{"Product Instances", "instances"},
	{"Event Log", "events"},
}

// navigation lists the sections the caller sees in Smart Account sa (nil:
// none chosen), marking the one the page at current belongs to.
func navigation(s *Session, roles []smartlic.RoleAssignment, sa *smartlic.SmartAccount, firstVA, current string) []NavLink {
	var out []NavLink
	for _, sec := range sections {
		var base string
		switch {
		case sec.vendor:
			if !s.Operator {
				continue
			}
		case sa == nil:
			continue
		default:
			held := roles
			if sec.saOnly {
				held = accountRoles(roles)
			}
			if !s.Operator && !holdsAny(held, sa.ID, sec.needs) {
				continue
			}
			if strings.Contains(sec.path, "{va}") && firstVA == "" {
				continue
			}
			base = saPath(sa.Domain)
		}
		l := NavLink{Label: sec.label, Path: base + strings.ReplaceAll(sec.path, "{va}", url.PathEscape(firstVA))}
		if sec.match == "" {
			l.Current = current == l.Path
		} else {
			l.Current = strings.HasPrefix(current, base+sec.match)
		}
		out = append(out, l)
	}
	return out
}

// holdsAny reports whether roles grant any of perms somewhere in the
// Smart Account saID.
func holdsAny(roles []smartlic.RoleAssignment, saID string, perms []manager.Permission) bool {
	return slices.ContainsFunc(roles, func(r smartlic.RoleAssignment) bool {
		return r.SmartAccountID == saID && slices.ContainsFunc(perms, func(p manager.Permission) bool { return manager.RoleAllows(r.Role, p) })
	})
}

// accountRoles are the roles of roles held on whole Smart Accounts, not
// on a VA.
func accountRoles(roles []smartlic.RoleAssignment) []smartlic.RoleAssignment {
	return slices.DeleteFunc(slices.Clone(roles), func(r smartlic.RoleAssignment) bool { return smartlic.IsVARole(r.Role) })
}

func saPath(sa string) string { return "/sa/" + url.PathEscape(sa) }

func vaPath(sa, va string) string { return saPath(sa) + "/va/" + url.PathEscape(va) }
