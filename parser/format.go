package parser

import (
	"path"
	"regexp"
	"strings"
)

// Format is the migration tool a file is written for.
type Format string

const (
	FormatAuto          Format = "auto"
	FormatPlain         Format = "plain"
	FormatGolangMigrate Format = "golang-migrate"
	FormatGoose         Format = "goose"
	FormatDbmate        Format = "dbmate"
	FormatFlyway        Format = "flyway"
	FormatDiesel        Format = "diesel"
	FormatPrisma        Format = "prisma"
)

// Formats lists the formats a user may name.
var Formats = []Format{FormatAuto, FormatPlain, FormatGolangMigrate, FormatGoose, FormatDbmate, FormatFlyway, FormatDiesel, FormatPrisma}

// TxMode says how the tool runs a file with respect to transactions.
type TxMode string

const (
	// TxNone: statements run one by one in autocommit mode.
	TxNone TxMode = "none"
	// TxWrapped: the tool wraps the whole file in one transaction.
	TxWrapped TxMode = "transaction"
	// TxImplicit: the file is sent as one multi-statement query, which
	// PostgreSQL runs as one implicit transaction when it holds more than
	// one statement.
	TxImplicit TxMode = "implicit"
)

// Options control how a file is parsed.
type Options struct {
	Format Format // FormatAuto or "" to detect
	// NoTransaction is set when the tool's side configuration turns the
	// transaction off (Flyway executeInTransaction=false, diesel
	// run_in_transaction = false).
	NoTransaction bool
	// Cache, when set, keeps the parse trees between runs.
	Cache *TreeCache
	// Owned says that the caller does not change src after Parse: the
	// File then keeps it as its Src without a copy.
	Owned bool
	// Stream parses the file in the background and hands its statements
	// over as they are parsed (File.Statement, File.Release) instead of
	// keeping them all in File.Statements. Flyway files, whose
	// transaction mode depends on every statement, are parsed whole.
	Stream bool

	// scanned makes Parse scan every region before parsing it (tests
	// compare the two ways).
	scanned bool
}

var (
	gooseUp      = regexp.MustCompile(`(?m)^\s*--\s*\+goose\s+Up\b`)
	dbmateUp     = regexp.MustCompile(`(?m)^\s*--\s*migrate:up\b`)
	flywayName   = regexp.MustCompile(`^(?:[VB]([0-9][0-9._]*)|R)__.+\.sql$`)
	flywayUndo   = regexp.MustCompile(`^U[0-9][0-9._]*__.+\.sql$`)
	leadingDigit = regexp.MustCompile(`^([0-9]+)`)
)

// DetectFormat names the tool a file was written for, from its annotations
// first and its name second.
func DetectFormat(p, src string) Format {
	base := path.Base(p)
	switch {
	case strings.Contains(src, "+goose") && gooseUp.MatchString(src):
		return FormatGoose
	case strings.Contains(src, "migrate:up") && dbmateUp.MatchString(src):
		return FormatDbmate
	case flywayName.MatchString(base):
		return FormatFlyway
	case base == "up.sql":
		return FormatDiesel
	case base == "migration.sql":
		return FormatPrisma
	case strings.HasSuffix(base, ".up.sql"):
		return FormatGolangMigrate
	}
	return FormatPlain
}

// IsDown reports whether the file is a down (or undo) migration, which is
// never linted.
func IsDown(p string) bool {
	base := path.Base(p)
	return base == "down.sql" || strings.HasSuffix(base, ".down.sql") || flywayUndo.MatchString(base)
}

// OtherDialect reports whether a file name carries another database's infix
// (popx style "name.mysql.up.sql").
func OtherDialect(p string) bool {
	for _, d := range []string{".mysql.", ".sqlite.", ".sqlite3.", ".cockroach.", ".crdb.", ".mssql.", ".sqlserver."} {
		if strings.Contains(path.Base(p), d) {
			return true
		}
	}
	return false
}

func versionOf(f Format, p string) string {
	base := path.Base(p)
	switch f {
	case FormatFlyway:
		if m := flywayName.FindStringSubmatch(base); m != nil {
			return strings.TrimRight(m[1], "._")
		}
	case FormatDiesel, FormatPrisma:
		dir := path.Base(path.Dir(p))
		if m := leadingDigit.FindString(strings.ReplaceAll(dir, "-", "")); m != "" {
			return m
		}
		return dir
	default:
		return leadingDigit.FindString(base)
	}
	return ""
}

