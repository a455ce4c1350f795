package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/smartlic/smartlic"
)

// catalogView is the catalogue's pages: License types, Products and
// Classic SKUs, each a list with the form that adds one.
type catalogView struct {
	Shell
	Activity     []smartlic.Event
	LicenseTypes []smartlic.LicenseType
	Products     []smartlic.Product
	SKUs         []smartlic.ClassicSKU
	Pager        Pager
	Form         *Form

	Term, Enforcement, SKULicense selectView
	ProductLicenses               checkGroup
}

// catalogPerPage is the length of each list of the catalogue.
const catalogPerPage = 25

// maxCatalogChoices bounds the license types offered as choices.
const maxCatalogChoices = 1000

// catalogShell starts a catalogue page: the vendor's shell and the view.
func (h *Handler) catalogShell(w http.ResponseWriter, r *http.Request, s *Session, path string, f *Form) (*catalogView, error) {
	sh, activity, err := h.vendorShell(w, r, s, path)
	if err != nil {
		return nil, err
	}
	return &catalogView{Shell: sh, Activity: activity, Form: f}, nil
}

func (h *Handler) catalogPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(url.Values{"term": {string(smartlic.TermPerpetual)}, "enforcement": {string(smartlic.Unenforced)}})
	return h.renderLicenseTypes(w, r, s, http.StatusOK, f)
}

func (h *Handler) renderLicenseTypes(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	v, err := h.catalogShell(w, r, s, "/vendor/catalog", f)
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	var next string
	if v.LicenseTypes, next, err = h.svc.ListLicenseTypes(r.Context(), smartlic.Page{Limit: catalogPerPage, After: after}); err != nil {
		return err
	}
	v.Pager = pager(r, after, next)
	v.Term = choose(f, "term", "Term", "Perpetual licenses never end; subscriptions are deposited with an end date.", []option{
		{Value: string(smartlic.TermPerpetual), Label: "Perpetual"}, {Value: string(smartlic.TermSubscription), Label: "Subscription"}})
	v.Enforcement = choose(f, "enforcement", "Enforcement", "Unenforced licenses may be over-consumed and are trued up later.", []option{
		{Value: string(smartlic.Unenforced), Label: "Unenforced"}, {Value: string(smartlic.Enforced), Label: "Enforced"},
		{Value: string(smartlic.ExportControlled), Label: "Export-controlled"}})
	return h.render(w, r, status, "vendor_license_types", v)
}

func (h *Handler) productsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderProducts(w, r, s, http.StatusOK, newForm(nil))
}

func (h *Handler) renderProducts(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	v, err := h.catalogShell(w, r, s, "/vendor/catalog/products", f)
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	var next string
	if v.Products, next, err = h.svc.ListProducts(r.Context(), smartlic.Page{Limit: catalogPerPage, After: after}); err != nil {
		return err
	}
	v.Pager = pager(r, after, next)
	all, err := h.allLicenseTypes(r)
	if err != nil {
		return err
	}
	v.ProductLicenses = productLicenses(f, all)
	return h.render(w, r, status, "vendor_products", v)
}

func (h *Handler) skusPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderSKUs(w, r, s, http.StatusOK, newForm(url.Values{"ratio": {"1"}}))
}

func (h *Handler) renderSKUs(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	v, err := h.catalogShell(w, r, s, "/vendor/catalog/skus", f)
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	var next string
	if v.SKUs, next, err = h.svc.ListClassicSKUs(r.Context(), smartlic.Page{Limit: catalogPerPage, After: after}); err != nil {
		return err
	}
	v.Pager = pager(r, after, next)
	all, err := h.allLicenseTypes(r)
	if err != nil {
		return err
	}
	v.SKULicense = choose(f, "license", "Converts to", "The smart license type one classic unit becomes; none if it has no smart equivalent.",
		append([]option{{Value: "", Label: "No smart equivalent"}}, licenseOptions(all)...))
	return h.render(w, r, status, "vendor_skus", v)
}

// allLicenseTypes loads the catalogue's license types for a choice.
func (h *Handler) allLicenseTypes(r *http.Request) ([]smartlic.LicenseType, error) {
	return allPages(maxCatalogChoices, func(p smartlic.Page) ([]smartlic.LicenseType, string, error) {
		return h.svc.ListLicenseTypes(r.Context(), p)
	})
}

// licenseOptions offers license types by name, their tag as the value.
func licenseOptions(types []smartlic.LicenseType) []option {
	out := make([]option, 0, len(types))
	for _, t := range types {
		out = append(out, option{Value: t.Tag, Label: t.Name + " (" + t.Tag + ")"})
	}
	return out
}

// checkGroup is the "checkGroup" partial: checkboxes sharing one input
// name (a product's license types), in a fieldset with its error.
type checkGroup struct {
	Name, Legend, Hint, Error string
	Options                   []option
}

func checks(f *Form, name, legend, hint string, opts []option) checkGroup {
	g := checkGroup{Name: name, Legend: legend, Hint: hint, Error: f.Errors[name]}
	for _, o := range opts {
		o.Selected = slices.Contains(f.Values[name], o.Value)
		g.Options = append(g.Options, o)
	}
	return g
}

