// Package runner applies migrations to a real database, phase by phase:
// it plans the work as data (what runs, in which transaction, with which
// lock and class), then executes the plan with pgx under an advisory lock,
// with lock_timeout and retries, recording every migration in history.
package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/bgmigrate/bgmigrate/lint"
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/rules"
)

// Phase selects which migrations a run applies.
type Phase string

const (
	PhaseExpand   Phase = "expand"
	PhaseContract Phase = "contract"
	PhaseAll      Phase = "all"
)

// ParsePhase reads expand, contract or all.
func ParsePhase(s string) (Phase, error) {
	switch Phase(s) {
	case PhaseExpand, PhaseContract, PhaseAll:
		return Phase(s), nil
	}
	return "", fmt.Errorf("unknown phase %q (want expand, contract or all)", s)
}

// Migration is one migration file of a directory.
type Migration struct {
	Version  string
	Name     string
	Path     string
	Checksum string
	Class    phases.Class
	File     *parser.File
	Findings []rules.Finding // unsuppressed error findings
	// Sized are its unsuppressed findings that carry their table's size
	// and estimated lock duration (rules.Config.Tables), any severity.
	Sized []rules.Finding
	Units []Unit
	// Notes say what the runner does differently from the file (a SET
	// lock_timeout it leaves out: it sets the timeouts itself).
	Notes []string
	// Neutral: every statement of the file changes nothing the old color
	// sees (VALIDATE CONSTRAINT, a relaxing DROP CONSTRAINT, ANALYZE…), so
	// it runs in whichever phase reaches it.
	Neutral bool
}

// Unit is what runs as one: a transaction of several statements, or one
// statement that cannot run inside a transaction block.
type Unit struct {
	Tx    bool
	Steps []Step
}