var annotation = regexp.MustCompile(`(?m)^[ \t]*--[ \t]*(\+goose[ \t]+\S+(?:[ \t]+\S+)*|migrate:(?:up|down)\b.*)[ \t]*\r?$`)

// annotations returns the matches of annotation in src, as
// FindAllStringSubmatchIndex does. An annotation is one line, so the
// expression runs only on the lines that name a tool: run on whole files
// it cost a fiftieth of a corpus run.
func annotations(src string) [][]int {
	var out [][]int
	for start := 0; start < len(src); {
		end := strings.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += start
		}
		if line := src[start:end]; strings.Contains(line, "+goose") || strings.Contains(line, "migrate:") {
			if m := annotation.FindStringSubmatchIndex(line); m != nil {
				for i := range m {
					if m[i] >= 0 {
						m[i] += start
					}
				}
				out = append(out, m)
			}
		}
		start = end + 1
	}
	return out
}

// regions finds the up part of the file. Tools read their annotations line
// by line, so the annotations are found the same way.
func (f *File) regions() []region {
	src := f.Src
	switch f.Format {
	case FormatGoose:
		return gooseRegions(f, src)
	case FormatDbmate:
		start, end := 0, len(src)
		for _, m := range annotations(src) {
			text := src[m[2]:m[3]]
			switch {
			case strings.HasPrefix(text, "migrate:up"):
				start = m[1]
				if strings.Contains(text, "transaction:false") {
					f.NoTransaction = true
				}
			case strings.HasPrefix(text, "migrate:down") && m[0] >= start:
				end = m[0]
				return []region{{start, end}}
			}
		}
		return []region{{start, end}}
	}
	return []region{{0, len(src)}}
}

func gooseRegions(f *File, src string) []region {
	var out []region
	inUp, inBlock := false, false
	cur := 0
	for _, m := range annotations(src) {
		fields := strings.Fields(src[m[2]:m[3]])
		if len(fields) < 2 || fields[0] != "+goose" {
			continue
		}
		switch strings.ToLower(fields[1]) {
		case "up":
			inUp, cur = true, m[1]
		case "down":
			if inUp && !inBlock && m[0] > cur {
				out = append(out, region{cur, m[0]})
			}
			return out
		case "statementbegin":
			if inUp && m[0] > cur {
				out = append(out, region{cur, m[0]})
			}
			inBlock, cur = true, m[1]
		case "statementend":
			if inUp && inBlock {
				out = append(out, region{cur, m[0]})
			}
			inBlock, cur = false, m[1]
		case "no":
			if len(fields) > 2 && strings.EqualFold(fields[2], "transaction") {
				f.NoTransaction = true
			}
		}
	}
	if inUp && cur < len(src) {
		out = append(out, region{cur, len(src)})
	}
	return out
}

// txModeOf says how the file's tool runs it.
func txModeOf(f *File) TxMode {
	if f.NoTransaction {
		return TxNone
	}
	switch f.Format {
	case FormatGoose, FormatDbmate, FormatDiesel:
		return TxWrapped
	case FormatFlyway:
		// Flyway runs a script without a transaction when it detects a
		// statement that cannot run inside one.
		return AutoTx(f)
	case FormatGolangMigrate, FormatPrisma:
		if strings.Contains(path.Base(f.Path), ".autocommit.") {
			return TxNone
		}
		return TxImplicit
	}
	return TxNone
}

// AutoTx is the transaction mode of a runner that wraps a file in one
// transaction unless it holds a statement that cannot run inside one
// (Flyway, and bgmigrate's own runner).
func AutoTx(f *File) TxMode {
	if f.NoTransaction {
		return TxNone
	}
	for _, st := range f.Statements {
		if NonTransactional(st) {
			return TxNone
		}
	}
	return TxWrapped
}

// NonTransactional reports whether a statement cannot run inside a
// transaction block.
func NonTransactional(st *Statement) bool {
	switch n := st.Node.(type) {
	case *CreateIndex:
		return n.Concurrently
	case *Drop:
		return n.Concurrently
	case *Reindex:
		return n.Concurrently
	case *Vacuum:
		return !n.Analyze
	case *AlterTable:
		for _, c := range n.Cmds {
			if c.Op == DetachPartition && c.Concurrently {
				return true
			}
		}
	case *Other:
		return st.Tag == "CREATEDB" || st.Tag == "DROPDB" || st.Tag == "ALTER SYSTEM" || st.Tag == "CREATE TABLE SPACE"
	}
	return false
}
