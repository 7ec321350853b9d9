package rules

// Placeholders for rules not written yet: each moves to a file of its own.

var BanDropTable = &Rule{ID: "ban-drop-table", Severity: Warning, Style: false}
var BanDropSchema = &Rule{ID: "ban-drop-schema", Severity: Warning, Style: false}
var BanDropView = &Rule{ID: "ban-drop-view", Severity: Warning, Style: false}
var BanDropFunction = &Rule{ID: "ban-drop-function", Severity: Warning, Style: false}
var BanDropDefault = &Rule{ID: "ban-drop-default", Severity: Warning, Style: false}
var TighteningConstraint = &Rule{ID: "tightening-constraint", Severity: Warning, Style: false}
var RenamingColumn = &Rule{ID: "renaming-column", Severity: Warning, Style: false}
var RenamingTable = &Rule{ID: "renaming-table", Severity: Warning, Style: false}
var RenamingEnumValue = &Rule{ID: "renaming-enum-value", Severity: Warning, Style: false}
var BanSetSchema = &Rule{ID: "ban-set-schema", Severity: Warning, Style: false}
var AddingRequiredField = &Rule{ID: "adding-required-field", Severity: Warning, Style: false}
var BanDropNotNull = &Rule{ID: "ban-drop-not-null", Severity: Warning, Style: false}
var RLSOrPrivilegeChange = &Rule{ID: "rls-or-privilege-change", Severity: Warning, Style: false}
var BanTruncateCascade = &Rule{ID: "ban-truncate-cascade", Severity: Warning, Style: false}
var BanDropDatabase = &Rule{ID: "ban-drop-database", Severity: Warning, Style: false}