// Hash identifies the statements of a unit: a rerun resumes after the
// units an earlier run finished only while their statements are the same.
func (u Unit) Hash() string {
	h := sha256.New()
	for _, s := range u.Steps {
		h.Write([]byte(s.SQL))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Step is one statement.
type Step struct {
	SQL   string
	Line  int
	Tag   string
	Class phases.Class
	Lock  phases.Lock
	Table string
	// Rewrite and Scan are lint's prediction that the statement rewrites
	// or scans Table.
	Rewrite, Scan bool
	// NonTx statements run alone in autocommit mode.
	NonTx bool
	// Index and IndexTable are set for CREATE INDEX CONCURRENTLY: an
	// INVALID index left by a failed build is dropped and built again.
	Index      string
	IndexTable parser.QName
	// Backfill, when set, runs an UPDATE in primary-key batches.
	Backfill *Backfill
}

// Backfill is a batched UPDATE declared with -- bgmigrate:backfill.
type Backfill struct {
	Table string
	Batch int
	Sleep string
}

// LoadOptions say which migrations to load and how to lint them.
type LoadOptions struct {
	// Dirs are the migration directories.
	Dirs []string
	// Rules configure the lint; the timeout rules are always off (the
	// runner sets lock_timeout and statement_timeout itself).
	Rules rules.Config
	// Exclude leaves out the files it returns true for; PerFile gives a
	// file's tool format and PostgreSQL version (see lint.Options).
	Exclude func(path string) bool
	PerFile func(path string) (parser.Format, int)
}

// Load reads the migrations of a directory in the order their tool applies
// them, lints them and groups their statements into units.
func Load(ctx context.Context, dir string, cfg rules.Config) ([]*Migration, error) {
	return LoadWith(ctx, LoadOptions{Dirs: []string{dir}, Rules: cfg})
}

// LoadWith reads migrations through the lint pipeline (lint.Run), the one
// bgmigrate lint uses, so the configuration's rules, severities, formats
// and exclusions apply the same way, and groups their statements into
// units.
func LoadWith(ctx context.Context, o LoadOptions) ([]*Migration, error) {
	cfg := o.Rules
	cfg.Exclude = append(slices.Clone(cfg.Exclude), "require-lock-timeout", "require-statement-timeout")
	for _, d := range o.Dirs {
		if st, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("migrations directory: %w", err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("migrations directory %s: not a directory", d)
		}
	}
	res, err := lint.Run(ctx, lint.Options{
		Paths: o.Dirs, Rules: cfg, Exclude: o.Exclude, PerFile: o.PerFile, KeepTrees: true, Sums: true,
		// bgmigrate runs each file the way its own runner does, whatever
		// tool the file was written for.
		Prepare: func(f *parser.File) { f.Tx = parser.AutoTx(f) },
	})
	if err != nil {
		return nil, err
	}
	var out []*Migration
	for _, fr := range res.Files {
		m := &Migration{Path: fr.File.Path, Checksum: res.Sums[fr.File.Path], Class: fr.Class, File: fr.File}
		m.Version, m.Name = versionName(fr.File)
		for _, fd := range fr.Findings {
			if fd.Suppressed == nil && fd.Severity == rules.Error {
				m.Findings = append(m.Findings, fd)
			}
			if fd.Suppressed == nil && fd.Sized() {
				m.Sized = append(m.Sized, fd)
			}
		}
		v := cfg.PGVersion
		if o.PerFile != nil {
			if _, pv := o.PerFile(fr.File.Path); pv != 0 {
				v = pv
			}
		}
		m.Units, m.Notes = units(fr, v)
		m.Neutral = neutral(fr)
		out = append(out, m)
	}
	seen := map[string]string{}
	for _, m := range out {
		if other, ok := seen[m.Version]; ok {
			return nil, fmt.Errorf("%s: version %s is also used by %s", m.Path, m.Version, other)
		}
		seen[m.Version] = m.Path
	}
	return out, nil
}

// neutral reports whether every top-level statement of the file is of
// class none and no directive gave the file a phase.
func neutral(fr *rules.FileResult) bool {
	if fr.Phase != "" {
		return false
	}
	n := 0
	for _, st := range fr.Stmts {
		if st.Parent != nil {
			continue
		}
		n++
		if st.Class != phases.None {
			return false
		}
	}
	return n > 0
}

// versionName splits a migration into its version and name: the version
// from the tool's naming, else the file name without extension.
func versionName(f *parser.File) (string, string) {
	base := path.Base(f.Path)
	if base == "up.sql" || base == "migration.sql" {
		base = path.Base(path.Dir(f.Path))
	}
	name := strings.TrimSuffix(strings.TrimSuffix(base, ".sql"), ".up")
	if f.Version != "" {
		rest := strings.TrimPrefix(name, f.Version)
		rest = strings.TrimLeft(strings.TrimPrefix(rest, "V"), "_-.")
		if i := strings.Index(name, "__"); i >= 0 {
			rest = name[i+2:]
		}
		return f.Version, rest
	}
	return name, name
}

// units groups a file's statements the way they must run: one transaction
// for the file unless it holds statements that cannot run in one or its
// tool turns transactions off; then every statement runs on its own, and
// explicit BEGIN … COMMIT blocks stay together.
func units(res *rules.FileResult, pgVersion int) ([]Unit, []string) {
	f := res.File
	tx := f.Tx != parser.TxNone
	for _, st := range f.Statements {
		if nonTransactional(st, pgVersion) {
			tx = false
		}
	}
	backfills := map[int]*Backfill{}
	for _, d := range f.Directives {
		if d.Kind == "backfill" && d.Problem == "" && d.Stmt >= 0 {
			b := &Backfill{Table: d.Args["table"], Batch: 1000, Sleep: d.Args["sleep"]}
			if n, err := fmt.Sscan(d.Args["batch"], &b.Batch); n != 1 || err != nil {
				b.Batch = 1000
			}
			backfills[d.Stmt] = b
		}
	}
	infos := map[int]*rules.Stmt{}
	for _, s := range res.Stmts {
		if s.Parent == nil {
			infos[s.Index] = s
		}
	}
	var out []Unit
	var notes []string
	var cur *Unit
	explicit := false
	for i, st := range f.Statements {
		if p, ok := st.Node.(*parser.SetParam); ok && (p.Name == "lock_timeout" || p.Name == "statement_timeout") {
			// The runner sets both for every statement (--lock-timeout,
			// --statement-timeout); the file's value would silently win.
			notes = append(notes, fmt.Sprintf("%s:%d: %s is not run: bgmigrate sets %s itself for every statement (--lock-timeout, --statement-timeout, or deploy.lock_timeout and deploy.statement_timeout)",
				f.Path, st.Span.Start.Line, oneLine(st.Text), p.Name))
			continue
		}
		step := Step{SQL: st.Text, Line: st.Span.Start.Line, Tag: st.Tag, NonTx: nonTransactional(st, pgVersion), Backfill: backfills[i]}
		if s := infos[i]; s != nil {
			step.Class, step.Lock, step.Table = s.Class, s.Info.Lock, s.Info.Table
			step.Rewrite, step.Scan = s.Info.Rewrite, s.Info.Scan
		}
		if ci, ok := st.Node.(*parser.CreateIndex); ok && ci.Concurrently {
			step.Index, step.IndexTable = ci.Name, ci.Table
		}
		if tr, ok := st.Node.(*parser.Transaction); ok {
			// The runner manages transactions itself.
			switch tr.Op {
			case parser.TxBegin:
				explicit = true
				out = append(out, Unit{Tx: true})
				cur = &out[len(out)-1]
				continue
			case parser.TxCommit:
				explicit = false
				cur = nil
				continue
			}
		}
		switch {
		case tx && !step.NonTx && step.Backfill == nil:
			if len(out) == 0 || !out[len(out)-1].Tx {
				out = append(out, Unit{Tx: true})
			}
			out[len(out)-1].Steps = append(out[len(out)-1].Steps, step)
		case explicit && cur != nil:
			cur.Steps = append(cur.Steps, step)
		default:
			out = append(out, Unit{Tx: !step.NonTx && step.Backfill == nil, Steps: []Step{step}})
		}
	}
	return out, notes
}

// Transactional reports whether the whole migration runs in one transaction.
func (m *Migration) Transactional() bool {
	return len(m.Units) == 1 && m.Units[0].Tx
}

// Phase is the phase a migration belongs to: contract for contract files,
// expand for everything else.
func (m *Migration) Phase() Phase {
	if m.Class == phases.Contract {
		return PhaseContract
	}
	return PhaseExpand
}

// nonTransactional reports whether st cannot run inside a transaction
// block on the given PostgreSQL version: besides the statements that never
// can, ALTER TYPE … ADD VALUE before PostgreSQL 12.
func nonTransactional(st *parser.Statement, pgVersion int) bool {
	if ae, ok := st.Node.(*parser.AlterEnum); ok && ae.AddValue != "" && pgVersion > 0 && pgVersion < 12 {
		return true
	}
	return parser.NonTransactional(st)
}
