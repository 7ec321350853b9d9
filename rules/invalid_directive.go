package rules

// InvalidDirective is reported by the driver for malformed directives.
var InvalidDirective = &Rule{
	ID:       "invalid-directive",
	Summary:  "a bgmigrate directive that is malformed, lacks a reason or names an unknown rule",
	Help:     `write it as "-- bgmigrate:ignore rule-id -- why it is safe"`,
	Severity: Warning,
	Since:    "0.1.0",
	Doc: "Directives are comments that speak to bgmigrate:\n\n" +
		"```sql\n" +
		"-- bgmigrate:ignore rule-a, rule-b -- reason     (the next statement)\n" +
		"-- bgmigrate:ignore-file rule-a -- reason        (the whole file)\n" +
		"-- bgmigrate:phase expand|contract -- reason     (before the first statement: the file; elsewhere: the next statement)\n" +
		"-- squawk-ignore rule-a                          (Squawk's form, honoured without a reason)\n" +
		"-- squawk-ignore-file rule-a\n" +
		"```\n\n" +
		"A suppression is a decision someone made; the reason records it for the next reader. " +
		"This rule reports a bgmigrate directive without a reason, with an unknown verb or phase, " +
		"or naming a rule that does not exist (a typo would otherwise silence nothing).",
}

// UnusedDirective is reported by the driver for suppressions that matched nothing.
var UnusedDirective = &Rule{
	ID:       "unused-directive",
	Summary:  "an ignore directive that suppresses no finding",
	Help:     "remove the directive, or move it above the statement it is meant for",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `An ignore directive applies to the statement that follows it (or, with ignore-file, to
the whole file). When the named rule reports nothing there, the directive is stale: the
statement changed, the directive sits above the wrong statement, or the hazard is gone.
Stale suppressions hide the next real finding, so they are reported.`,
}
