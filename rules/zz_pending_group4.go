package rules

// Placeholders for rules not written yet: each moves to a file of its own.

var PreferBigintOverInt = &Rule{ID: "prefer-bigint-over-int", Severity: Warning, Style: true}
var PreferBigintOverSmallint = &Rule{ID: "prefer-bigint-over-smallint", Severity: Warning, Style: true}
var PreferIdentity = &Rule{ID: "prefer-identity", Severity: Warning, Style: true}
var PreferTextField = &Rule{ID: "prefer-text-field", Severity: Warning, Style: true}
var PreferTimestampTZ = &Rule{ID: "prefer-timestamp-tz", Severity: Warning, Style: true}
var BanCharField = &Rule{ID: "ban-char-field", Severity: Warning, Style: true}
var PreferRobustStmts = &Rule{ID: "prefer-robust-stmts", Severity: Warning, Style: true}
var RequireTableSchema = &Rule{ID: "require-table-schema", Severity: Warning, Style: true}
var IdentifierTooLong = &Rule{ID: "identifier-too-long", Severity: Warning, Style: false}
var UnanalysedDynamicSQL = &Rule{ID: "unanalysed-dynamic-sql", Severity: Warning, Style: false}
