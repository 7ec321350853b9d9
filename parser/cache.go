package parser

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v5"
	pgparser "github.com/pganalyze/pg_query_go/v5/parser"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// TreeCache keeps the parse trees of the texts PostgreSQL's parser was
// given, by the SHA-256 of the text, on disk between runs: CI lints the
// same older migrations on every pull request to rebuild the schema, and
// for those the parser is not called again. What is kept is what the
// parser handed back (parseTreeJSON's pruned trees, or its syntax error),
// so the statements are converted from it exactly as from a fresh parse.
//
// The cache is one file, written whole by Save: it keeps the entries used
// in one of the last cacheRuns runs that wrote it. It is tied to the build
// of bgmigrate that wrote it; an entry that does not read back (a damaged
// or truncated file) is parsed again.
type TreeCache struct {
	path string
	salt [sha256.Size]byte
	old  map[[sha256.Size]byte]cacheEntry // the entries read, by key

	mu      sync.Mutex
	used    map[[sha256.Size]byte][]byte // the entries this run used or added
	added   int
	Hits    int // texts found in the cache
	Misses  int // texts parsed (and added)
	Ignored int // entries that were found but did not read back
}

// cacheEntry is an entry read: its payload, and how many runs that wrote
// the file since have not used it.
type cacheEntry struct {
	payload []byte
	age     uint8
}

const (
	cacheFile  = "trees.bin"
	cacheMagic = "bgmigrate parse trees 1\n"
	// cacheRuns is how many runs an entry is kept for unused.
	cacheRuns = 8
)

// OpenTreeCache opens the cache in dir, which is created when missing. A
// cache file that is missing, unreadable, of another format or written by
// another build is started afresh.
func OpenTreeCache(dir string) (*TreeCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c := &TreeCache{
		path: filepath.Join(dir, cacheFile),
		salt: buildSalt(),
		old:  map[[sha256.Size]byte]cacheEntry{},
		used: map[[sha256.Size]byte][]byte{},
	}
	data, err := os.ReadFile(c.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c.read(data)
	return c, nil
}

// read indexes the entries of a cache file: after the magic line and the
// salt, each entry is its key, its age (a byte), its length (a varint),
// its payload and the CRC-32 of all those. Reading stops at the first
// entry that does not check out.
func (c *TreeCache) read(data []byte) {
	rest, ok := bytes.CutPrefix(data, []byte(cacheMagic))
	if !ok || len(rest) < len(c.salt) || !bytes.Equal(rest[:len(c.salt)], c.salt[:]) {
		return
	}
	rest = rest[len(c.salt):]
	for len(rest) > 0 {
		const head = sha256.Size + 1
		if len(rest) < head {
			return
		}
		var key [sha256.Size]byte
		copy(key[:], rest)
		n, m := protowire.ConsumeVarint(rest[head:])
		if m < 0 || n > uint64(len(rest)) {
			return
		}
		end := head + m + int(n)
		if end+4 > len(rest) || crc32.ChecksumIEEE(rest[:end]) != binary.LittleEndian.Uint32(rest[end:]) {
			return
		}
		c.old[key] = cacheEntry{payload: rest[head+m : end], age: rest[sha256.Size]}
		rest = rest[end+4:]
	}
}

// buildSalt identifies the build: entries written by another one (whose
// parser or pruning may differ) are not read. A build from a modified or
// unversioned tree is told by its executable's size and time.
func buildSalt() [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(cacheMagic))
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintln(h, bi.GoVersion, bi.Main.Path, bi.Main.Version)
		for _, d := range bi.Deps {
			fmt.Fprintln(h, d.Path, d.Version, d.Sum)
		}
		for _, s := range bi.Settings {
			fmt.Fprintln(h, s.Key, s.Value)
		}
		if v := bi.Main.Version; v == "" || v == "(devel)" || strings.HasSuffix(v, "+dirty") {
			if exe, err := os.Executable(); err == nil {
				if st, err := os.Stat(exe); err == nil {
					fmt.Fprintln(h, exe, st.Size(), st.ModTime().UnixNano())
				}
			}
		}
	}
	var salt [sha256.Size]byte
	h.Sum(salt[:0])
	return salt
}

// parse is parseTreeJSON through the cache.
func (c *TreeCache) parse(text string) ([]stmtTree, error) {
	key := sha256.Sum256([]byte(text))
	if e, ok := c.old[key]; ok {
		if trees, err, ok := decodeEntry(e.payload); ok {
			c.mu.Lock()
			c.used[key] = e.payload
			c.Hits++
			c.mu.Unlock()
			return trees, err
		}
		c.mu.Lock()
		c.Ignored++
		c.mu.Unlock()
	}
	trees, err := parseTreeJSON(text)
	payload, ok := encodeEntry(trees, err)
	c.mu.Lock()
	c.Misses++
	if ok {
		c.used[key] = payload
		c.added++
	}
	c.mu.Unlock()
	return trees, err
}

