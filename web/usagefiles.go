package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
)

// usageFilesView is the Usage data files page of a Smart Account: upload
// a usage file that products saved offline and get the ACK file they
// import; the earlier uploads with their ACK files; and offline trust-code
// files for products that never reach the manager.
type usageFilesView struct {
	Shell
	Form      *Form // the upload
	TrustForm *Form // the trust-code file
	VA        selectView
	Uploads   []smartlic.UsageUpload
	Pager     Pager
	ListNote  string // why the uploads are not listed
	MaxMiB    int    // the largest upload, in MiB
}

// usageUploadView is the result of one upload: the summary, each rejected
// report or trust request with its reason, and the ACK file to download.
type usageUploadView struct {
	Shell
	Ack     smartlic.AckFile
	AckPath string
}

const usageUploadsPerPage = 25

// maxUploadMemory is how much of an upload is kept in memory; the rest of
// a large file waits in a temporary file until the request ends.
const maxUploadMemory = 1 << 20

func (h *Handler) usageFileRoutes() {
	h.page("GET /sa/{sa}/usage-files", func(w http.ResponseWriter, r *http.Request, s *Session) error {
		return h.renderUsageFiles(w, r, s, http.StatusOK, newForm(nil), newForm(nil))
	})
	h.pageReading("POST /sa/{sa}/usage-files", parseUpload, h.uploadUsageFile, h.uploadUnread)
	h.page("POST /sa/{sa}/usage-files/trust-file", h.generateTrustFile)
	h.page("GET /sa/{sa}/usage-files/{id}", h.usageUploadPage)
	h.page("GET /sa/{sa}/usage-files/{id}/ack", h.downloadUsageAck)
}

func usageFilesPath(sa string) string { return saPath(sa) + "/usage-files" }

// parseUpload reads the upload form: multipart/form-data, the usage file
// at most smartlic.MaxUsageFileBytes as the API takes it, plus the few
// bytes of the form's other fields.
func parseUpload(w http.ResponseWriter, r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return smartlic.Errorf(smartlic.EUnsupportedMT, "", "this form uploads a file: it is sent as multipart/form-data, not %q", r.Header.Get("Content-Type"))
	}
	r.Body = http.MaxBytesReader(w, r.Body, smartlic.MaxUsageFileBytes+maxFormBytes)
	if err := r.ParseMultipartForm(maxUploadMemory); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return smartlic.Errorf(smartlic.ETooLarge, "file", "the usage file is larger than %d bytes (%d MiB), the most one upload takes; save it in parts (a device saves at most %d reports per file)",
				smartlic.MaxUsageFileBytes, smartlic.MaxUsageFileBytes>>20, smartlic.MaxReportsPerFile)
		}
		return smartlic.Invalid("file", "the upload could not be read: %v", err)
	}
	return httpapi.CheckValues(r.PostForm, smartlic.ValidateText)
}

func (h *Handler) renderUsageFiles(w http.ResponseWriter, r *http.Request, s *Session, status int, f, trust *Form) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	sh.Title = "Usage data files · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Usage data files", Current: true})
	v := &usageFilesView{Shell: sh, Form: f, TrustForm: trust, MaxMiB: smartlic.MaxUsageFileBytes >> 20}
	vas := vaOptions(sh.Tree, 0)
	if trust.Get("va") == "" {
		va := r.URL.Query().Get("va")
		if va == "" && len(vas) > 0 {
			va = vas[0].Value
		}
		trust.Values.Set("va", va)
	}
	v.VA = choose(trust, "va", "Virtual Account", "The products are trusted in this Virtual Account: their usage counts in its pools.", vas)
	after := r.URL.Query().Get("after")
	list, next, err := h.svc.ListUsageUploads(r.Context(), sh.SA.Domain, smartlic.Page{Limit: usageUploadsPerPage, After: after})
	switch smartlic.ErrorCode(err) {
	case "":
		v.Uploads, v.Pager = list, pager(r, after, next)
	case smartlic.EForbidden:
		// A VA role sees no account-wide uploads but may still generate
		// trust-code files for its Virtual Accounts.
		v.ListNote = smartlic.ErrorMessage(err)
	default:
		return err
	}
	return h.render(w, r, status, "usage-files", v)
}

// bindUsageError puts a refusal of the file itself (too large, malformed,
// of another Smart Account, …) beside the file input, and reports whether
// it did; a refusal of the caller (forbidden, not found) or an internal
// error is the error page's.
func bindUsageError(f *Form, input string, err error) bool {
	var e *smartlic.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case smartlic.EInternal, smartlic.ENotFound, smartlic.EUnauthorized:
		return false
	case smartlic.EForbidden:
		if e.Field == "" {
			return false
		}
	}
	msg := e.Message
	if e.Field != "" && e.Field != input && e.Field != "file" {
		msg = e.Field + ": " + msg
	}
	f.Errors[input] = msg
	return true
}

