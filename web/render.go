package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// Templates: templates/layout.html is the page around every page,
// templates/partials/*.html define what repeats (the VA tree, a form
// field, the pager, the flash), and templates/pages/NAME.html is the page
// NAME, defining "content". Each page is parsed with the layout and the
// partials once, at start-up.
//
//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type templates struct {
	pages map[string]*template.Template
}

func parseTemplates(own template.FuncMap) (*templates, error) {
	base, err := template.New("layout.html").Funcs(funcs).Funcs(own).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		clone, err := base.Clone()
		if err != nil {
			return nil, err
		}
		p, err := clone.ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		t.pages[strings.TrimSuffix(path.Base(n), ".html")] = p
	}
	return t, nil
}

// render writes page name with data. The page is executed into a buffer
// first, so a template error is a clean 500 page rather than half a page.
// Every page is private to whoever is signed in: no caching.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	t, ok := h.tmpl.pages[name]
	if !ok {
		return smartlic.Internal(fmt.Errorf("no template %q", name), "rendering the page")
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		return smartlic.Internal(err, "rendering the page")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(b.Bytes())
	return err
}

// staticHandler serves the embedded CSS, JavaScript and images under
// /static/. They change only with the binary.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// funcs are the template functions every page may use.
var funcs = template.FuncMap{
	// time renders t as <time> in UTC; static/app.js rewrites it into the
	// reader's time zone.
	"time": func(t any) template.HTML {
		var tm time.Time
		switch v := t.(type) {
		case time.Time:
			tm = v
		case *time.Time:
			if v == nil {
				return ""
			}
			tm = *v
		default:
			return ""
		}
		tm = tm.UTC()
		return template.HTML(`<time datetime="` + tm.Format(time.RFC3339) + `">` +
			template.HTMLEscapeString(tm.Format("2006-01-02 15:04 UTC")) + `</time>`)
	},
	// field describes one form input for the "field" partial:
	// field .Form "description" "Description" "text" "hint".
	"field": func(f *Form, name, label, kind string, hint ...string) fieldView {
		// Ids without dots (classes.enforced.first_report_days), which a CSS
		// selector would read as classes.
		v := fieldView{Name: name, Label: label, Kind: kind, ID: "f-" + strings.ReplaceAll(name, ".", "-")}
		if f != nil {
			v.Value, v.Error = f.Get(name), f.Errors[name]
		}
		if len(hint) > 0 {
			v.Hint = hint[0]
		}
		return v
	},
	"formError": func(f *Form) string {
		if f == nil {
			return ""
		}
		return f.Errors[""]
	},
	"vaSelect":  vaSelect,
	"add":       func(a, b int) int { return a + b },
	"hasPrefix": strings.HasPrefix,
	"deref": func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	},
	"title": func(s string) string {
		s = strings.ReplaceAll(s, "_", " ")
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
}

// fieldView is one labelled input with its error and hint.
type fieldView struct {
	ID, Name, Label, Kind, Value, Error, Hint string
}
