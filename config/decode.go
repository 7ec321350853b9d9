package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/rules"
	"gopkg.in/yaml.v3"
)

// Error is one problem in a configuration file. Line and Column are
// 1-based; 0 when the problem is with the whole file.
type Error struct {
	Path         string
	Line, Column int
	// Key is the dotted path of the key at fault, list items indexed
	// ("migrations[0].format"); "" for the whole file.
	Key string
	// Msg names the key and says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	case e.Column == 0:
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
}

// ErrorList is several problems, in file order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find each *Error.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// maxErrors bounds how many problems one load reports.
const maxErrors = 20

type decoder struct {
	path string
	errs ErrorList
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	e := &Error{Path: d.path, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) err() error {
	switch len(d.errs) {
	case 0:
		return nil
	case 1:
		return d.errs[0]
	}
	slices.SortStableFunc(d.errs, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	if len(d.errs) > maxErrors {
		d.errs = d.errs[:maxErrors]
	}
	return d.errs
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func decode(p string, data []byte) (*Config, error) {
	d := &decoder{path: p}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, &Error{Path: p, Line: line, Msg: "invalid YAML: " + msg}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Error{Path: p, Key: "version", Msg: fmt.Sprintf(`missing key "version" (this bgmigrate reads version: %d)`, Version)}
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Path: p, Line: root.Line, Column: root.Column, Msg: "want a mapping of keys at the top level, got " + describe(root)}
	}
	// The version decides how the rest is read: check it first.
	v := child(root, "version")
	switch {
	case v == nil:
		return nil, &Error{Path: p, Line: root.Line, Column: root.Column, Key: "version",
			Msg: fmt.Sprintf(`missing key "version" (this bgmigrate reads version: %d)`, Version)}
	case v.Kind != yaml.ScalarNode || v.Tag != "!!int":
		return nil, &Error{Path: p, Line: v.Line, Column: v.Column, Key: "version",
			Msg: fmt.Sprintf("version: want an integer, got %s", describe(v))}
	case v.Value != strconv.Itoa(Version):
		return nil, &Error{Path: p, Line: v.Line, Column: v.Column, Key: "version",
			Msg: fmt.Sprintf("unsupported version %s (this bgmigrate reads version: %d)", v.Value, Version)}
	}
	c := &Config{}
	d.value(root, reflect.ValueOf(c).Elem(), "", "")
	d.crossChecks(root)
	if err := d.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// child is the value of key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!str":
		return strconv.Quote(n.Value)
	case "!!int":
		return "the integer " + n.Value
	case "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}

// field is a struct field and its key.
type field struct {
	name  string
	index int
}

func fields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out = append(out, field{name, i})
		}
	}
	return out
}

// required lists the keys each mapping must hold, by pattern.
var required = map[string][]string{
	"migrations[]": {"dir"},
	"releases[]":   {"name"},
	"deploy":       {"service", "switcher", "blue", "green"},
	"deploy.blue":  {"url"},
	"deploy.green": {"url"},
}

// value decodes n into v. key is the dotted path shown in messages
// ("migrations[0].format"); pattern is the same without indexes
// ("migrations[].format"), for the checks. A pointer is allocated when its
// key is present (and stays nil when absent); the checks then see the value
// it points to. The check of a list or a mapping runs only when its items
// and keys decoded without error, so one mistake is not reported twice.
func (d *decoder) value(n *yaml.Node, v reflect.Value, key, pattern string) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		d.errorf(n, key, "%s has no value (give one or remove the key)", key)
		return
	}
	before := len(d.errs)
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.value(n, p.Elem(), key, pattern)
		v.Set(p)
		return
	case reflect.Struct:
		d.mapping(n, v, key, pattern)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, key, "%s: want a list, got %s", key, describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", key, i), pattern+"[]")
		}
		v.Set(s)
	case reflect.Map:
		d.stringMap(n, v, key, pattern)
	default:
		d.scalar(n, v, key)
	}
	if len(d.errs) > before {
		return
	}
	if check := checks[pattern]; check != nil {
		if msg := check(v.Interface()); msg != "" {
			d.errorf(n, key, "%s: %s", key, msg)
		}
	}
}

