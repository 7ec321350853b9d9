// Package lint reads migrations, parses them in parallel and runs the rules
// over each migration set in order.
package lint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/rules"
)

// Options says what to lint and how.
type Options struct {
	Paths []string
	// Stdin, with StdinName, is linted when Paths is ["-"] ("-" more than
	// once is the same input; "-" beside other paths is an error).
	Stdin     io.Reader
	StdinName string
	// Format forces a migration tool format instead of detecting it.
	Format parser.Format
	Rules  rules.Config
	// ChangedSince, when set, lints only the migrations added or modified
	// since the merge base of this git ref and HEAD: they form the release
	// being deployed. The other files still build the schema.
	ChangedSince string
	// Exclude leaves out files for which it returns true.
	Exclude func(path string) bool
	// PerFile, when set, gives a file's tool format and PostgreSQL version
	// (a zero value keeps the run's); a set takes the version of its first
	// file.
	PerFile func(path string) (parser.Format, int)
	// Prepare, when set, is called on each parsed file before the rules
	// run (the migration runner sets the transaction handling it uses).
	Prepare func(f *parser.File)
	// KeepTrees keeps the statements' syntax trees in the result, for a
	// caller that goes on to run the statements.
	KeepTrees bool
	// Sums fills Result.Sums with each file's SHA-256.
	Sums bool
	// CacheDir, when set, keeps the parse trees in this directory between
	// runs (parser.TreeCache): unchanged migrations are not parsed again.
	CacheDir string
	// TuneGC sets the garbage collector's pace for the run (gcPaceSmall,
	// gcPaceLarge) and, once a streamed file is read, a soft memory limit
	// (streamLimit) that stays set after Run, for a process that does
	// nothing else meanwhile.
	TuneGC bool
}

// Parsing allocates many short-lived trees. While the files are small the
// live heap is too (a set's trees go once its rules ran), and collecting
// at four times the live heap rather than twice saves a tenth of a corpus
// run for 15 MB; once a file of ownAbove bytes or more is read, its trees
// are most of the heap, and collecting at twice it keeps the peak down.
//
// A streamed file's trees go as the rules are done with them; what stays
// is its text, a summary of each statement and the replayed schema. The
// pace alone would let the heap grow to twice that and the garbage of the
// parse, so a soft memory limit of streamLimit plus the largest streamed
// file's size is set as well: the collector runs more often near it, and
// should the data that stays outgrow it, the runtime bounds the time it
// spends collecting (about half the processor at most).
const (
	gcPaceSmall = 400
	gcPaceLarge = 100
	streamLimit = 256 << 20
)

// Result is the outcome of a lint run, files in set order. Its files keep
// their statements' summaries (FileResult.Top); the statements
// (FileResult.Stmts) and their syntax trees (Statement.Node) only with
// Options.KeepTrees.
type Result struct {
	Files []*rules.FileResult
	// Sums are the hex SHA-256 of each file's content, by path (with
	// Options.Sums).
	Sums map[string]string
}

// Count returns the number of unsuppressed findings at or above sev.
func (r *Result) Count(sev rules.Severity) int {
	n := 0
	for _, f := range r.Files {
		for _, fd := range f.Findings {
			if fd.Suppressed == nil && fd.Severity >= sev {
				n++
			}
		}
	}
	return n
}

