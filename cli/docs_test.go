package cli

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestCLIDocsCoverEveryCommand: docs/cli.md's map names every command
// smartlic has, and each has a usage line in a section below, so a newcomer
// reading it finds them all.
func TestCLIDocsCoverEveryCommand(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	_, list, ok := strings.Cut(out.String(), "Available Commands:\n")
	if !ok {
		t.Fatalf("no command list in:\n%s", out.String())
	}
	var commands []string
	for _, line := range strings.Split(list, "\n") {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		if name := strings.Fields(line)[0]; name != "help" && name != "completion" {
			commands = append(commands, name)
		}
	}
	if len(commands) < 10 {
		t.Fatalf("commands = %v", commands)
	}

	raw, err := os.ReadFile("../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	top, _, _ := strings.Cut(doc, "\nExit status")
	for _, c := range commands {
		if !strings.Contains(top, "`"+c+"`") {
			t.Errorf("docs/cli.md's command table lacks `%s`", c)
		}
		usage := regexp.MustCompile(`(?m)^(smartlic )?` + regexp.QuoteMeta(c) + `( |$)`)
		if !usage.MatchString(doc) {
			t.Errorf("docs/cli.md has no usage line starting with %q", c)
		}
	}
}
