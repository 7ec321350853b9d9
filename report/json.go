package report

import (
	"bufio"
	"encoding/json"
	"io"
)

// JSON writes the report: one JSON document whose files are written one
// per line, so large runs stream instead of being indented in memory.
func JSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if _, err := bw.WriteString("{\"version\": 1,\n\"files\": [\n"); err != nil {
		return err
	}
	for i, f := range r.Files {
		if i > 0 {
			if _, err := bw.WriteString(","); err != nil {
				return err
			}
		}
		// Encode ends each value with a newline.
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	if _, err := bw.WriteString("],\n\"summary\": "); err != nil {
		return err
	}
	if err := enc.Encode(r.Summary); err != nil {
		return err
	}
	if _, err := bw.WriteString("}\n"); err != nil {
		return err
	}
	return bw.Flush()
}