var durationType = reflect.TypeFor[time.Duration]()

// scalar decodes a scalar node into a string, int, float64, bool or
// time.Duration.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, key, "%s: want %s, got %s", key, typeName(v.Type()), describe(n))
		return
	}
	if v.Type() == durationType {
		if n.Tag != "!!str" {
			d.errorf(n, key, "%s: want a duration such as \"30s\" or \"1m30s\", got %s", key, describe(n))
			return
		}
		dur, err := time.ParseDuration(n.Value)
		switch {
		case err != nil:
			d.errorf(n, key, "%s: want a duration such as \"30s\" or \"1m30s\", got %s", key, describe(n))
		case dur < 0 || strings.HasPrefix(n.Value, "-"):
			d.errorf(n, key, "%s: negative duration %q", key, n.Value)
		default:
			v.SetInt(int64(dur))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		if n.Tag != "!!str" {
			d.errorf(n, key, "%s: want a string, got %s (quote it)", key, describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int
		if n.Tag != "!!int" || n.Decode(&i) != nil {
			d.errorf(n, key, "%s: want an integer, got %s", key, describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		var f float64
		if n.Tag != "!!int" && n.Tag != "!!float" || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf(n, key, "%s: want a number, got %s", key, describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.errorf(n, key, "%s: want true or false, got %s", key, describe(n))
			return
		}
		v.SetBool(b)
	default:
		panic("config: no decoding for " + v.Type().String())
	}
}

func typeName(t reflect.Type) string {
	if t == durationType {
		return `a duration such as "30s"`
	}
	switch t.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a string"
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, key, pattern string) {
	if n.Kind != yaml.MappingNode {
		if key == "" {
			key = "the file"
		}
		d.errorf(n, key, "%s: want a mapping of keys, got %s", key, describe(n))
		return
	}
	fs := fields(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		name := k.Value
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, key, "want a key name, got %s", describe(k))
			continue
		}
		if prev := seen[name]; prev != nil {
			d.errorf(k, join(key, name), "key %q is already set at line %d", join(key, name), prev.Line)
			continue
		}
		seen[name] = k
		j := slices.IndexFunc(fs, func(f field) bool { return f.name == name })
		if j < 0 {
			d.errorf(k, join(key, name), "%s", unknownKey(name, key, fs))
			continue
		}
		d.value(val, v.Field(fs[j].index), join(key, name), join(pattern, name))
	}
	for _, name := range required[pattern] {
		if seen[name] == nil {
			d.errorf(n, join(key, name), "%s: missing key %q", key, name)
		}
	}
}

func unknownKey(name, in string, fs []field) string {
	msg := fmt.Sprintf("unknown key %q", name)
	if in != "" {
		msg += " in " + in
	}
	var names []string
	for _, f := range fs {
		names = append(names, f.name)
	}
	if s := suggest(name, names); s != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg + " (want one of " + strings.Join(names, ", ") + ")"
}

// stringMap decodes a mapping of string keys; the key and the value are
// checked by pattern+"<key>" and pattern+".*".
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, key, pattern string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, key, "%s: want a mapping, got %s", key, describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			d.errorf(k, key, "%s: want a key name, got %s", key, describe(k))
			continue
		}
		if prev := seen[k.Value]; prev != nil {
			d.errorf(k, join(key, k.Value), "key %q is already set at line %d", join(key, k.Value), prev.Line)
			continue
		}
		seen[k.Value] = k
		if check := checks[pattern+"<key>"]; check != nil {
			if msg := check(k.Value); msg != "" {
				d.errorf(k, join(key, k.Value), "%s: %s", key, msg)
				continue
			}
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		d.value(val, ev, join(key, k.Value), pattern+".*")
		m.SetMapIndex(reflect.ValueOf(k.Value), ev)
	}
	v.Set(m)
}

