package rules

var RequireLockTimeout = &Rule{
	ID:       "require-lock-timeout",
	Summary:  "a lock-taking statement on an existing table without lock_timeout set first",
	Help:     "start the migration with SET lock_timeout = '2s' (and retry on failure)",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** Even an instant ALTER TABLE needs an ACCESS EXCLUSIVE lock. If a long query or an
idle-in-transaction session holds a conflicting lock, the ALTER waits, and every query that
arrives after it queues behind it: a one-millisecond migration becomes an outage for both
colors. lock_timeout makes the migration give up instead, so it can be retried later.

**Safe recipe.**

` + "```sql" + `
-- before
ALTER TABLE orders ADD COLUMN note text;
-- after
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
` + "```" + `

Reported once per file, at the first statement that takes a lock that blocks writes on a
table that already exists. When migrations are applied by ` + "`bgmigrate migrate`" + `, which sets
lock_timeout itself and retries, set ` + "`runner: bgmigrate`" + ` in the config to turn this off.`,
	Stmt: func(p *Pass, s *Stmt) {
		if s.LockTimeout || !s.Info.Lock.BlocksWrites() {
			return
		}
		// seen is set at the first such statement of the file.
		seen := stateOf[bool](p)
		if *seen {
			return // reported already
		}
		*seen = true
		p.Reportf(s.Span, "%s lock on %q is taken without lock_timeout: if it has to wait, all queries on the table queue behind it", s.Info.Lock, s.Info.Table)
	},
}
