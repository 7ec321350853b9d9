package config

import _ "embed"

//go:embed schema.json
var schema []byte

// Schema is the JSON schema (draft-07) of the configuration file, for
// editors and for commands that print it.
func Schema() []byte { return append([]byte(nil), schema...) }
