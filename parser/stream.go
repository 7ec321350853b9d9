package parser

import (
	"sort"
)

// A streamed file (Options.Stream) is parsed in the background while its
// statements are read with Statement, a window of pieces at a time on all
// cores, and hands each window's statements over as soon as they are
// parsed: a reader that releases the statements it is done with
// (Release) keeps only a few windows' trees in memory, however large the
// file. The statements, directives and errors are those Parse gives.

// streamWindow is how many pieces a streamed file parses at once, per core.
const streamWindow = 2

// stream is the reader's side of a streamed file.
type stream struct {
	batches chan batch
	stop    chan struct{} // closed by Stop: the parser gives up
	errs    []*SyntaxError
	buf     []*Statement // the statements from base on, parsed and not released
	base    int
	ended   bool
}

// batch is what the parser hands over at once: statements and the
// directives among them, in file order.
type batch struct {
	stmts []*Statement
	dirs  []*Directive
}

// streamable reports whether f can be streamed: whether its transaction
// mode is known before its statements are (Flyway's depends on them).
func streamable(f *File) bool { return f.Format != FormatFlyway }

// startStream parses the regions of f in the background into a copy of
// f that hands its statements over (flush).
func (f *File) startStream(regions []region, scanned bool) {
	s := &stream{batches: make(chan batch, 1), stop: make(chan struct{})}
	f.stream = s
	pf := *f
	pf.stream, pf.out = nil, s
	go func() {
		defer close(s.batches)
		for _, r := range regions {
			if pf.stopped() {
				return
			}
			pf.parseRegion(r, scanned)
			pf.flush()
		}
		s.errs = pf.Errors
	}()
}

// stopped reports whether the reader of a streamed file gave up on it.
func (f *File) stopped() bool {
	if f.out == nil {
		return false
	}
	select {
	case <-f.out.stop:
		return true
	default:
		return false
	}
}

// flush hands the statements and directives parsed so far to the reader
// of a streamed file; it does nothing for others.
func (f *File) flush() {
	if f.out == nil || len(f.Statements) == 0 && len(f.Directives) == 0 {
		return
	}
	b := batch{f.Statements, f.Directives}
	f.Statements, f.Directives = nil, nil
	select {
	case f.out.batches <- b:
	case <-f.out.stop:
	}
}

// Streamed reports whether f is parsed in the background (Options.Stream):
// its statements are then read with Statement, not Statements.
func (f *File) Streamed() bool { return f.stream != nil }

// Statement returns the i-th top-level statement of the up part, nil past
// the last. For a streamed file it waits for the parser; the directives
// before the statement are then in Directives, and once it returns nil,
// Errors is complete too. i must not be below a released statement.
func (f *File) Statement(i int) *Statement {
	s := f.stream
	if s == nil {
		if i < len(f.Statements) {
			return f.Statements[i]
		}
		return nil
	}
	for i >= s.base+len(s.buf) && !s.ended {
		b, ok := <-s.batches
		if !ok {
			f.endStream()
			break
		}
		// A directive belongs to the first statement that starts after it
		// (attachDirectives): this batch's, or the next one's.
		count := s.base + len(s.buf)
		for _, d := range b.dirs {
			off := d.Span.End.Offset
			d.Stmt = count + sort.Search(len(b.stmts), func(j int) bool { return b.stmts[j].Span.Start.Offset >= off })
			d.header = d.Stmt == 0
		}
		f.Directives = append(f.Directives, b.dirs...)
		s.buf = append(s.buf, b.stmts...)
	}
	if i -= s.base; i >= 0 && i < len(s.buf) {
		return s.buf[i]
	}
	return nil
}

// endStream completes a streamed file once the parser is done.
func (f *File) endStream() {
	s := f.stream
	s.ended = true
	f.Errors = s.errs
	total := s.base + len(s.buf)
	for _, d := range f.Directives {
		if d.Stmt == total {
			d.Stmt, d.header = -1, false
		}
	}
	sort.SliceStable(f.Directives, func(i, j int) bool {
		return f.Directives[i].Span.Start.Offset < f.Directives[j].Span.Start.Offset
	})
}

// Release tells a streamed file that the statements before i are not
// asked for again, so that their trees can go. Other files ignore it.
func (f *File) Release(i int) {
	s := f.stream
	if s == nil || i <= s.base {
		return
	}
	n := min(i-s.base, len(s.buf))
	clear(s.buf[:n])
	s.buf = s.buf[n:]
	s.base += n
	if cap(s.buf) > 4*len(s.buf)+1024 {
		s.buf = append([]*Statement(nil), s.buf...) // let the released prefix go
	}
}

// Stop ends the parse of a streamed file that will not be read to its end.
func (f *File) Stop() {
	if s := f.stream; s != nil && !s.ended {
		close(s.stop)
		for range s.batches {
		}
		f.endStream()
	}
}
