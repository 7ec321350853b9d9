package rules

// SyntaxError is reported by the driver for every statement PostgreSQL's
// parser rejects; the rest of the file is still linted.
var SyntaxError = &Rule{
	ID:       "syntax-error",
	Summary:  "a statement PostgreSQL cannot parse",
	Help:     "fix the statement; PostgreSQL would reject the migration here",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `PostgreSQL's own parser (through pg_query) rejected the statement. The message is
PostgreSQL's, and the position is where the parser stopped. The other statements of the file
are still parsed and linted: bgmigrate splits the file at top-level semicolons and parses each
piece on its own.

Files written for another database (MySQL's inline ` + "`INDEX`" + `, SQLite's ` + "`AUTOINCREMENT`" + `) or
templates that are rendered before they run (Go templates, Flyway placeholders) also end
up here. Exclude them, or lint the rendered SQL.`,
}