// crossChecks looks at keys together.
func (d *decoder) crossChecks(root *yaml.Node) {
	r := child(root, "rules")
	enable, disable := child(r, "enable"), child(r, "disable")
	if enable != nil && disable != nil && enable.Kind == yaml.SequenceNode && disable.Kind == yaml.SequenceNode {
		on := map[string]bool{}
		for _, e := range enable.Content {
			on[resolve(e).Value] = true
		}
		for i, e := range disable.Content {
			if e = resolve(e); on[e.Value] {
				d.errorf(e, fmt.Sprintf("rules.disable[%d]", i), "rules.disable[%d]: rule %q is also in rules.enable", i, e.Value)
			}
		}
	}
	if migs := child(root, "migrations"); migs != nil && migs.Kind == yaml.SequenceNode {
		seen := map[string]int{}
		for i, m := range migs.Content {
			dir := child(m, "dir")
			if dir == nil || dir.Kind != yaml.ScalarNode {
				continue
			}
			clean := path.Clean(dir.Value)
			if j, dup := seen[clean]; dup {
				d.errorf(dir, fmt.Sprintf("migrations[%d].dir", i), "migrations[%d].dir: %q is listed already in migrations[%d]", i, dir.Value, j)
				continue
			}
			seen[clean] = i
		}
	}
	d.deployCrossChecks(child(root, "deploy"))
}

// deployCrossChecks looks at the keys of the deploy section together: a
// deploy hook must be given, and the steps must climb to 100.
func (d *decoder) deployCrossChecks(dep *yaml.Node) {
	if dep == nil || dep.Kind != yaml.MappingNode {
		return
	}
	// A hook given with a bad value is reported by the decoder.
	given := func(n *yaml.Node, key string) bool { return child(n, key) != nil }
	hooks := child(dep, "hooks")
	if !given(hooks, "deploy") && !(given(child(dep, "blue"), "deploy") && given(child(dep, "green"), "deploy")) {
		at := dep
		if hooks != nil && hooks.Kind == yaml.MappingNode {
			at = hooks
		}
		d.errorf(at, "deploy.hooks.deploy", "deploy.hooks.deploy: missing (needed unless both deploy.blue.deploy and deploy.green.deploy are given)")
	}
	steps := child(dep, "steps")
	if steps == nil || steps.Kind != yaml.SequenceNode || len(steps.Content) == 0 {
		return
	}
	values := make([]int, len(steps.Content))
	for i, item := range steps.Content {
		item = resolve(item)
		if item.Tag != "!!int" || item.Decode(&values[i]) != nil || values[i] < 1 || values[i] > 100 {
			return // reported by the decoder
		}
	}
	for i := 1; i < len(values); i++ {
		if values[i] <= values[i-1] {
			d.errorf(resolve(steps.Content[i]), fmt.Sprintf("deploy.steps[%d]", i),
				"deploy.steps[%d]: %d after %d (steps climb strictly to 100)", i, values[i], values[i-1])
			return
		}
	}
	if last := len(values) - 1; values[last] != 100 {
		d.errorf(resolve(steps.Content[last]), fmt.Sprintf("deploy.steps[%d]", last),
			"deploy.steps[%d]: the last step is %d, want 100 (all traffic on the new color)", last, values[last])
	}
}