// Run lints the migrations named by opts.
func Run(ctx context.Context, opts Options) (*Result, error) {
	runner, err := rules.NewRunner(opts.Rules)
	if err != nil {
		return nil, err
	}
	runners := map[int]*rules.Runner{0: runner}
	runnerFor := func(s *parser.Set) (*rules.Runner, error) {
		if opts.PerFile == nil || len(s.Files) == 0 {
			return runner, nil
		}
		_, v := opts.PerFile(s.Files[0])
		if r, ok := runners[v]; ok {
			return r, nil
		}
		cfg := opts.Rules
		cfg.PGVersion = v
		r, err := rules.NewRunner(cfg)
		runners[v] = r
		return r, err
	}
	stdin, err := readsStdin(opts.Paths)
	if err != nil {
		return nil, err
	}
	var cache *parser.TreeCache
	if opts.CacheDir != "" {
		if cache, err = parser.OpenTreeCache(opts.CacheDir); err != nil {
			return nil, err
		}
	}
	res, err := run(ctx, opts, runner, runnerFor, stdin, cache)
	if err == nil && cache != nil {
		err = cache.Save()
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// run lints, once Run has the rule runners and the cache (nil: none).
func run(ctx context.Context, opts Options, runner *rules.Runner, runnerFor func(*parser.Set) (*rules.Runner, error), stdin bool, cache *parser.TreeCache) (*Result, error) {
	if stdin {
		if opts.Stdin == nil {
			return nil, errors.New("- (standard input) given, but there is no standard input")
		}
		data, err := readAtMost(opts.Stdin, 0)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		name := opts.StdinName
		if name == "" {
			name = "stdin.sql"
		}
		stream := streams(opts, len(data))
		if stream && opts.TuneGC {
			debug.SetMemoryLimit(int64(streamLimit + len(data)))
		}
		f := parser.Parse(name, data, parser.Options{Format: opts.Format, Cache: cache, Owned: true, Stream: stream})
		return &Result{Files: runner.RunSet([]*parser.File{f})}, nil
	}
	sets, err := parser.Collect(opts.Paths)
	if err != nil {
		return nil, err
	}
	if opts.Exclude != nil {
		sets = excluded(sets, opts.Exclude)
	}
	var changes *Changes
	if opts.ChangedSince != "" {
		if changes, err = GitChanges(ctx, ".", opts.ChangedSince); err != nil {
			return nil, err
		}
		sets = touched(sets, changes)
	}
	// Parse every file on all cores; each set is then linted in order as
	// soon as its files are parsed.
	type job struct {
		set, idx int
		path     string
	}
	parsed := make([][]*parser.File, len(sets))
	errs := make([][]error, len(sets))
	sums := make([][]string, len(sets))
	var jobs []job
	for si, s := range sets {
		parsed[si] = make([]*parser.File, len(s.Files))
		errs[si] = make([]error, len(s.Files))
		sums[si] = make([]string, len(s.Files))
		for fi, p := range s.Files {
			jobs = append(jobs, job{si, fi, p})
		}
	}
	setDone := make([]chan struct{}, len(sets))
	remaining := make([]int, len(sets))
	for i := range sets {
		setDone[i] = make(chan struct{})
		remaining[i] = len(sets[i].Files)
	}
	var large sync.Once
	var limit struct {
		sync.Mutex
		size int // the largest streamed file's
	}
	if opts.TuneGC {
		// The memory limit stays once Run returns: the report that
		// follows lists each statement of the streamed files.
		defer debug.SetGCPercent(debug.SetGCPercent(gcPaceSmall))
	}
	var mu sync.Mutex
	work := make(chan job)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte // reused from file to file: Parse copies what it keeps
			for j := range work {
				data, err := readFile(j.path, buf)
				if err != nil {
					errs[j.set][j.idx] = fmt.Errorf("read %s: %w", j.path, err)
				} else {
					o := parser.SideOptions(j.path)
					o.Format, o.Cache = opts.Format, cache
					if opts.PerFile != nil && (o.Format == "" || o.Format == parser.FormatAuto) {
						o.Format, _ = opts.PerFile(j.path)
					}
					if opts.Sums {
						sum := sha256.Sum256(data)
						sums[j.set][j.idx] = hex.EncodeToString(sum[:])
					}
					// A large file is handed over rather than copied; the
					// buffer of a small one is read into again.
					o.Owned = len(data) >= ownAbove
					o.Stream = streams(opts, len(data))
					if o.Owned && opts.TuneGC {
						large.Do(func() { debug.SetGCPercent(gcPaceLarge) })
					}
					if o.Stream && opts.TuneGC {
						limit.Lock()
						if len(data) > limit.size {
							limit.size = len(data)
							debug.SetMemoryLimit(int64(streamLimit + limit.size))
						}
						limit.Unlock()
					}
					f := parser.Parse(j.path, data, o)
					if opts.Prepare != nil {
						opts.Prepare(f)
					}
					parsed[j.set][j.idx] = f
					if buf = data; o.Owned {
						buf = nil
					}
				}
				mu.Lock()
				remaining[j.set]--
				if remaining[j.set] == 0 {
					close(setDone[j.set])
				}
				mu.Unlock()
			}
		}()
	}
	go func() {
		defer close(work)
		for _, j := range jobs {
			select {
			case work <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	res := &Result{}
	if opts.Sums {
		res.Sums = map[string]string{}
	}
	var firstErr error
	for si := range sets {
		select {
		case <-setDone[si]:
		case <-ctx.Done():
			wg.Wait()
			for _, files := range parsed[si:] {
				stop(files)
			}
			return nil, ctx.Err()
		}
		for _, e := range errs[si] {
			if e != nil && firstErr == nil {
				firstErr = e
			}
		}
		if firstErr != nil {
			stop(parsed[si])
			continue
		}
		r, err := runnerFor(sets[si])
		if err != nil {
			firstErr = err
			stop(parsed[si])
			continue
		}
		for fi, p := range sets[si].Files {
			if res.Sums != nil {
				res.Sums[p] = sums[si][fi]
			}
		}
		before := len(res.Files)
		if changes != nil {
			res.Files = append(res.Files, r.RunRelease(parsed[si], releaseInfos(sets[si], changes))...)
		} else {
			res.Files = append(res.Files, r.RunSet(parsed[si])...)
		}
		// The reports need the statements' summaries only: dropping the
		// rest once the rules ran keeps a large run's memory (and page
		// faults) down.
		if !opts.KeepTrees {
			for _, fr := range res.Files[before:] {
				fr.Stmts = nil
				for _, st := range fr.File.Statements {
					st.Node = nil
				}
			}
		}
		parsed[si] = nil
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return res, nil
}

// streamAbove is the size from which a file is parsed as the rules go
// (parser.Options.Stream), unless its trees are kept or prepared: its
// statements' trees are then let go a few pieces after they are parsed.
var streamAbove = ownAbove

func streams(opts Options, size int) bool {
	return size >= streamAbove && !opts.KeepTrees && opts.Prepare == nil
}

// stop ends the parse of the streamed files of a set that is not linted.
func stop(files []*parser.File) {
	for _, f := range files {
		if f != nil {
			f.Stop()
		}
	}
}

// ownAbove is the size from which a file's content is handed to the
// parser without a copy.
const ownAbove = 1 << 20

// readsStdin reports whether paths name standard input: "-", once or more
// (the same input each time, read and linted once). "-" beside other paths
// is refused: standard input has no directory, so no set to be replayed in.
func readsStdin(paths []string) (bool, error) {
	n := 0
	for _, p := range paths {
		if p == "-" {
			n++
		}
	}
	if n > 0 && n < len(paths) {
		return false, errors.New("- (standard input) cannot be mixed with paths")
	}
	return n > 0, nil
}

// readAtMost reads r to its end, or its first size bytes when size is
// more than 0 (the size a file had when opened, so that one growing while
// it is read ends). More than parser.MaxInput bytes are refused: standard
// input fed from /dev/zero would never end.
func readAtMost(r io.Reader, size int64) ([]byte, error) {
	if size > parser.MaxInput {
		return nil, &parser.TooLargeError{}
	}
	limit := size
	if size <= 0 {
		limit = parser.MaxInput + 1
	}
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return nil, err
	}
	if len(data) > parser.MaxInput {
		return nil, &parser.TooLargeError{}
	}
	return data, nil
}

func excluded(sets []*parser.Set, exclude func(string) bool) []*parser.Set {
	var out []*parser.Set
	for _, s := range sets {
		kept := &parser.Set{Dir: s.Dir}
		for _, f := range s.Files {
			if !exclude(f) {
				kept.Files = append(kept.Files, f)
			}
		}
		if len(kept.Files) > 0 {
			out = append(out, kept)
		}
	}
	return out
}

// touched keeps the sets that hold a changed file.
func touched(sets []*parser.Set, c *Changes) []*parser.Set {
	var out []*parser.Set
	for _, s := range sets {
		for _, f := range s.Files {
			if abs := absPath(f); c.Added[abs] || c.Modified[abs] {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

func releaseInfos(s *parser.Set, c *Changes) []rules.FileInfo {
	infos := make([]rules.FileInfo, len(s.Files))
	for i, f := range s.Files {
		abs := absPath(f)
		infos[i] = rules.FileInfo{InRelease: c.Added[abs], Modified: c.Modified[abs], Report: c.Added[abs] || c.Modified[abs]}
	}
	return infos
}

func absPath(p string) string {
	abs, err := filepath.Abs(filepath.FromSlash(p))
	if err != nil {
		return p
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}
