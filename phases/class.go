// Package phases classifies migrations for blue-green deploys: a statement
// either keeps the running (old) color working (expand), removes or tightens
// something it uses (contract), or breaks it at once (breaking).
package phases

import (
	"encoding/json"
	"fmt"
)

// Class is the blue-green class of a statement or a file.
type Class int

const (
	// None: no effect on what the application sees (SET, SELECT, VACUUM…).
	None Class = iota
	// Expand: the old color keeps working; run before the switch.
	Expand
	// Contract: removes or tightens what the old color may use; run only
	// after the old color stops being a rollback target.
	Contract
	// Mixed: a file holding both expand and contract statements.
	Mixed
	// Breaking: breaks the old color the moment it runs; split it.
	Breaking
)

var classNames = [...]string{"none", "expand", "contract", "mixed", "breaking"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// ParseClass reads a class name.
func ParseClass(s string) (Class, bool) {
	for i, n := range classNames {
		if n == s {
			return Class(i), true
		}
	}
	return None, false
}

func (c Class) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// Advice is the one-line meaning of a file class for people deploying it.
func (c Class) Advice() string {
	switch c {
	case Expand, None:
		return "run before the switch"
	case Contract:
		return "run after the old color is retired"
	case Mixed:
		return "split it into an expand and a contract migration"
	case Breaking:
		return "split it into expand and contract steps"
	}
	return ""
}

// Combine folds statement classes into a file class: the worst wins, and
// expand with contract is mixed. A file with no classed statement is expand.
func Combine(classes []Class) Class {
	hasExpand, hasContract, breaking := false, false, false
	for _, c := range classes {
		switch c {
		case Expand:
			hasExpand = true
		case Contract:
			hasContract = true
		case Breaking:
			breaking = true
		case Mixed:
			hasExpand, hasContract = true, true
		}
	}
	switch {
	case breaking:
		return Breaking
	case hasExpand && hasContract:
		return Mixed
	case hasContract:
		return Contract
	}
	return Expand
}