// checks validate decoded values by key pattern; they return "" or what
// is wrong.
var checks = map[string]func(v any) string{
	"pg_version":              checkPGVersion,
	"migrations[].pg_version": checkPGVersion,
	"fail_on":                 oneOf(FailOnLevels),
	"runner":                  oneOf(Runners),
	"rules.enable[]":          checkRule,
	"rules.disable[]":         checkRule,
	"rules.severity<key>":     checkRule,
	"rules.severity.*": func(v any) string {
		if _, err := rules.ParseSeverity(v.(string)); err != nil {
			return err.Error()
		}
		return ""
	},
	"exclude[]": func(v any) string {
		s := v.(string)
		if s == "" {
			return "empty pattern"
		}
		if err := validGlob(s); err != nil {
			return err.Error()
		}
		return ""
	},
	"migrations[].dir": checkRelDir,
	"migrations[].format": func(v any) string {
		f := v.(parser.Format)
		if slices.Contains(parser.Formats, f) {
			return ""
		}
		var names []string
		for _, f := range parser.Formats {
			names = append(names, string(f))
		}
		return fmt.Sprintf("unknown format %q (want one of %s)", string(f), strings.Join(names, ", "))
	},
	"releases[].name": func(v any) string {
		if v.(string) == "" {
			return "empty name"
		}
		return ""
	},
	"releases[].stopped_using[]": func(v any) string {
		if !objectName.MatchString(v.(string)) {
			return fmt.Sprintf("%q: want \"table\" or \"table.column\"", v)
		}
		return ""
	},
	// The deploy: section.
	"deploy.service":             checkService,
	"deploy.database_url":        unlessEnv(databaseURLProblem),
	"deploy.migrations":          checkRelDir,
	"deploy.switcher":            unlessEnv(switcherURLProblem),
	"deploy.blue.url":            unlessEnv(colorURLProblem),
	"deploy.green.url":           unlessEnv(colorURLProblem),
	"deploy.blue.deploy":         checkArgv,
	"deploy.blue.scale_down":     checkArgv,
	"deploy.green.deploy":        checkArgv,
	"deploy.green.scale_down":    checkArgv,
	"deploy.hooks.deploy":        checkArgv,
	"deploy.hooks.scale_down":    checkArgv,
	"deploy.readiness.status":    checkStatus,
	"deploy.readiness.successes": atLeast(1),
	"deploy.smoke[]":             checkSmoke,
	"deploy.smoke[].command":     checkArgv,
	"deploy.smoke[].path": func(v any) string {
		if v.(string) == "" {
			return "empty path"
		}
		return ""
	},
	"deploy.smoke[].method":   oneOf(CheckMethods),
	"deploy.smoke[].status":   checkStatus,
	"deploy.warm_up.requests": atLeast(0),
	"deploy.warm_up.rate":     atLeast(0),
	"deploy.gate.dev_url":     unlessEnv(devURLProblem),
	"deploy.steps[]": func(v any) string {
		if n := v.(int); n < 1 || n > 100 {
			return fmt.Sprintf("%d is not a traffic percentage (1 to 100)", n)
		}
		return ""
	},
	"deploy.confidence.max_error_rate": func(v any) string {
		if f := v.(float64); f < 0 || f > 1 {
			return fmt.Sprintf("%v is not a share between 0 and 1", f)
		}
		return ""
	},
	"deploy.confidence.probes":  atLeast(1),
	"deploy.confidence.command": checkArgv,
	// Durations for which zero means nothing sensible are refused rather
	// than replaced by their default (drain, step_pause, rollback_window
	// and confidence.window take 0s as zero).
	"deploy.readiness.interval":       positive,
	"deploy.readiness.timeout":        positive,
	"deploy.readiness.deadline":       positive,
	"deploy.hooks.timeout":            positive,
	"deploy.smoke[].timeout":          positive,
	"deploy.confidence.interval":      positive,
	"deploy.confidence.max_latency":   positive,
	"deploy.gate.max_transaction_age": positive,
	"deploy.lock_timeout":             positive,
	"deploy.statement_timeout":        positive,
	"data_checks.timeout":             positive,
}

// positive refuses a zero duration.
func positive(v any) string {
	if v.(time.Duration) <= 0 {
		return "0s is not allowed here (leave the key out for its default)"
	}
	return ""
}