// productLicenses is the checkbox group of a product form.
func productLicenses(f *Form, all []smartlic.LicenseType) checkGroup {
	return checks(f, "license_types", "License types it may consume", "An instance of this product may only report these.", licenseOptions(all))
}

func (h *Handler) createLicenseType(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	lt := smartlic.LicenseType{
		Tag: strings.TrimSpace(f.Get("tag")), Name: strings.TrimSpace(f.Get("name")), Description: strings.TrimSpace(f.Get("description")),
		Term: smartlic.Term(f.Get("term")), Enforcement: smartlic.Enforcement(f.Get("enforcement")),
	}
	created, err := h.svc.CreateLicenseType(r.Context(), lt)
	if f.Bind(err) || bindConflict(f, err, "tag") {
		return h.renderLicenseTypes(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/catalog", "License type “"+created.Name+"” ("+created.Tag+") added to the catalogue.")
}

// bindConflict shows a conflict (a tag, PID or SKU that exists already)
// beside the input that names it.
func bindConflict(f *Form, err error, input string) bool {
	if smartlic.ErrorCode(err) != smartlic.EConflict {
		return false
	}
	f.Errors[input] = smartlic.ErrorMessage(err)
	return true
}

func (h *Handler) deleteLicenseType(w http.ResponseWriter, r *http.Request, s *Session) error {
	tag := r.PathValue("tag")
	if err := h.svc.DeleteLicenseType(r.Context(), tag); err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/catalog", "License type "+tag+" deleted.")
}

func (h *Handler) createProduct(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	p := smartlic.Product{PID: strings.TrimSpace(f.Get("pid")), Name: strings.TrimSpace(f.Get("name")),
		Description: strings.TrimSpace(f.Get("description")), LicenseTypes: f.Values["license_types"]}
	created, err := h.svc.CreateProduct(r.Context(), p)
	if bindAs(f, err, "license_types", "license_types") || f.Bind(err) || bindConflict(f, err, "pid") {
		return h.renderProducts(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/catalog/products", "Product “"+created.Name+"” ("+created.PID+") added to the catalogue.")
}

// productView is one product's edit page: name, description and the
// license types it may consume (what UpdateProduct changes).
type productView struct {
	Shell
	Activity []smartlic.Event
	Product  smartlic.Product
	Form     *Form
	Licenses checkGroup
	// Permanent says the vendor enabled Permanent License Reservation
	// for the product.
	Permanent bool
}

func (h *Handler) productPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderProduct(w, r, s, http.StatusOK, nil)
}

func (h *Handler) renderProduct(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sh, activity, err := h.vendorShell(w, r, s, "/vendor/catalog/products")
	if err != nil {
		return err
	}
	p, err := h.svc.GetProduct(r.Context(), r.PathValue("pid"))
	if err != nil {
		return err
	}
	if f == nil {
		f = newForm(url.Values{"name": {p.Name}, "description": {p.Description}, "license_types": p.LicenseTypes})
	}
	all, err := h.allLicenseTypes(r)
	if err != nil {
		return err
	}
	sh.Title = p.Name + " · Products"
	sh.Crumbs = append(sh.Crumbs[:1], NavLink{Label: "Products", Path: "/vendor/catalog/products"}, NavLink{Label: p.PID, Current: true})
	plr, err := h.svc.ReservationSettingsOfProduct(r.Context(), p.PID)
	if err != nil {
		return err
	}
	return h.render(w, r, status, "vendor_product", &productView{Shell: sh, Activity: activity, Product: p, Form: f, Licenses: productLicenses(f, all), Permanent: plr.Permanent})
}

func (h *Handler) updateProduct(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	name, desc := strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("description"))
	types := f.Values["license_types"]
	if types == nil {
		types = []string{}
	}
	p, err := h.svc.UpdateProduct(r.Context(), r.PathValue("pid"), smartlic.ProductUpdate{Name: &name, Description: &desc, LicenseTypes: &types})
	if bindAs(f, err, "license_types", "license_types") || f.Bind(err) {
		return h.renderProduct(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/catalog/products", "Product “"+p.Name+"” ("+p.PID+") saved.")
}

func (h *Handler) deleteProduct(w http.ResponseWriter, r *http.Request, s *Session) error {
	pid := r.PathValue("pid")
	if err := h.svc.DeleteProduct(r.Context(), pid); err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/catalog/products", "Product "+pid+" deleted.")
}

func (h *Handler) createSKU(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.ClassicSKUInput{SKU: strings.TrimSpace(f.Get("sku")), Description: strings.TrimSpace(f.Get("description")),
		License: f.Get("license"), Ratio: f.Int("ratio"), TermDays: int(f.Int("term_days"))}
	if len(f.Errors) > 0 {
		return h.renderSKUs(w, r, s, http.StatusBadRequest, f)
	}
	created, err := h.svc.CreateClassicSKU(r.Context(), in)
	if f.Bind(err) || bindConflict(f, err, "sku") {
		return h.renderSKUs(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/catalog/skus", "Classic SKU "+created.SKU+" added to the catalogue.")
}

func (h *Handler) deleteSKU(w http.ResponseWriter, r *http.Request, s *Session) error {
	sku := r.PathValue("sku")
	if err := h.svc.DeleteClassicSKU(r.Context(), sku); err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/catalog/skus", "Classic SKU "+sku+" deleted: its PAKs stay, their unconverted units no longer convert.")
}