// uploadUsageFile ingests the uploaded file through the same service call
// as the API (POST /api/v1/accounts/{sa}/usage-files) and shows the
// result, whose ACK file the products import.
func (h *Handler) uploadUsageFile(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	f := newForm(r.PostForm)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		f.Errors["file"] = "choose the usage file a product saved (license smart save usage FILE)"
		return h.renderUsageFiles(w, r, s, http.StatusBadRequest, f, newForm(nil))
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, smartlic.MaxUsageFileBytes+1))
	if err != nil {
		return smartlic.Invalid("file", "the upload could not be read: %v", err)
	}
	var name string
	if base := path.Base(strings.ReplaceAll(hdr.Filename, `\`, "/")); smartlic.ValidateName("file_name", base, 200) == nil {
		name = base // else the service's default: a browser's file name is only a label
	}
	var ack smartlic.AckFile
	if len(data) > smartlic.MaxUsageFileBytes {
		err = smartlic.Errorf(smartlic.ETooLarge, "file", "the usage file is larger than %d bytes (%d MiB), the most one upload takes", smartlic.MaxUsageFileBytes, smartlic.MaxUsageFileBytes>>20)
	} else {
		ack, err = h.svc.UploadUsageFile(r.Context(), sa, name, data)
	}
	if bindUsageError(f, "file", err) {
		return h.renderUsageFiles(w, r, s, httpapi.StatusOf(smartlic.ErrorCode(err)), f, newForm(nil))
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Usage file uploaded: %d of %d reports accepted", ack.Summary.Accepted, ack.Summary.Reports)
	if ack.Summary.Rejected > 0 {
		msg += fmt.Sprintf(", %d rejected (listed below)", ack.Summary.Rejected)
	}
	return redirectWithFlash(w, r, usageFilesPath(sa)+"/"+url.PathEscape(ack.UploadID), msg+". Download the ACK file and import it on the products.")
}

// uploadUnread shows an upload whose body could not be read as a form
// (a file over the limit, above all) on the upload page, the refusal
// beside the file input. It only renders: the form's CSRF token was not
// read.
func (h *Handler) uploadUnread(w http.ResponseWriter, r *http.Request, s *Session, err error) error {
	f := newForm(nil)
	if !bindUsageError(f, "file", err) {
		return err
	}
	return h.renderUsageFiles(w, r, s, httpapi.StatusOf(smartlic.ErrorCode(err)), f, newForm(nil))
}

func (h *Handler) usageUploadPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	ack, err := h.svc.GetUsageUploadAck(r.Context(), sh.SA.Domain, r.PathValue("id"))
	if err != nil {
		return err
	}
	sh.Title = "Usage file upload · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Usage data files", Path: usageFilesPath(sh.SA.Domain)}, NavLink{Label: "Upload " + ack.IssuedAt.UTC().Format("2006-01-02 15:04"), Current: true})
	return h.render(w, r, http.StatusOK, "usage-upload", &usageUploadView{Shell: sh, Ack: ack,
		AckPath: usageFilesPath(sh.SA.Domain) + "/" + url.PathEscape(ack.UploadID) + "/ack"})
}

// downloadUsageAck answers an upload's ACK file as the file the products
// import (the API's GET …/usage-files/{upload}/ack).
func (h *Handler) downloadUsageAck(w http.ResponseWriter, r *http.Request, s *Session) error {
	ack, err := h.svc.GetUsageUploadAck(r.Context(), r.PathValue("sa"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONFile(w, "ack-"+ack.UploadID+".json", ack)
}

// generateTrustFile issues offline trust codes for the UDIs typed or
// pasted into the form (the API's POST …/trust-files) and answers the
// trust file as a download. Each new file replaces the trust codes an
// earlier one gave the same UDIs, so it is not kept to download again.
func (h *Handler) generateTrustFile(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	f := newForm(r.PostForm)
	udis, err := parseUDIList(f.Get("udis"))
	if err == nil {
		var tf smartlic.TrustFile
		if tf, err = h.svc.GenerateTrustFile(r.Context(), sa, f.Get("va"), udis); err == nil {
			return writeJSONFile(w, "trust-"+fileSafe(tf.VirtualAccount)+".json", tf)
		}
	}
	var e *smartlic.Error
	switch {
	case errors.As(err, &e) && e.Code == smartlic.EInvalid && e.Field == "udis":
		f.Errors["udis"] = e.Message
	case errors.As(err, &e) && e.Code == smartlic.EInvalid && strings.HasPrefix(e.Field, "udis["):
		// udis[i]: the (i+1)th UDI of the list, as the person counts.
		var i int
		fmt.Sscanf(e.Field, "udis[%d]", &i)
		f.Errors["udis"] = fmt.Sprintf("UDI %d: %s", i+1, e.Message)
	case errors.As(err, &e) && e.Code == smartlic.ENotFound && e.Field == "va":
		f.Errors["va"] = e.Message
	case f.Bind(err):
	default:
		return err
	}
	return h.renderUsageFiles(w, r, s, httpapi.StatusOf(smartlic.ErrorCode(err)), newForm(nil), f)
}

// parseUDIList reads UDIs (PID:SN) one per line, or separated by spaces
// or commas, as they are copied from a spreadsheet or `show license udi`.
func parseUDIList(s string) ([]smartlic.UDI, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(fields) == 0 {
		return nil, smartlic.Invalid("udis", "list at least one UDI (PID:SN), one per line")
	}
	if len(fields) > smartlic.MaxTrustCodesPerFile {
		return nil, smartlic.Invalid("udis", "at most %d UDIs per trust file (got %d)", smartlic.MaxTrustCodesPerFile, len(fields))
	}
	out := make([]smartlic.UDI, len(fields))
	for i, u := range fields {
		udi, err := smartlic.ParseUDI("udis", u)
		if err != nil {
			return nil, smartlic.Invalid("udis", "UDI %d (%q): %s", i+1, clip(u), smartlic.ErrorMessage(err))
		}
		out[i] = udi
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// fileSafe makes a VA name part of a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
}

// writeJSONFile answers v as a JSON file to save, in the form the CLI
// writes (indented, a final newline), which a device imports as it is.
func writeJSONFile(w http.ResponseWriter, filename string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return smartlic.Internal(err, "encoding the file")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(append(b, '\n'))
	return err
}
