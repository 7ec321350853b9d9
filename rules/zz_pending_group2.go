package rules

// Placeholders for rules not written yet: each moves to a file of its own.

var AddingFieldWithDefault = &Rule{ID: "adding-field-with-default", Severity: Warning, Style: false}
var ConstraintMissingNotValid = &Rule{ID: "constraint-missing-not-valid", Severity: Warning, Style: false}
var AddingForeignKeyConstraint = &Rule{ID: "adding-foreign-key-constraint", Severity: Warning, Style: false}
var ValidateInSameTransaction = &Rule{ID: "validate-in-same-transaction", Severity: Warning, Style: false}
var AddingNotNullableField = &Rule{ID: "adding-not-nullable-field", Severity: Warning, Style: false}
var ChangingColumnType = &Rule{ID: "changing-column-type", Severity: Warning, Style: false}
var TableRewrite = &Rule{ID: "table-rewrite", Severity: Warning, Style: false}
var DDLAfterAccessExclusive = &Rule{ID: "ddl-after-access-exclusive", Severity: Warning, Style: false}
var UnbatchedBackfill = &Rule{ID: "unbatched-backfill", Severity: Warning, Style: false}
var RequireStatementTimeout = &Rule{ID: "require-statement-timeout", Severity: Warning, Style: false}
var TransactionNesting = &Rule{ID: "transaction-nesting", Severity: Warning, Style: false}
var BanUncommittedTransaction = &Rule{ID: "ban-uncommitted-transaction", Severity: Warning, Style: false}
