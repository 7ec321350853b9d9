package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// version is the release's version, set by the release build (see
// .goreleaser.yaml and the Dockerfile):
//
//	go build -ldflags "-X github.com/bgmigrate/bgmigrate/internal/cli.version=v1.2.3"
//
// Empty otherwise: the main module's version from the build info is used
// then (v1.2.3 after go install ...@v1.2.3, "(devel)" in a checkout).
var version string

// pgQueryModule is the module path of pg_query_go without its major
// version suffix.
const pgQueryModule = "github.com/pganalyze/pg_query_go"

// pgGrammars maps pg_query_go's major version to the major version of the
// PostgreSQL parser it compiles (libpg_query's release numbers start with
// it: 16-5.1.0 for pg_query_go v5.1.0). TestVersionOfBuiltBinary
// checks the linked one against the header it ships.
var pgGrammars = map[int]string{1: "10", 2: "13", 4: "15", 5: "16", 6: "17"}

// VersionInfo is what bgmigrate version prints: the build, and the
// PostgreSQL grammar lint and split parse with.
type VersionInfo struct {
	Version string `json:"version"`
	// Commit, CommitTime and Modified come from the VCS stamp of the build
	// (absent with -buildvcs=false, in go run and after go install).
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified"`
	GoVersion  string `json:"go_version"`
	Platform   string `json:"platform"`
	// PgQuery is the version of the pg_query_go module linked in.
	PgQuery string `json:"pg_query_version"`
	// PostgresGrammar is the PostgreSQL major version whose grammar
	// pg_query parses.
	PostgresGrammar string `json:"postgres_grammar"`
}

// VersionOptions are the flags of bgmigrate version.
type VersionOptions struct {
	IO     *IOStreams
	Format string
	// BuildInfo reads the binary's build info (debug.ReadBuildInfo in
	// production).
	BuildInfo func() (*debug.BuildInfo, bool)
}

func newCmdVersion(s *IOStreams) *cobra.Command {
	opts := &VersionOptions{IO: s, BuildInfo: debug.ReadBuildInfo}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print bgmigrate's version, commit, Go version and the PostgreSQL grammar it parses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return versionRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	return cmd
}

func versionRun(opts *VersionOptions) error {
	if opts.Format != "text" && opts.Format != "json" {
		return usageError("--format %q: want text or json", opts.Format)
	}
	bi, _ := opts.BuildInfo()
	info := ReadVersion(bi, version)
	if opts.Format == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	return info.Print(opts.IO.Out)
}

// ReadVersion builds the VersionInfo of a binary from its build info (nil
// when it has none) and the version its release build set (empty when
// none did).
func ReadVersion(bi *debug.BuildInfo, release string) VersionInfo {
	info := VersionInfo{
		Version:         release,
		GoVersion:       runtime.Version(),
		Platform:        runtime.GOOS + "/" + runtime.GOARCH,
		PgQuery:         "unknown",
		PostgresGrammar: "unknown",
	}
	if bi == nil {
		if info.Version == "" {
			info.Version = "unknown"
		}
		return info
	}
	if info.Version == "" {
		info.Version = bi.Main.Version
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.CommitTime = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		info.Platform = goos + "/" + goarch
	}
	for _, d := range bi.Deps {
		major, ok := pgQueryMajor(d.Path)
		if !ok {
			continue
		}
		if d.Replace != nil && d.Replace.Version != "" {
			d = d.Replace
		}
		info.PgQuery = d.Version
		if g, ok := pgGrammars[major]; ok {
			info.PostgresGrammar = g
		}
		break
	}
	return info
}

// pgQueryMajor returns the major version of a pg_query_go module path
// (github.com/pganalyze/pg_query_go/v5 is 5, the path without a suffix 1).
func pgQueryMajor(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, pgQueryModule)
	switch {
	case !ok:
		return 0, false
	case rest == "":
		return 1, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(rest, "/v"))
	if err != nil || !strings.HasPrefix(rest, "/v") {
		return 0, false
	}
	return n, true
}

// Print writes the text form of the version:
//
//	bgmigrate v1.2.3
//	commit    0123456789ab (2026-11-20T10:00:00Z, modified)
//	go        go1.26.8 linux/amd64
//	pg_query  v5.1.0 (PostgreSQL 16 grammar)
func (v VersionInfo) Print(w io.Writer) error {
	commit := "unknown"
	if v.Commit != "" {
		commit = v.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		var notes []string
		if v.CommitTime != "" {
			notes = append(notes, v.CommitTime)
		}
		if v.Modified {
			notes = append(notes, "modified")
		}
		if len(notes) > 0 {
			commit += " (" + strings.Join(notes, ", ") + ")"
		}
	}
	_, err := fmt.Fprintf(w, "bgmigrate %s\ncommit    %s\ngo        %s %s\npg_query  %s (PostgreSQL %s grammar)\n",
		v.Version, commit, v.GoVersion, v.Platform, v.PgQuery, v.PostgresGrammar)
	return err
}
