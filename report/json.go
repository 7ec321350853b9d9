package report

import (
	"bufio"
	"encoding/json"
	"io"
	"runtime"
	"sync"
)

// jsonBatch is how many files JSON encodes before writing them.
const jsonBatch = 256

// JSON writes the report: one JSON document whose files are written one
// per line, so large runs stream instead of being indented in memory. The
// files of a batch are encoded on all cores (appendFile), then written in
// order.
func JSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("{\"version\": 1,\n\"files\": [\n"); err != nil {
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	bufs := make([][]byte, workers)
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
		var wg sync.WaitGroup
		for i := range workers {
			part := batch[min(i*per, len(batch)):min((i+1)*per, len(batch))]
			first := lo + i*per
			wg.Go(func() {
				buf := bufs[i][:0]
				for j := range part {
					if first+j > 0 {
						buf = append(buf, ',')
					}
					buf = append(appendFile(buf, &part[j]), '\n')
				}
				bufs[i] = buf
			})
		}
		wg.Wait()
		for i := range workers {
			if _, err := bw.Write(bufs[i]); err != nil {
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

// writeFileJSON writes f and a newline, a few statements at a time.
func writeFileJSON(w *bufio.Writer, f *File) error {
	if f.from == nil {
		_, err := w.Write(append(appendFile(nil, f), '\n'))
		return err
	}
	b := appendFileHead(nil, f)
	b = append(b, '[')
	n := 0
	var err error
	f.eachStatement(func(s Statement) {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendStatement(b, &s)
		if len(b) >= 64<<10 && err == nil {
			_, err = w.Write(b)
			b = b[:0]
		}
	})
	if err != nil {
		return err
	}
	b = append(appendFileTail(append(b, ']'), f), '\n')
	_, err = w.Write(b)
	return err
}