// Save writes the entries this run used or added, and those of the file
// it did not use that are young enough, unless the file would not change:
// it held just what this run used, all used by the run before.
func (c *TreeCache) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	same := c.added == 0 && len(c.used) == len(c.old)
	for _, e := range c.old {
		same = same && e.age == 0
	}
	if same {
		return nil
	}
	var out bytes.Buffer
	out.WriteString(cacheMagic)
	out.Write(c.salt[:])
	var entry []byte
	write := func(key [sha256.Size]byte, age uint8, payload []byte) {
		entry = append(entry[:0], key[:]...)
		entry = append(entry, age)
		entry = protowire.AppendVarint(entry, uint64(len(payload)))
		entry = append(entry, payload...)
		entry = binary.LittleEndian.AppendUint32(entry, crc32.ChecksumIEEE(entry))
		out.Write(entry)
	}
	for key, payload := range c.used {
		write(key, 0, payload)
	}
	for key, e := range c.old {
		if _, used := c.used[key]; !used && e.age+1 < cacheRuns {
			write(key, e.age+1, e.payload)
		}
	}
	// Written beside the file, then renamed over it: a run that reads it
	// meanwhile sees the old file or the new one, whole.
	tmp, err := os.CreateTemp(filepath.Dir(c.path), cacheFile+".*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	err = tmp.Chmod(0o644)
	if err == nil {
		_, err = tmp.Write(out.Bytes())
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// An entry's payload is either the trees (0, then their number and each
// one's location, length, calls and pruned Node as protobuf bytes) or
// PostgreSQL's syntax error (1, then its fields).
const (
	entryTrees = 0
	entryError = 1
)

// encodeEntry encodes what parseTreeJSON returned; false for an error
// that is not PostgreSQL's, which is not kept.
func encodeEntry(trees []stmtTree, err error) ([]byte, bool) {
	if err != nil {
		var pe *pgparser.Error
		if !errors.As(err, &pe) || pe != err {
			return nil, false
		}
		b := []byte{entryError}
		b = protowire.AppendString(b, pe.Message)
		b = protowire.AppendString(b, pe.Funcname)
		b = protowire.AppendString(b, pe.Filename)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(pe.Lineno)))
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(pe.Cursorpos)))
		b = protowire.AppendString(b, pe.Context)
		return b, true
	}
	b := []byte{entryTrees}
	b = protowire.AppendVarint(b, uint64(len(trees)))
	for _, t := range trees {
		node, err := proto.Marshal(t.node)
		if err != nil {
			return nil, false
		}
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(t.loc)))
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(t.len)))
		b = protowire.AppendVarint(b, uint64(len(t.calls)))
		for _, s := range t.calls {
			b = protowire.AppendString(b, s)
		}
		b = protowire.AppendBytes(b, node)
	}
	return b, true
}

// decodeEntry decodes a payload; false when it does not read back.
func decodeEntry(b []byte) (trees []stmtTree, perr error, ok bool) {
	r := entryReader{b: b}
	switch r.byte() {
	case entryError:
		pe := &pgparser.Error{Message: r.string(), Funcname: r.string(), Filename: r.string()}
		pe.Lineno, pe.Cursorpos = int(r.int()), int(r.int())
		pe.Context = r.string()
		return nil, pe, r.ok && len(r.b) == 0
	case entryTrees:
		n := r.uint()
		if n > uint64(len(b)) {
			return nil, nil, false
		}
		trees = make([]stmtTree, 0, n)
		for range n {
			t := stmtTree{loc: int(r.int()), len: int(r.int())}
			calls := r.uint()
			if calls > uint64(len(b)) {
				return nil, nil, false
			}
			for range calls {
				t.calls = append(t.calls, r.string())
			}
			t.node = &pg.Node{}
			if node := r.bytes(); !r.ok || proto.Unmarshal(node, t.node) != nil {
				return nil, nil, false
			}
			trees = append(trees, t)
		}
		return trees, nil, r.ok && len(r.b) == 0
	}
	return nil, nil, false
}

// entryReader reads a payload; ok turns false at the first value that
// does not read.
type entryReader struct {
	b  []byte
	ok bool
}

func (r *entryReader) byte() byte {
	if len(r.b) == 0 {
		r.ok = false
		return 0xff
	}
	c := r.b[0]
	r.b, r.ok = r.b[1:], true
	return c
}

func (r *entryReader) uint() uint64 {
	v, n := protowire.ConsumeVarint(r.b)
	if n < 0 {
		r.ok = false
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *entryReader) int() int64 { return protowire.DecodeZigZag(r.uint()) }

func (r *entryReader) bytes() []byte {
	v, n := protowire.ConsumeBytes(r.b)
	if n < 0 {
		r.ok = false
		return nil
	}
	r.b = r.b[n:]
	return v
}

func (r *entryReader) string() string { return string(r.bytes()) }
