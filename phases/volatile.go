package phases

import "github.com/bgmigrate/bgmigrate/parser"

// nonVolatile lists built-in functions that are stable or immutable, so a
// column default calling only them is evaluated once when the column is
// added (PostgreSQL 11+) instead of rewriting the table. Any other function
// may be volatile: user functions are VOLATILE unless declared otherwise.
var nonVolatile = map[string]bool{
	"now": true, "current_timestamp": true, "current_date": true, "current_time": true,
	"localtime": true, "localtimestamp": true, "transaction_timestamp": true, "statement_timestamp": true,
	"current_user": true, "session_user": true, "user": true, "current_role": true, "current_schema": true,
	"current_catalog": true, "lower": true, "upper": true, "concat": true, "length": true, "md5": true,
	"to_jsonb": true, "to_json": true, "jsonb_build_object": true, "json_build_object": true,
	"jsonb_build_array": true, "json_build_array": true, "array_to_json": true, "make_interval": true,
	"to_timestamp": true, "to_date": true, "date_trunc": true, "timezone": true, "abs": true,
	"replace": true, "substring": true, "trim": true, "btrim": true, "coalesce": true, "nullif": true,
	"greatest": true, "least": true, "format": true, "encode": true, "decode": true, "int8": true,
	"int4": true, "text": true, "inet": true, "array": true, "make_date": true, "row": true,
}

// Volatile reports whether an expression may call a volatile function.
func Volatile(e *parser.Expr) bool {
	if e == nil {
		return false
	}
	for _, f := range e.Funcs {
		if !nonVolatile[f] {
			return true
		}
	}
	return false
}
