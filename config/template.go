package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"gopkg.in/yaml.v3"
)

// Template is the commented starter configuration with no migration
// directory and no known runner.
func Template() string { return TemplateFor("", nil) }

// TemplateFor is the starter configuration for a project whose migrations
// a runner applies ("" when unknown) and which lives in migs.
func TemplateFor(runner string, migs []Migrations) string {
	var b strings.Builder
	b.WriteString(`# bgmigrate configuration: https://github.com/bgmigrate/bgmigrate
# Command-line flags beat the values here. Unknown keys are errors.
# yaml-language-server: $schema=https://raw.githubusercontent.com/bgmigrate/bgmigrate/main/config/schema.json
version: 1

# PostgreSQL major version the migrations run on (9 to 18).
pg_version: 15

# Lowest severity that makes "bgmigrate lint" exit 1: error, warning, info or none.
fail_on: error

`)
	if runner == "" {
		b.WriteString(`# The tool that applies the migrations: bgmigrate, goose, golang-migrate, flyway,
# dbmate, diesel, prisma, psql or other. With bgmigrate, which sets lock_timeout
# and statement_timeout itself, the rules requiring them are turned off.
runner: other
`)
	} else {
		fmt.Fprintf(&b, `# The tool that applies the migrations (detected): bgmigrate, goose,
# golang-migrate, flyway, dbmate, diesel, prisma, psql or other. With bgmigrate,
# which sets lock_timeout and statement_timeout itself, the rules requiring them
# are turned off.
runner: %s
`, runner)
	}
	b.WriteString(`
# Treat plain .sql files as run inside one transaction.
assume_in_transaction: false

# Also run the opt-in style rules (prefer-text-field, prefer-identity, ...).
style: false

# Turn rules on or off and change their severity; "bgmigrate rules" lists them.
# rules:
#   enable: [prefer-text-field]
#   disable: [unbatched-backfill]
#   severity:
#     ban-drop-column: error

# Migrations left out, as globs relative to this file (** for any depth).
# exclude:
#   - "db/migrations/legacy/**"

`)
	if len(migs) == 0 {
		b.WriteString(`# Migration directories, relative to this file; format is one of
# ` + formatNames() + ` (auto detects it per file).
# migrations:
#   - dir: db/migrations
#     format: auto
`)
	} else {
		b.WriteString(`# Migration directories, relative to this file; format is one of
# ` + formatNames() + ` (auto detects it per file).
# A directory may set its own pg_version.
migrations:
`)
		for _, m := range migs {
			format := m.Format
			if format == "" {
				format = parser.FormatAuto
			}
			fmt.Fprintf(&b, "  - dir: %s\n    format: %s\n", quote(m.Dir), format)
			if m.PGVersion != 0 {
				fmt.Fprintf(&b, "    pg_version: %d\n", m.PGVersion)
			}
		}
	}
	b.WriteString(`
# What earlier releases stopped reading, for the release-aware rules: dropping
# a table or column is safe once a deployed release no longer uses it.
# releases:
#   - name: "2026.11"
#     stopped_using: ["users.legacy_flag"]

# Blue-green releases with "bgmigrate deploy": every key is described in
# https://github.com/bgmigrate/bgmigrate/blob/main/docs/deploy.md
# ${VAR} in database_url, switcher, the colors' url and gate.dev_url is read
# from the environment.
# deploy:
#   service: app
#   switcher: haproxy:///run/haproxy/admin.sock?map=/etc/haproxy/color.map&key=app&blue=app_blue&green=app_green
#   blue:
#     url: http://127.0.0.1:8081
#   green:
#     url: http://127.0.0.1:8082
#   hooks:
#     deploy: [/usr/local/bin/deploy-app, "{color}", "{version}"]
#   readiness:
#     path: /healthz
`)
	return b.String()
}

func formatNames() string {
	var names []string
	for _, f := range parser.Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// quote writes a directory as a YAML string, quoted when plain YAML would
// read it as something else.
func quote(s string) string {
	var doc yaml.Node
	if yaml.Unmarshal([]byte("k: "+s), &doc) == nil && len(doc.Content) == 1 {
		if v := child(doc.Content[0], "k"); v != nil && v.Tag == "!!str" && v.Value == s && v.Style == 0 {
			return s
		}
	}
	return strconv.Quote(s)
}

// Detect finds the migration directories below root (the directories of
// parser.Collect's sets, as slash paths relative to root) with the format
// their files share (auto when they differ), and the runner those formats
// point to ("" when they do not name one tool).
func Detect(root string) (migs []Migrations, runner string, err error) {
	sets, err := parser.Collect([]string{root})
	if err != nil {
		return nil, "", err
	}
	tools := map[parser.Format]bool{}
	for _, s := range sets {
		rel, err := filepath.Rel(root, filepath.FromSlash(s.Dir))
		if err != nil {
			return nil, "", err
		}
		var formats []parser.Format
		for _, f := range s.Files {
			src, err := os.ReadFile(f)
			if err != nil {
				return nil, "", fmt.Errorf("read %s: %w", f, err)
			}
			if ft := parser.DetectFormat(f, string(src)); !slices.Contains(formats, ft) {
				formats = append(formats, ft)
			}
		}
		m := Migrations{Dir: filepath.ToSlash(rel), Format: parser.FormatAuto}
		if len(formats) == 1 {
			m.Format = formats[0]
		}
		tools[m.Format] = true
		migs = append(migs, m)
	}
	if len(tools) == 1 {
		for f := range tools {
			if f != parser.FormatAuto && f != parser.FormatPlain && slices.Contains(Runners, string(f)) {
				runner = string(f)
			}
		}
	}
	return migs, runner, nil
}
