package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bgmigrate/bgmigrate/rules"
)

// The SARIF 2.1.0 subset bgmigrate writes. Struct fields keep the output
// in a fixed order.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool       sarifTool     `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
		Properties sarifRunProps `json:"properties"`
	}
	sarifRunProps struct {
		Files []sarifFileProps `json:"files"`
	}
	sarifFileProps struct {
		Path   string `json:"path"`
		Class  string `json:"class"`
		Advice string `json:"advice"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Version        string      `json:"version,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name"`
		ShortDescription     sarifText          `json:"shortDescription"`
		FullDescription      sarifText          `json:"fullDescription"`
		Help                 sarifMultiformat   `json:"help"`
		HelpURI              string             `json:"helpUri"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
		Properties           sarifRuleProps     `json:"properties"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifMultiformat struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifRuleProps struct {
		Tags []string `json:"tags"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           *int               `json:"ruleIndex,omitempty"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
		Properties          sarifResultProps   `json:"properties"`
	}
	sarifResultProps struct {
		Help  string `json:"help,omitempty"`
		Class string `json:"class"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
		Region           *sarifRegion          `json:"region,omitempty"`
	}
	sarifArtifactLocation struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
		EndLine     int `json:"endLine,omitempty"`
		EndColumn   int `json:"endColumn,omitempty"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification,omitempty"`
	}
)

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolURI      = "https://github.com/bgmigrate/bgmigrate"
	// srcRoot is the base that relative artifact URIs resolve against; code
	// scanning services map it to the repository checkout.
	srcRoot = "%SRCROOT%"
)

// SARIF writes the report as a SARIF 2.1.0 log with one run. The driver
// lists every rule of the catalog, in catalog order; suppressed findings
// are kept and marked with an in-source suppression. Columns count Unicode
// code points, as the report's do.
func SARIF(w io.Writer, r *Report, version string) error {
	catalog := rules.All()
	index := make(map[string]int, len(catalog))
	driver := sarifDriver{Name: "bgmigrate", InformationURI: toolURI, Version: version, Rules: make([]sarifRule, 0, len(catalog))}
	for i, rule := range catalog {
		index[rule.ID] = i
		driver.Rules = append(driver.Rules, sarifRuleOf(rule))
	}
	run := sarifRun{
		Tool:       sarifTool{Driver: driver},
		ColumnKind: "unicodeCodePoints",
		Results:    []sarifResult{},
		Properties: sarifRunProps{Files: make([]sarifFileProps, 0, len(r.Files))},
	}
	fp := newFingerprinter()
	for _, f := range r.Files {
		path := slashPath(f.Path)
		run.Properties.Files = append(run.Properties.Files, sarifFileProps{Path: path, Class: f.Class, Advice: f.Advice})
		for _, fd := range f.Findings {
			hash, n := fp.next(fd, path)
			res := sarifResult{
				RuleID:              fd.Rule,
				Level:               sarifLevel(fd.Severity),
				Message:             sarifText{Text: fd.Message},
				Locations:           []sarifLocation{{PhysicalLocation: sarifPhysical(path, fd)}},
				PartialFingerprints: map[string]string{"primaryLocationLineHash": hash + ":" + strconv.Itoa(n)},
				Properties:          sarifResultProps{Help: fd.Help, Class: f.Class},
			}
			if i, ok := index[fd.Rule]; ok {
				res.RuleIndex = &i
			}
			if s := fd.Suppressed; s != nil {
				res.Suppressions = []sarifSuppression{{Kind: "inSource", Status: "accepted", Justification: s.Justification}}
			}
			run.Results = append(run.Results, res)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

func sarifRuleOf(rule *rules.Rule) sarifRule {
	full := firstParagraph(rule.Doc)
	if full == "" {
		full = rule.Summary
	}
	help := rule.Help
	if rule.Doc != "" {
		help += "\n\n" + rule.Doc
	}
	return sarifRule{
		ID:                   rule.ID,
		Name:                 camelCase(rule.ID),
		ShortDescription:     sarifText{Text: rule.Summary},
		FullDescription:      sarifText{Text: full},
		Help:                 sarifMultiformat{Text: help, Markdown: rule.Doc},
		HelpURI:              rule.URL(),
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(rule.Severity.String())},
		Properties:           sarifRuleProps{Tags: []string{ruleTag(rule)}},
	}
}

func sarifPhysical(path string, fd Finding) sarifPhysicalLocation {
	loc := sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: (&url.URL{Path: path}).EscapedPath(), URIBaseID: srcRoot}}
	if strings.HasPrefix(path, "/") {
		loc.ArtifactLocation = sarifArtifactLocation{URI: (&url.URL{Scheme: "file", Path: path}).String()}
	}
	if fd.Line < 1 {
		return loc
	}
	reg := &sarifRegion{StartLine: fd.Line}
	if fd.Column >= 1 {
		reg.StartColumn = fd.Column
	}
	if fd.EndLine >= fd.Line {
		reg.EndLine = fd.EndLine
		// SARIF end columns are exclusive, as the report's are.
		if fd.EndColumn >= 1 && (fd.EndLine > fd.Line || fd.EndColumn >= fd.Column) {
			reg.EndColumn = fd.EndColumn
		}
	}
	loc.Region = reg
	return loc
}

func sarifLevel(severity string) string {
	switch severity {
	case "error":
		return "error"
	case "warning":
		return "warning"
	}
	return "note"
}

// blueGreenRules are the rules about the running color rather than about
// locks: removing or renaming what it uses, and release ordering.
var blueGreenRules = map[string]bool{
	"ban-drop-column": true, "ban-drop-table": true, "ban-drop-schema": true, "ban-drop-view": true,
	"ban-drop-function": true, "ban-drop-default": true, "tightening-constraint": true,
	"renaming-column": true, "renaming-table": true, "renaming-enum-value": true, "ban-set-schema": true,
	"adding-required-field": true, "ban-drop-not-null": true, "rls-or-privilege-change": true,
	"mixed-expand-contract": true, "modified-released-migration": true, "contract-too-early": true,
	"contract-without-expand": true, "ban-truncate-cascade": true, "ban-drop-database": true,
}

// inputRules are about the migration text itself.
var inputRules = map[string]bool{
	"syntax-error": true, "invalid-directive": true, "unused-directive": true, "unanalysed-dynamic-sql": true,
	"identifier-too-long": true, "transaction-nesting": true, "ban-uncommitted-transaction": true,
}

// ruleTag is the one tag a rule carries in SARIF: style, blue-green,
// input or, for the rest, locking.
func ruleTag(rule *rules.Rule) string {
	switch {
	case rule.Style:
		return "style"
	case blueGreenRules[rule.ID]:
		return "blue-green"
	case inputRules[rule.ID]:
		return "input"
	}
	return "locking"
}

// camelCase turns "ban-drop-column" into "BanDropColumn".
func camelCase(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// firstParagraph returns the first paragraph of a Markdown text with its
// lines joined.
func firstParagraph(doc string) string {
	doc = strings.TrimSpace(strings.ReplaceAll(doc, "\r\n", "\n"))
	if i := strings.Index(doc, "\n\n"); i >= 0 {
		doc = doc[:i]
	}
	return strings.Join(strings.Fields(doc), " ")
}

// slashPath is the path as printers show it: slash-separated, without a
// leading "./".
func slashPath(p string) string {
	p = filepath.ToSlash(p)
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return p
}
