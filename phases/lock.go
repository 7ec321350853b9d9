package phases

// Lock is a PostgreSQL table lock mode, ordered from weakest to strongest.
type Lock int

const (
	NoLock Lock = iota
	AccessShare
	RowShare
	RowExclusive
	ShareUpdateExclusive
	Share
	ShareRowExclusive
	Exclusive
	AccessExclusive
)

var lockNames = [...]string{"", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
	"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}

func (l Lock) String() string { return lockNames[l] }

// ParseLock reads a lock mode name such as "ACCESS EXCLUSIVE".
func ParseLock(s string) Lock {
	for i, n := range lockNames {
		if n == s {
			return Lock(i)
		}
	}
	return NoLock
}

// BlocksReads reports whether the lock blocks plain SELECTs.
func (l Lock) BlocksReads() bool { return l == AccessExclusive }

// BlocksWrites reports whether the lock blocks INSERT, UPDATE and DELETE.
func (l Lock) BlocksWrites() bool { return l >= Share }
