package rules

// Placeholders for rules not written yet: each moves to a file of its own.

var RequireConcurrentIndexDeletion = &Rule{ID: "require-concurrent-index-deletion", Severity: Warning, Style: false}
var BanConcurrentIndexCreationInTransaction = &Rule{ID: "ban-concurrent-index-creation-in-transaction", Severity: Warning, Style: false}
var RequireConcurrentReindex = &Rule{ID: "require-concurrent-reindex", Severity: Warning, Style: false}
var RequireConcurrentPartitionDetach = &Rule{ID: "require-concurrent-partition-detach", Severity: Warning, Style: false}
var DisallowedUniqueConstraint = &Rule{ID: "disallowed-unique-constraint", Severity: Warning, Style: false}
var AddingSerialPrimaryKeyField = &Rule{ID: "adding-serial-primary-key-field", Severity: Warning, Style: false}
var BanExclusionConstraint = &Rule{ID: "ban-exclusion-constraint", Severity: Warning, Style: false}
var FKMissingIndex = &Rule{ID: "fk-missing-index", Severity: Warning, Style: false}
