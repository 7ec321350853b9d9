package report

import (
	"bufio"
	"bytes"
	"encoding/json"
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