// objectName is "table", "table.column" or "schema.table.column".
var objectName = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+){0,2}$`)

// CheckMethods are the HTTP methods a smoke check may use.
var CheckMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func checkService(v any) string {
	s := v.(string)
	switch {
	case s == "":
		return "empty service name"
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return fmt.Sprintf("%q: want a name without spaces", s)
	}
	return ""
}

// unlessEnv checks a string unless it holds a ${VAR} reference: such a
// value is checked once Expand has replaced it.
func unlessEnv(problem func(string) string) func(any) string {
	return func(v any) string {
		if s := v.(string); !strings.Contains(s, "${") {
			return problem(s)
		}
		return ""
	}
}

// parseURL parses s; its error leaves the URL out, which may hold a
// password.
func parseURL(s string) (*url.URL, string) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Sprintf("not a valid URL: %v", err)
	}
	return u, ""
}

func switcherURLProblem(s string) string {
	u, msg := parseURL(s)
	switch {
	case msg != "":
		return msg
	case u.Scheme == "":
		return fmt.Sprintf("%q: want a switcher URL such as haproxy:///run/haproxy.sock?map=/etc/haproxy/color.map&key=app", u.Redacted())
	}
	return ""
}

func colorURLProblem(s string) string {
	u, msg := parseURL(s)
	switch {
	case msg != "":
		return msg
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Sprintf("%q: want an http:// or https:// URL", u.Redacted())
	}
	return ""
}

func databaseURLProblem(s string) string {
	u, msg := parseURL(s)
	switch {
	case msg != "":
		return msg
	case !isPostgresURL(s):
		return fmt.Sprintf("%q: want a postgres:// URL", u.Redacted())
	}
	return ""
}

// isPostgresURL reports whether s is a URL as pgx reads one.
func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// dockerScheme starts a dev URL that names an image rather than a server.
const dockerScheme = "docker://"

func devURLProblem(s string) string {
	if image, ok := strings.CutPrefix(s, dockerScheme); ok {
		if image == "" || strings.IndexFunc(image, unicode.IsSpace) >= 0 {
			return fmt.Sprintf("%q: want docker://IMAGE, such as docker://postgres:16", s)
		}
		return ""
	}
	u, msg := parseURL(s)
	switch {
	case msg != "":
		return msg
	case !isPostgresURL(s):
		return fmt.Sprintf("%q: want a postgres:// URL or docker://IMAGE", u.Redacted())
	}
	return ""
}

// checkArgv checks a command given as an argv list.
func checkArgv(v any) string {
	argv := v.([]string)
	switch {
	case len(argv) == 0:
		return "empty command (want a list such as [program, arg, ...])"
	case argv[0] == "":
		return "empty program name (the first element)"
	}
	return ""
}

func checkStatus(v any) string {
	if n := v.(int); n < 100 || n > 599 {
		return fmt.Sprintf("%d is not an HTTP status code (100 to 599)", n)
	}
	return ""
}

func atLeast(least int) func(any) string {
	return func(v any) string {
		if n := v.(int); n < least {
			return fmt.Sprintf("want at least %d, got %d", least, n)
		}
		return ""
	}
}

// checkSmoke checks that a smoke check is a command or an HTTP request.
func checkSmoke(v any) string {
	c := v.(Check)
	switch {
	case len(c.Command) > 0 && c.Path != "":
		return "give command or path, not both"
	case len(c.Command) == 0 && c.Path == "":
		return "give command (a program to run) or path (an HTTP request on the color's URL)"
	case len(c.Command) > 0 && (c.Method != "" || c.Status != 0 || c.BodyContains != ""):
		return "method, status and body_contains describe an HTTP check (path), not a command"
	}
	return ""
}

// checkRelDir checks a directory given relative to the config file.
func checkRelDir(v any) string {
	s := v.(string)
	switch {
	case s == "":
		return "empty directory"
	case path.IsAbs(s) || strings.Contains(s, `\`) || len(s) > 1 && s[1] == ':':
		return fmt.Sprintf("%q: want a slash path relative to the config file's directory", s)
	}
	return ""
}

func checkPGVersion(v any) string {
	if n := v.(int); n < 9 || n > 18 {
		return fmt.Sprintf("%d is not a supported PostgreSQL major version (9 to 18)", n)
	}
	return ""
}

func oneOf(values []string) func(any) string {
	return func(v any) string {
		if slices.Contains(values, v.(string)) {
			return ""
		}
		return fmt.Sprintf("unknown value %q (want one of %s)", v, strings.Join(values, ", "))
	}
}

func checkRule(v any) string {
	id := v.(string)
	if rules.ByID(id) != nil {
		return ""
	}
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	if s := suggest(id, ids); s != "" {
		return fmt.Sprintf("unknown rule %q (did you mean %q?)", id, s)
	}
	return fmt.Sprintf("unknown rule %q (see bgmigrate rules)", id)
}

// suggest returns the candidate closest to s when it is close enough.
func suggest(s string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		dist := levenshtein(strings.ToLower(s), c)
		if best == "" || dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best == "" || bestDist > max(2, len(s)/4) {
		return ""
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var (
	_ error = (*Error)(nil)
	_ error = ErrorList(nil)
)
