package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"sync"
)

// jsonBatch is how many files JSON encodes before writing them.
const jsonBatch = 256

// JSON writes the report: one JSON document whose files are written one
// per line, so large runs stream instead of being indented in memory. The
// files of a batch are encoded on all cores, then written in order.
func JSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("{\"version\": 1,\n\"files\": [\n"); err != nil {
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	bufs := make([]bytes.Buffer, workers)
	for lo := 0; lo < len(r.Files); lo += jsonBatch {
		batch := r.Files[lo:min(lo+jsonBatch, len(r.Files))]
		if lazy(batch) {
			// A file Build left the statements of to be listed is
			// written as it is encoded, one file after the other.
			for j := range batch {
				if lo+j > 0 {
					if err := bw.WriteByte(','); err != nil {
						return err
					}
				}
				if err := writeFileJSON(bw, &batch[j]); err != nil {
					return err
				}
			}
			continue
		}
		per := (len(batch) + workers - 1) / workers
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for i := range workers {
			part := batch[min(i*per, len(batch)):min((i+1)*per, len(batch))]
			first := lo + i*per
			wg.Go(func() {
				buf := &bufs[i]
				buf.Reset()
				enc := json.NewEncoder(buf)
				enc.SetEscapeHTML(false)
				for j := range part {
					if first+j > 0 {
						buf.WriteByte(',')
					}
					// Encode ends each value with a newline.
					if err := enc.Encode(&part[j]); err != nil {
						errs[i] = err
						return
					}
				}
			})
		}
		wg.Wait()
		for i := range workers {
			if errs[i] != nil {
				return errs[i]
			}
			if _, err := bw.Write(bufs[i].Bytes()); err != nil {
				return err
			}
		}
	}
	if _, err := bw.WriteString("],\n\"summary\": "); err != nil {
		return err
	}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.Summary); err != nil {
		return err
	}
	if _, err := bw.WriteString("}\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// lazy reports whether a file of files has its statements left to list.
func lazy(files []File) bool {
	for i := range files {
		if files[i].from != nil {
			return true
		}
	}
	return false
}

// writeFileJSON writes f as JSON.Encode would, followed by a newline,
// encoding its statements a few at a time.
func writeFileJSON(w *bufio.Writer, f *File) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if f.from == nil {
		if err := enc.Encode(f); err != nil {
			return err
		}
		_, err := w.Write(buf.Bytes())
		return err
	}
	// The file without statements, split where they go: the fields before
	// them are strings, in which the quotes are escaped.
	head := *f
	head.Statements, head.from = []Statement{}, nil
	if err := enc.Encode(&head); err != nil {
		return err
	}
	const empty = `"statements":[]`
	cut := bytes.Index(buf.Bytes(), []byte(empty))
	if cut < 0 {
		return errors.New("report: no statements field in a file's JSON")
	}
	rest := append([]byte(nil), buf.Bytes()[cut+len(empty)-1:]...)
	if _, err := w.Write(buf.Bytes()[:cut+len(empty)-1]); err != nil {
		return err
	}
	buf.Reset()
	n := 0
	var err error
	f.eachStatement(func(s Statement) {
		if err != nil {
			return
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		if err = enc.Encode(&s); err == nil {
			buf.Truncate(buf.Len() - 1) // Encode's newline
		}
		if buf.Len() >= 64<<10 {
			_, err = w.Write(buf.Bytes())
			buf.Reset()
		}
	})
	if err != nil {
		return err
	}
	_, err = w.Write(append(buf.Bytes(), rest...))
	return err
}
