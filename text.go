package smartlic

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Text rules. Every string that comes from outside (a JSON body, a path or
// query parameter, a form value) passes ValidateText at the edge, so that
// both stores see the same input: PostgreSQL refuses NUL and invalid UTF-8
// in text columns (an internal error) where SQLite stores them, and a
// check in one place answers both the same coded 400 instead.

// ValidateText checks a string from outside: valid UTF-8 and no NUL. It
// allows every other character, so free text (descriptions, messages,
// passwords) may hold line breaks and tabs.
func ValidateText(field, s string) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "must be valid UTF-8")
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return Invalid(field, "must not contain NUL characters (U+0000)")
		}
	}
	return nil
}

// ValidateIdentifier checks a string that names or addresses something (a
// path parameter, a query filter, a name): ValidateText, and no control
// characters or invisible formatting characters, which would make two
// different names look the same on a screen or a log line.
func ValidateIdentifier(field, s string) error {
	if err := ValidateText(field, s); err != nil {
		return err
	}
	return checkVisible(field, s)
}

// checkVisible refuses control characters (C0, DEL, C1), line and paragraph
// separators, and format characters (bidi overrides and isolates,
// zero-width spaces and joiners, the byte order mark, soft hyphens): a
// name holding them reads differently from what it is, the trick of
// "Trojan Source" and look-alike names. s must be valid UTF-8.
func checkVisible(field, s string) error {
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			// Printable ASCII, nearly every identifier's every character,
			// is none of the below; the Unicode tables are searched for
			// the rest only.
		case unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return Invalid(field, "must not contain control characters (found %s)", codePoint(r))
		case unicode.Is(unicode.Cf, r):
			return Invalid(field, "must not contain invisible formatting characters such as bidi overrides or zero-width spaces (found %s)", codePoint(r))
		}
	}
	return nil
}

func codePoint(r rune) string { return fmt.Sprintf("U+%04X", r) }
